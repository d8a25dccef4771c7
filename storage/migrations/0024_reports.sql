-- Reports (issue #18): what organizers add after an activity for the 活动开展情况统计表 (people
-- served, money and materials, media reports), the campaign periods during which the table goes
-- out every Friday, and an index that makes the roll-up of service records a covering scan.
-- Portable SQL as in 0019: TEXT UTC timestamps, INTEGER 0/1 booleans, money as INTEGER fen.

-- ---------------------------------------------------------------------------------------------
-- One row per activity once an organizer recorded (or confirmed there is nothing to record):
-- a missing row is what the reminders look for.
--   organizations: 参与志愿服务组织数量 (the host counts; partners add to it);
--   funds_fen:     投入资金及物料, in fen (1 元 = 100 fen), never a float.
CREATE TABLE activity_figures (
    activity_id INTEGER PRIMARY KEY REFERENCES activities (activity_id) ON DELETE CASCADE,
    organizations INTEGER NOT NULL DEFAULT 1 CHECK (organizations BETWEEN 1 AND 1000),
    funds_fen INTEGER NOT NULL DEFAULT 0 CHECK (funds_fen BETWEEN 0 AND 100000000000),
    recorded_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- 覆盖人群: how many people of each kind (bot.domain.activities.PeopleServed) were served.
CREATE TABLE activity_people_counts (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    people_code TEXT NOT NULL,
    served INTEGER NOT NULL CHECK (served BETWEEN 1 AND 10000000),
    PRIMARY KEY (activity_id, people_code)
);

-- 媒体宣传情况: one row per report. paper reports name the paper (title) and may have no link;
-- the others carry an http(s) link. reads: 阅读数, when known.
CREATE TABLE media_reports (
    media_id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('paper', 'web', 'wechat', 'video', 'other')),
    title TEXT,
    url TEXT,
    reads INTEGER CHECK (reads BETWEEN 0 AND 1000000000),
    added_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    added_at TEXT NOT NULL,
    CHECK (kind = 'paper' OR url IS NOT NULL),
    CHECK (title IS NOT NULL OR url IS NOT NULL)
);
CREATE INDEX media_reports_activity_idx ON media_reports (activity_id, media_id);

-- ---------------------------------------------------------------------------------------------
-- Campaign periods, tied to a key date: from days_before the key date's day to days_after it
-- (so a lunar date moves with its year). During a period the statistics table goes out every
-- REPORT_WEEKDAY. Administrators edit them (/periods).
CREATE TABLE campaign_periods (
    key_date_code TEXT NOT NULL PRIMARY KEY REFERENCES key_dates (code) ON DELETE CASCADE,
    days_before INTEGER NOT NULL CHECK (days_before BETWEEN 0 AND 180),
    days_after INTEGER NOT NULL CHECK (days_after BETWEEN 0 AND 180),
    is_enabled INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
    updated_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);
-- 学雷锋全民志愿服务行动月: all of March (3·5 minus 4 days to plus 26); 国际志愿者日: the week
-- around 12·5.
INSERT INTO campaign_periods (key_date_code, days_before, days_after, updated_at) VALUES
    ('lei_feng', 4, 26, '2026-01-01T00:00:00+00:00'),
    ('intl_volunteer_day', 3, 3, '2026-01-01T00:00:00+00:00');

-- ---------------------------------------------------------------------------------------------
-- The roll-up sums records per activity: (activity_id, kind, minutes) answers it from the index
-- alone (bench/reports.py: 1M records).
CREATE INDEX service_records_activity_sum_idx ON service_records (activity_id, kind, minutes);
-- Activities of a period, federation-wide or by district.
CREATE INDEX activities_start_area_idx ON activities (starts_at, area_code);
