-- Everyone who ever wrote to the bot: one row per Telegram account.
-- Portable SQL (SQLite now, PostgreSQL later): BIGINT ids, TEXT UTC ISO-8601 timestamps,
-- INTEGER 0/1 booleans.
CREATE TABLE users (
    -- NOT NULL spelled out: in SQLite a non-INTEGER primary key would otherwise accept NULL.
    telegram_id BIGINT NOT NULL PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT,
    username TEXT,
    -- The user's explicit choice; NULL means "derive it from telegram_language_code".
    language TEXT CHECK (language IN ('zh', 'en')),
    telegram_language_code TEXT,
    role TEXT NOT NULL DEFAULT 'volunteer' CHECK (role IN ('volunteer', 'organizer', 'admin')),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    -- 0 once Telegram answered 403 (the user blocked the bot); back to 1 when they write again.
    is_reachable INTEGER NOT NULL DEFAULT 1 CHECK (is_reachable IN (0, 1)),
    blocked_at TEXT
);

-- "Who are the admins / organizers" (notify admins, list staff). Almost everyone is a
-- volunteer, so a partial index keeps only the few staff rows (partial indexes exist in
-- PostgreSQL too).
CREATE INDEX users_staff_role_idx ON users (role) WHERE role <> 'volunteer';
