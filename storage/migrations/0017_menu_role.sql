-- The command menu last published to a user's private chat (volunteer, organizer or
-- administrator): compared with what they may do now on their next command, so the menu follows
-- a change of role (an approved application, an appointment, a removal) without depending on
-- which command they happened to use first. NULL: the default (volunteer) menu.
ALTER TABLE users ADD COLUMN menu_role TEXT
    CHECK (menu_role IS NULL OR menu_role IN ('volunteer', 'organizer', 'admin'));
