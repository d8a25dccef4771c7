-- Administrator broadcasts (issue 6, "Admin broadcast"): one announcement to many volunteers.
-- Portable SQL: TEXT UTC ISO-8601 timestamps (storage.timeutil), INTEGER 0/1 booleans.
--
-- A broadcast's messages are outbox rows (kind 'broadcast', batch_key 'broadcast:<id>'), so the
-- progress screen counts them there and "cancel the rest" drops the pending ones. Recipients are
-- queued in chunks, one transaction each, so a 100,000-recipient broadcast never holds the write
-- lock for long; `queued_through` is the last Telegram id queued (the resume point after a crash;
-- the outbox's dedup key makes a repeated chunk harmless).
--   status: queuing  → recipients are being written to the outbox
--           queued   → every recipient has a row; delivery does the rest
--           cancelled → the admin stopped it; pending rows were dropped, stragglers render stale
CREATE TABLE broadcasts (
    broadcast_id INTEGER PRIMARY KEY,
    -- The administrator; NULL once their account is deleted (the announcement itself stays).
    created_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    text TEXT NOT NULL,
    audience_kind TEXT NOT NULL CHECK (audience_kind IN ('all', 'area', 'category')),
    -- The area or service-category code; NULL for everyone.
    audience_code TEXT,
    status TEXT NOT NULL DEFAULT 'queuing' CHECK (status IN ('queuing', 'queued', 'cancelled')),
    recipients INTEGER NOT NULL DEFAULT 0,
    queued_through BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    queued_at TEXT,
    cancelled_at TEXT,
    cancelled_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    CHECK ((audience_kind = 'all') = (audience_code IS NULL))
);
-- "The last 10 broadcasts" on the progress screen.
CREATE INDEX broadcasts_created_idx ON broadcasts (created_at);

-- The broadcast an administrator is composing (one per admin), so a restart mid-way keeps it.
CREATE TABLE broadcast_drafts (
    telegram_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    text TEXT,
    audience_kind TEXT CHECK (audience_kind IN ('all', 'area', 'category')),
    audience_code TEXT,
    updated_at TEXT NOT NULL
);
