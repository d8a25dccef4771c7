-- Key dates (重要节点) and the bookkeeping of the campaigns around them.
-- Portable SQL: TEXT UTC ISO-8601 timestamps, ISO dates ('2026-12-05'), INTEGER 0/1 booleans.

-- ---------------------------------------------------------------------------------------------
-- The calendar of key dates (bot.domain.keydates.KeyDate). code is a short ASCII word: it travels
-- in callback data and is what activities.key_date stores. Administrators add, rename, move and
-- disable dates; built-in ones are never deleted, only disabled (activities keep their tag).
-- is_lunar = 1: month/day of the Chinese lunar calendar (leap months never), else Gregorian.
CREATE TABLE key_dates (
    code TEXT NOT NULL PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    day INTEGER NOT NULL CHECK (day BETWEEN 1 AND 31),
    is_lunar INTEGER NOT NULL DEFAULT 0 CHECK (is_lunar IN (0, 1)),
    is_enabled INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
    builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (is_lunar = 0 OR day <= 30)
);

INSERT INTO key_dates (code, name_zh, name_en, month, day, is_lunar, builtin, created_at, updated_at)
VALUES
    ('lei_feng', '学雷锋纪念日', 'Learn from Lei Feng Day', 3, 5, 0, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('youth_day', '五四青年节', 'May Fourth Youth Day', 5, 4, 0, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('party_day', '建党节', 'Party Founding Day', 7, 1, 0, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('national_day', '国庆节', 'National Day', 10, 1, 0, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('intl_volunteer_day', '国际志愿者日', 'International Volunteer Day', 12, 5, 0, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('spring_festival', '春节', 'Spring Festival', 1, 1, 1, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('mid_autumn', '中秋节', 'Mid-Autumn Festival', 8, 15, 1, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00'),
    ('double_ninth', '重阳节（敬老）', 'Double Ninth Festival (honouring elders)', 9, 9, 1, 1,
        '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');

-- ---------------------------------------------------------------------------------------------
-- One row per mass sending the planner has started: a heads-up to organizers, a campaign stage
-- (7 / 1 days before), the greeting on the day, a weekly digest. run_key names it, e.g.
-- 'campaign:intl_volunteer_day:2026-12-05:7d'; it is also the outbox batch_key of its rows.
-- Planning walks the audience in chunks by ascending id (cursor = the last id planned), one short
-- transaction per chunk, so 10,000 volunteers never hold one long write lock; a crash resumes
-- from the cursor, and the outbox dedup keys make a repeated chunk harmless.
CREATE TABLE campaign_runs (
    run_key TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    key_date TEXT,
    occurs_on TEXT,
    due_at TEXT NOT NULL,
    cursor INTEGER NOT NULL DEFAULT 0,
    planned INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
-- Unfinished runs (normally none or one).
CREATE INDEX campaign_runs_open_idx ON campaign_runs (finished_at, run_key);

-- ---------------------------------------------------------------------------------------------
-- An administrator's key date being added or edited (the conversation's state survives
-- restarts). code NULL: a new key date. field: what is being typed next.
CREATE TABLE key_date_drafts (
    telegram_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    code TEXT,
    field TEXT NOT NULL,
    name_zh TEXT,
    name_en TEXT,
    updated_at TEXT NOT NULL
);

-- Campaign candidates: activities tagged with a key date.
CREATE INDEX activities_key_date_idx ON activities (key_date, status, starts_at)
    WHERE key_date IS NOT NULL;
-- The weekly digest: activities published in the past week.
CREATE INDEX activities_published_idx ON activities (status, published_at);
