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
