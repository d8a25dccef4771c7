-- Event reminders and the "Still coming?" question (issue 6).
-- The reminders themselves are outbox rows (kind 'reminder', one per sign-up, offset and start
-- time); these columns keep the volunteer's answer, which the organizer's roster shows:
--   still_coming:          'yes' or 'no' once answered, NULL otherwise;
--   still_coming_asked_at: when the "Still coming?" reminder was sent (NULL = not asked yet).
-- "No answer" on the roster = asked and still_coming still NULL. Both are reset when the
-- sign-up is confirmed again (re-joining, accepting an offer) or the start time changes.
ALTER TABLE signups ADD COLUMN still_coming TEXT CHECK (still_coming IN ('yes', 'no'));
ALTER TABLE signups ADD COLUMN still_coming_asked_at TEXT;
