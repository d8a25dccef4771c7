-- The notification outbox: every message the bot sends on its own initiative (a waitlist offer,
-- a reminder, a campaign ...) is first a row here, written in the same transaction as the change
-- that causes it. A repeating job claims due rows with a lease and delivers them, so a crash
-- loses nothing (an expired lease makes the row due again: at-least-once delivery).
--   dedup_key: unique per (kind, recipient, subject), so planning twice never sends twice;
--   payload:   JSON of the ids the message is about (rendered at send time, in the recipient's
--              language, and dropped when it has gone stale);
--   status:    pending → sent | dropped (stale, unreachable) | failed (gave up after retries).
CREATE TABLE outbox (
    notification_id INTEGER PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    telegram_id BIGINT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    due_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'dropped', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
-- The delivery scan: pending rows by due time.
CREATE INDEX outbox_due_idx ON outbox (status, due_at);
-- Dropping a recipient's pending rows when they block the bot.
CREATE INDEX outbox_recipient_idx ON outbox (telegram_id, status);
