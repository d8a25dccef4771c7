-- Organizations, their activities (the service menu, 菜单式服务) and volunteers' sign-ups.
-- Portable SQL (SQLite now, PostgreSQL later): BIGINT Telegram ids, TEXT UTC ISO-8601
-- timestamps (storage.timeutil), INTEGER 0/1 booleans, REAL coordinates (WGS-84 degrees).

-- ---------------------------------------------------------------------------------------------
-- Organizations (志愿服务组织 and other hosts) apply, are approved by an administrator, and then
-- publish activities. Types follow the seed texts (bot.domain.activities.OrganizationType).
CREATE TABLE organizations (
    organization_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL CHECK (org_type IN (
        'association', 'social_org', 'community', 'school', 'enterprise', 'public_institution',
        'volunteer_team'
    )),
    area_code TEXT REFERENCES areas (code),
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    status_reason TEXT,
    applied_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    decided_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    decided_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX organizations_status_idx ON organizations (status, created_at);

-- Who may act for an organization. A manager may also invite and remove co-organizers.
CREATE TABLE organization_members (
    organization_id INTEGER NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    telegram_id BIGINT NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    member_role TEXT NOT NULL CHECK (member_role IN ('manager', 'organizer')),
    added_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, telegram_id)
);
CREATE INDEX organization_members_user_idx ON organization_members (telegram_id);

-- ---------------------------------------------------------------------------------------------
-- Activities. The counters are kept in the same transaction as every sign-up change, so the
-- menu shows "spots left" without counting rows, and taking a spot is one conditional UPDATE
-- (... WHERE confirmed_count + offered_count < capacity), atomic in SQLite and PostgreSQL alike.
-- The CHECK below is the last line of defence against overbooking.
--   confirmed_count: confirmed sign-ups;
--   offered_count:   spots held for a waitlisted volunteer who has been offered one;
--   waitlist_count:  volunteers waiting.
CREATE TABLE activities (
    activity_id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (organization_id),
    title TEXT NOT NULL,
    category_code TEXT NOT NULL REFERENCES service_categories (code),
    description TEXT NOT NULL DEFAULT '',
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    place TEXT NOT NULL,
    area_code TEXT REFERENCES areas (code),
    latitude REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL CHECK (longitude BETWEEN -180 AND 180),
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    training_required INTEGER NOT NULL DEFAULT 0 CHECK (training_required IN (0, 1)),
    adults_only INTEGER NOT NULL DEFAULT 0 CHECK (adults_only IN (0, 1)),
    -- Sign-up closes at the earliest of: start, this deadline, signups_closed_at (closed early).
    signup_deadline TEXT,
    signups_closed_at TEXT,
    -- Code of a key date (3·5, 12·5, 重阳 ...) the activity is part of, or NULL.
    key_date TEXT,
    -- 活动负责人 (the person in charge, 民政部令第67号 Art. 7), shown on rosters and records.
    leader_name TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
    cancel_reason TEXT,
    confirmed_count INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
    offered_count INTEGER NOT NULL DEFAULT 0 CHECK (offered_count >= 0),
    waitlist_count INTEGER NOT NULL DEFAULT 0 CHECK (waitlist_count >= 0),
    created_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    cancelled_at TEXT,
    CHECK (ends_at > starts_at),
    CHECK (confirmed_count + offered_count <= capacity),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
-- The menu: open activities by start time, overall and per category. category_code makes it
-- covering for the per-category counts of the menu's first screen (bench/menu.py).
CREATE INDEX activities_status_start_idx ON activities (status, starts_at, category_code);
CREATE INDEX activities_category_idx ON activities (category_code, status, starts_at);
-- An organization's own list (organizer panel).
CREATE INDEX activities_organization_idx ON activities (organization_id, starts_at);

CREATE TABLE activity_skills (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    skill_code TEXT NOT NULL REFERENCES skills (code),
    PRIMARY KEY (activity_id, skill_code)
);
-- "Activities needing this skill" (matching); the primary key serves the other direction.
CREATE INDEX activity_skills_skill_idx ON activity_skills (skill_code, activity_id);

-- People served (服务对象: 一老一小, 残疾人 ...). A fixed set in code
-- (bot.domain.activities.PeopleServed); the repository checks the values.
CREATE TABLE activity_people_served (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    people_code TEXT NOT NULL,
    PRIMARY KEY (activity_id, people_code)
);

-- ---------------------------------------------------------------------------------------------
-- Sign-ups: one row per volunteer and activity, whose status moves
--   confirmed ⇄ cancelled, waitlisted → offered → confirmed | cancelled.
-- Signing up again after cancelling reuses the row (the UNIQUE key keeps presses idempotent).
--   queued_at:        waitlist order (first in, first offered);
--   offer_expires_at: deadline of a pending offer;
--   end_reason:       why a row is cancelled (bot.domain.activities.EndReason).
CREATE TABLE signups (
    signup_id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id),
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'offered', 'cancelled')),
    created_at TEXT NOT NULL,
    status_at TEXT NOT NULL,
    queued_at TEXT,
    offer_expires_at TEXT,
    ended_at TEXT,
    end_reason TEXT CHECK (end_reason IN (
        'volunteer', 'declined_offer', 'offer_expired', 'activity_cancelled', 'organizer'
    )),
    cancel_note TEXT,
    UNIQUE (activity_id, volunteer_id),
    CHECK ((status = 'offered') = (offer_expires_at IS NOT NULL)),
    CHECK ((status = 'cancelled') = (end_reason IS NOT NULL))
);
-- "My sign-ups" and the time-clash check (activity_id makes it covering for the join).
CREATE INDEX signups_volunteer_idx ON signups (volunteer_id, status, activity_id);
-- The roster and the head of the waitlist.
CREATE INDEX signups_activity_idx ON signups (activity_id, status, queued_at);
-- Offers whose deadline has passed.
CREATE INDEX signups_offer_due_idx ON signups (status, offer_expires_at);
