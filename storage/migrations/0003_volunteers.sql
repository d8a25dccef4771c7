-- Volunteers: reference lists, profiles, their skills / service categories / groups, and the
-- half-filled registration drafts.
-- Portable SQL (SQLite now, PostgreSQL later): BIGINT Telegram ids, TEXT UTC ISO-8601
-- timestamps (storage.timeutil), ISO dates ('2026-03-05'), INTEGER 0/1 booleans.

-- ---------------------------------------------------------------------------------------------
-- Reference lists, editable by administrators. Codes are short ASCII words: they travel in
-- callback data (64 bytes at most) and are what profiles and activities store. A retired entry is
-- deactivated (is_active = 0), never deleted: existing profiles keep referring to it.
-- NOT NULL on the TEXT primary keys spelled out: SQLite would otherwise accept NULL there.

CREATE TABLE skills (
    code TEXT NOT NULL PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1))
);

-- Service categories (服务类别) from the seed policy texts.
CREATE TABLE service_categories (
    code TEXT NOT NULL PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1))
);

-- Areas of residence (居住区域). parent_code allows streets / communities below a district later.
CREATE TABLE areas (
    code TEXT NOT NULL PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    parent_code TEXT REFERENCES areas (code),
    sort_order INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1))
);

-- Sort orders step by 10 so an administrator can slot a new entry in between.
INSERT INTO skills (code, name_zh, name_en, sort_order) VALUES
    ('first_aid', '急救', 'First aid', 10),
    ('medical', '医疗护理', 'Medical care', 20),
    ('legal', '法律', 'Legal advice', 30),
    ('teaching', '教学辅导', 'Teaching and tutoring', 40),
    ('translation', '外语翻译', 'Translation', 50),
    ('psychology', '心理咨询', 'Counselling', 60),
    ('it', '信息技术', 'IT', 70),
    ('photography', '摄影摄像', 'Photography and video', 80),
    ('driving', '驾驶', 'Driving', 90),
    ('sign_language', '手语', 'Sign language', 100),
    ('elderly_care', '养老护理', 'Elderly care', 110),
    ('arts', '文艺表演', 'Arts and performance', 120);

INSERT INTO service_categories (code, name_zh, name_en, sort_order) VALUES
    ('elderly_children', '扶老爱幼', 'Elderly and children', 10),
    ('disability', '扶弱助残', 'Disability support', 20),
    ('poverty', '济困解难', 'Help for families in need', 30),
    ('education', '支教助学', 'Education support', 40),
    ('disaster', '救灾援助', 'Disaster relief', 50),
    ('health', '卫生健康', 'Health', 60),
    ('sports', '体育健身', 'Sports and fitness', 70),
    ('culture', '文化惠民', 'Culture for all', 80),
    ('environment', '生态环保', 'Environment', 90),
    ('science', '科普', 'Science outreach', 100),
    ('legal_aid', '普法与法律服务', 'Law and legal aid', 110),
    ('counselling', '心理疏导', 'Emotional support', 120),
    ('public_safety', '平安建设', 'Public safety', 130),
    ('traffic', '文明交通', 'Road safety', 140),
    ('neighbourhood', '邻里守望', 'Neighbourhood help', 150),
    ('community', '社区治理', 'Community affairs', 160);

-- The districts and county-level cities of 长沙市 (Changsha, Hunan).
INSERT INTO areas (code, name_zh, name_en, sort_order) VALUES
    ('furong', '芙蓉区', 'Furong District', 10),
    ('tianxin', '天心区', 'Tianxin District', 20),
    ('yuelu', '岳麓区', 'Yuelu District', 30),
    ('kaifu', '开福区', 'Kaifu District', 40),
    ('yuhua', '雨花区', 'Yuhua District', 50),
    ('wangcheng', '望城区', 'Wangcheng District', 60),
    ('changsha_county', '长沙县', 'Changsha County', 70),
    ('liuyang', '浏阳市', 'Liuyang', 80),
    ('ningxiang', '宁乡市', 'Ningxiang', 90);

-- ---------------------------------------------------------------------------------------------
-- Volunteer profiles (basic information of 民政部令第67号 Art. 5).
--
-- volunteer_id is the identity service records (sign-ups, hours, certificates) refer to. When an
-- account is deleted the row stays, anonymized: telegram_id and every personal column become
-- NULL and deleted_at is set, while volunteer_id, area_code, is_minor and the service categories
-- remain for aggregate statistics. Hence the personal columns are nullable, and the CHECK below
-- requires them only on live rows.
--
-- INTEGER PRIMARY KEY is SQLite's rowid alias; PostgreSQL will use
-- "volunteer_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" instead.
-- telegram_id: UNIQUE admits any number of NULLs (anonymized rows) in SQLite and PostgreSQL.
CREATE TABLE volunteers (
    volunteer_id INTEGER PRIMARY KEY,
    telegram_id BIGINT UNIQUE REFERENCES users (telegram_id) ON DELETE SET NULL,
    real_name TEXT,
    phone TEXT,
    id_number TEXT,
    gender TEXT CHECK (gender IN ('female', 'male', 'undisclosed')),
    birth_date TEXT,
    is_minor INTEGER NOT NULL CHECK (is_minor IN (0, 1)),
    guardian_consent_at TEXT,
    area_code TEXT REFERENCES areas (code),
    area_text TEXT,
    -- bot.domain.volunteers.Slot bits.
    availability INTEGER NOT NULL DEFAULT 0 CHECK (availability >= 0),
    consent_version TEXT,
    consent_at TEXT,
    registered_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Paused: no invitations or campaigns until this date (active again on it); NULL: not paused.
    paused_until TEXT,
    deleted_at TEXT,
    notify_reminders INTEGER NOT NULL DEFAULT 1 CHECK (notify_reminders IN (0, 1)),
    notify_campaigns INTEGER NOT NULL DEFAULT 1 CHECK (notify_campaigns IN (0, 1)),
    notify_digest INTEGER NOT NULL DEFAULT 1 CHECK (notify_digest IN (0, 1)),
    notify_invitations INTEGER NOT NULL DEFAULT 1 CHECK (notify_invitations IN (0, 1)),
    -- Quiet hours, local wall-clock time 'HH:MM' in the user's time zone.
    quiet_start TEXT NOT NULL DEFAULT '22:00',
    quiet_end TEXT NOT NULL DEFAULT '08:00',
    CHECK (
        deleted_at IS NOT NULL
        OR (
            real_name IS NOT NULL AND phone IS NOT NULL AND birth_date IS NOT NULL
            AND consent_version IS NOT NULL AND consent_at IS NOT NULL
        )
    )
);

-- "Volunteers living in this district" (matching, campaigns, statistics).
CREATE INDEX volunteers_area_idx ON volunteers (area_code);

CREATE TABLE volunteer_skills (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    skill_code TEXT NOT NULL REFERENCES skills (code),
    PRIMARY KEY (volunteer_id, skill_code)
);
-- "Who has this skill": the primary key serves the other direction.
CREATE INDEX volunteer_skills_skill_idx ON volunteer_skills (skill_code, volunteer_id);

CREATE TABLE volunteer_categories (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    category_code TEXT NOT NULL REFERENCES service_categories (code),
    PRIMARY KEY (volunteer_id, category_code)
);
CREATE INDEX volunteer_categories_category_idx
    ON volunteer_categories (category_code, volunteer_id);

-- Self-identified groups (bot.domain.volunteers.VolunteerGroup). No reference table: the set is
-- fixed in code, and the repository checks the values.
CREATE TABLE volunteer_groups (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id) ON DELETE CASCADE,
    group_code TEXT NOT NULL,
    PRIMARY KEY (volunteer_id, group_code)
);
CREATE INDEX volunteer_groups_group_idx ON volunteer_groups (group_code, volunteer_id);

-- ---------------------------------------------------------------------------------------------
-- A registration (or profile edit) in progress: one per user, gone when the profile is saved.
-- data is bot.domain.volunteers.DraftData as JSON (encoded and decoded in Python, not in SQL).
CREATE TABLE registration_drafts (
    telegram_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    return_to_review INTEGER NOT NULL DEFAULT 0 CHECK (return_to_review IN (0, 1)),
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
