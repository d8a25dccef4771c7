-- Recruiting: organizers invite matching volunteers; under-staffed alerts to organizers.
-- (bot.domain.recruiting, storage.recruiting)

-- One invitation per volunteer and activity. A volunteer who did not answer may be invited to
-- the same activity again once the cool-down has passed: the row is then refreshed in place
-- (invited_at, invited_by), so the UNIQUE key also keeps a double press idempotent.
--   response: NULL (no answer yet), 'declined' ("Not interested", remembered: never invited to
--             this activity again) or 'signed_up' (signed up or joined the waitlist).
CREATE TABLE invitations (
    invitation_id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    -- The organizer who pressed "Invite" (a Telegram id; NULL once their account is deleted).
    invited_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    invited_at TEXT NOT NULL,
    response TEXT CHECK (response IN ('declined', 'signed_up')),
    responded_at TEXT,
    UNIQUE (activity_id, volunteer_id),
    CHECK ((response IS NULL) = (responded_at IS NULL))
);
-- "Invited (to anything) in the last 7 days": the cool-down check per volunteer.
CREATE INDEX invitations_volunteer_idx ON invitations (volunteer_id, invited_at);
-- "Invited today" for an activity's daily cap (the UNIQUE key serves per-pair lookups).
CREATE INDEX invitations_activity_idx ON invitations (activity_id, invited_at);

-- Under-staffed alerts already queued, one per activity and start time: the repeating check
-- reads only activities without a row here, and a moved activity (new start) is checked anew.
CREATE TABLE understaffed_alerts (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    starts_at TEXT NOT NULL,
    alerted_at TEXT NOT NULL,
    PRIMARY KEY (activity_id, starts_at)
);
