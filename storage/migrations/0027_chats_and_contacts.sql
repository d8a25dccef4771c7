-- Chat types and contact details (issue #15).
--
-- The bot serves private chats only; in a group it answers a command with one short hint that
-- it works in private, at most once per chat and time window (handlers.chat_types). The claim
-- is one conditional upsert, so two processes handling the same group never both hint.
--   hinted_at: when the chat was last given the hint (TEXT UTC ISO-8601).
CREATE TABLE chat_hints (
    chat_id BIGINT PRIMARY KEY,
    hinted_at TEXT NOT NULL
);

-- Contact details as promised (issue #15 item 6). The consent text says only the organizers of
-- the activities a volunteer signs up for see their contact details: administrators who are
-- not members of the activity's organization see masked phone numbers, and revealing one takes
-- a reason, recorded here and shown to the volunteer in their data export.
--   viewer_telegram_id: who revealed it (no foreign key: the record outlives their account);
--   activity_id:        on which activity's roster.
CREATE TABLE contact_reveals (
    reveal_id INTEGER PRIMARY KEY,
    viewer_telegram_id BIGINT NOT NULL,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    activity_id INTEGER REFERENCES activities (activity_id) ON DELETE SET NULL,
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    revealed_at TEXT NOT NULL
);
CREATE INDEX contact_reveals_volunteer_idx ON contact_reveals (volunteer_id, revealed_at);
