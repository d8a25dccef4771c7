-- Managing activities: organizers' messages to participants, and half-typed management steps.
-- No index is added for the roster: EXPLAIN QUERY PLAN shows it searching signups by
-- activity_id (the UNIQUE (activity_id, volunteer_id) index of migration 0004) and sorting only
-- that activity's rows; an organization's list searches activities_organization_idx.

-- "Message participants": the text is stored once; each recipient's outbox row (kind
-- 'organizer_message', batch_key 'orgmsg:<activity_id>:<message_id>') refers to it by id, so a
-- 500-person roster does not copy the text 500 times and the batch can be counted or stopped.
CREATE TABLE organizer_messages (
    message_id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id),
    sent_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    audience TEXT NOT NULL CHECK (audience IN ('confirmed', 'everyone')),
    body TEXT NOT NULL,
    recipients INTEGER NOT NULL CHECK (recipients >= 0),
    created_at TEXT NOT NULL
);
CREATE INDEX organizer_messages_activity_idx ON organizer_messages (activity_id, created_at);

-- What an organizer is typing right now (a cancellation reason, a message and its audience,
-- a new date for a copy), one row per organizer, so a restart mid-step loses nothing.
-- Deleting the user deletes the row (it may hold a half-written message).
CREATE TABLE manage_drafts (
    telegram_id BIGINT PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('cancel', 'message', 'duplicate')),
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    body TEXT,
    audience TEXT CHECK (audience IN ('confirmed', 'everyone')),
    updated_at TEXT NOT NULL
);
