-- Emergency mobilization (应急动员, issue #20): the on-call pool, the organizations allowed to
-- mobilize, mobilizations with their needs, the alerts sent in waves and the answers, and the
-- coordinator's updates. Portable SQL as in 0004: TEXT UTC timestamps, INTEGER 0/1 booleans,
-- REAL coordinates, decisions guarded in the statements (UNIQUE + ON CONFLICT, conditional
-- UPDATEs on a version or a wave number).

-- ---------------------------------------------------------------------------------------------
-- The on-call pool: volunteers who opted in from /profile. One row per volunteer; leaving the
-- pool keeps the row (is_on_call = 0) so coming back restores the answers.
--   skills:      codes of bot.domain.emergency.EmergencySkill, in emergency_pool_skills;
--   availability: any | day | night (day = 08:00–20:00 local time);
--   max_km:      how far the volunteer would travel;
--   latitude/longitude: where they usually are (a shared pin, optional); without it the
--                district's centre (emergency_district_centres) stands in for distances.
CREATE TABLE emergency_pool (
    volunteer_id INTEGER PRIMARY KEY REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    is_on_call INTEGER NOT NULL DEFAULT 1 CHECK (is_on_call IN (0, 1)),
    area_code TEXT REFERENCES areas (code),
    availability TEXT NOT NULL DEFAULT 'any' CHECK (availability IN ('any', 'day', 'night')),
    max_km INTEGER NOT NULL DEFAULT 10 CHECK (max_km BETWEEN 1 AND 500),
    latitude REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL CHECK (longitude BETWEEN -180 AND 180),
    joined_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- "Who is on call" (every wave reads the whole pool of the matching skills).
CREATE INDEX emergency_pool_on_call_idx ON emergency_pool (is_on_call, volunteer_id);

CREATE TABLE emergency_pool_skills (
    volunteer_id INTEGER NOT NULL REFERENCES emergency_pool (volunteer_id) ON DELETE CASCADE,
    skill TEXT NOT NULL CHECK (skill IN (
        'first_aid', 'rescue', 'driving', 'medical', 'logistics', 'counselling', 'communications'
    )),
    PRIMARY KEY (volunteer_id, skill)
);
CREATE INDEX emergency_pool_skills_skill_idx ON emergency_pool_skills (skill, volunteer_id);

-- The centre of each district, for on-call volunteers who shared no pin. Seeded for 长沙市 like
-- the districts themselves (0003); a deployment elsewhere replaces the rows with its districts.
CREATE TABLE emergency_district_centres (
    area_code TEXT NOT NULL PRIMARY KEY REFERENCES areas (code),
    latitude REAL NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL NOT NULL CHECK (longitude BETWEEN -180 AND 180)
);
INSERT INTO emergency_district_centres (area_code, latitude, longitude) VALUES
    ('furong', 28.1932, 113.0329),
    ('tianxin', 28.1143, 112.9899),
    ('yuelu', 28.2351, 112.9311),
    ('kaifu', 28.2558, 113.0086),
    ('yuhua', 28.1357, 113.0359),
    ('wangcheng', 28.3475, 112.8196),
    ('changsha_county', 28.2468, 113.0807),
    ('liuyang', 28.1634, 113.6434),
    ('ningxiang', 28.2779, 112.5519);

-- ---------------------------------------------------------------------------------------------
-- Organizations an administrator allowed to mobilize (their organizers may start one).
CREATE TABLE emergency_organizations (
    organization_id INTEGER NOT NULL PRIMARY KEY
        REFERENCES organizations (organization_id) ON DELETE CASCADE,
    granted_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    granted_at TEXT NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- A mobilization. It starts as the coordinator's draft (status 'draft', edited on one screen;
-- version counts the edits so "Start" acts on the draft the coordinator saw), becomes 'active'
-- when started — which creates its activity (check-in, attendance and the hours review of the
-- service records work on it) and sends the first wave — and ends 'stood_down'.
--   rally_at:        when people should be at the rally point;
--   wave / radius_km / next_wave_at: the last wave sent and when the next one may go out;
--                    a wave is claimed by a conditional UPDATE on wave, so two processes never
--                    send the same wave; waves_done = 1 once the pool within reach is exhausted;
--   answers_version: bumped by every answer; shown_version is the one the coordinator's
--                    message (chat_id/message_id) shows, edited_at when it was last edited:
--                    an edit is claimed by a conditional UPDATE, at most one per couple of
--                    seconds, and only by the process that claims it.
CREATE TABLE mobilizations (
    mobilization_id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (organization_id),
    created_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'stood_down')),
    version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),
    title TEXT NOT NULL DEFAULT '',
    rally_text TEXT NOT NULL DEFAULT '',
    latitude REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL CHECK (longitude BETWEEN -180 AND 180),
    rally_in_minutes INTEGER NOT NULL DEFAULT 0 CHECK (rally_in_minutes BETWEEN 0 AND 1440),
    is_drill INTEGER NOT NULL DEFAULT 1 CHECK (is_drill IN (0, 1)),
    activity_id INTEGER REFERENCES activities (activity_id) ON DELETE SET NULL,
    started_at TEXT,
    rally_at TEXT,
    ended_at TEXT,
    wave INTEGER NOT NULL DEFAULT 0 CHECK (wave >= 0),
    radius_km REAL NOT NULL DEFAULT 0 CHECK (radius_km >= 0),
    next_wave_at TEXT,
    waves_done INTEGER NOT NULL DEFAULT 0 CHECK (waves_done IN (0, 1)),
    answers_version INTEGER NOT NULL DEFAULT 0 CHECK (answers_version >= 0),
    shown_version INTEGER NOT NULL DEFAULT 0 CHECK (shown_version >= 0),
    chat_id BIGINT,
    message_id BIGINT,
    edited_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CHECK (status = 'draft' OR (started_at IS NOT NULL AND latitude IS NOT NULL)),
    CHECK ((status = 'stood_down') = (ended_at IS NOT NULL))
);
-- The wave job and the edit job look at active mobilizations only.
CREATE INDEX mobilizations_status_idx ON mobilizations (status, next_wave_at);
CREATE INDEX mobilizations_creator_idx ON mobilizations (created_by, status);

-- How many people with which skill ('any': anyone in the pool).
CREATE TABLE mobilization_needs (
    mobilization_id INTEGER NOT NULL REFERENCES mobilizations (mobilization_id) ON DELETE CASCADE,
    skill TEXT NOT NULL CHECK (skill IN (
        'any', 'first_aid', 'rescue', 'driving', 'medical', 'logistics', 'counselling',
        'communications'
    )),
    needed INTEGER NOT NULL CHECK (needed BETWEEN 1 AND 500),
    PRIMARY KEY (mobilization_id, skill)
);

-- Who was alerted, in which wave, for which need, and the answer. UNIQUE per mobilization and
-- volunteer: nobody is alerted twice, whichever process sends a wave.
--   wave_rank:      order in the wave (nearest first), also the outbox order;
--   distance_km:    from where they usually are to the rally point (NULL: unknown);
--   delivered_at:   Telegram accepted the alert (a stand-down goes to the unanswered who got it);
--   answer:         coming | cannot (NULL: not answered); eta_minutes 15, 30 or 60 when coming;
--   counted_skill:  the need a coming volunteer counts towards (the one shortest when they said
--                   yes, among the skills they have).
CREATE TABLE mobilization_alerts (
    mobilization_id INTEGER NOT NULL REFERENCES mobilizations (mobilization_id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    wave INTEGER NOT NULL CHECK (wave >= 1),
    wave_rank INTEGER NOT NULL CHECK (wave_rank >= 0),
    skill TEXT NOT NULL,
    distance_km REAL CHECK (distance_km >= 0),
    alerted_at TEXT NOT NULL,
    delivered_at TEXT,
    answer TEXT CHECK (answer IN ('coming', 'cannot')),
    eta_minutes INTEGER CHECK (eta_minutes IN (15, 30, 60)),
    counted_skill TEXT,
    answered_at TEXT,
    PRIMARY KEY (mobilization_id, volunteer_id),
    CHECK ((answer = 'coming') = (eta_minutes IS NOT NULL AND counted_skill IS NOT NULL)),
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);
CREATE INDEX mobilization_alerts_answer_idx
    ON mobilization_alerts (mobilization_id, answer, counted_skill);

-- The coordinator's updates to everyone coming (the outbox rows name them).
CREATE TABLE mobilization_updates (
    update_id INTEGER PRIMARY KEY,
    mobilization_id INTEGER NOT NULL REFERENCES mobilizations (mobilization_id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    sent_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX mobilization_updates_idx ON mobilization_updates (mobilization_id, created_at);
