-- Resident requests (点单 → 派单 → 接单 → 评单, issue #19): residents order a service from the
-- menu, a dispatcher of their district sends it to an organization, the organization's team
-- accepts it and serves it (volunteers asked one by one, or an activity with sign-up), the
-- resident rates it. Portable SQL as in 0004: TEXT UTC timestamps, INTEGER 0/1 booleans.

-- Dispatchers (administrators of a 新时代文明实践 centre, station or district) by area: they
-- see and dispatch the requests of their areas. Appointed by the federation's administrators,
-- who dispatch everywhere themselves.
CREATE TABLE dispatchers (
    area_code TEXT NOT NULL REFERENCES areas (code),
    telegram_id BIGINT NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    appointed_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    appointed_at TEXT NOT NULL,
    PRIMARY KEY (area_code, telegram_id)
);
CREATE INDEX dispatchers_user_idx ON dispatchers (telegram_id);

-- One half-filled order per person (JSON of bot.domain.requests.RequestDraft), so /cancel, a
-- restart or another process keeps the answers.
CREATE TABLE request_drafts (
    telegram_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The requests. ``version`` grows with every change, so a button carries the version it was
-- drawn for and a stale or replayed press is refused; every change is one conditional UPDATE
-- (... WHERE status IN (...) AND version = ?), so two dispatchers or two organizers can never
-- both win. address/phone/latitude/longitude are overwritten (masked_at) 30 days after the
-- request was closed.
--   first_dispatched_at: for "time to dispatch" (a re-dispatch keeps it);
--   dispatch_round:      how often it was sent to a team; reminded_at/escalated_at: the
--                        periodic job's marks, so running it twice does nothing twice.
CREATE TABLE service_requests (
    request_id INTEGER PRIMARY KEY,
    resident_id BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    category_code TEXT NOT NULL REFERENCES service_categories (code),
    need TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT,
    area_code TEXT NOT NULL REFERENCES areas (code),
    address TEXT NOT NULL,
    latitude REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL CHECK (longitude BETWEEN -180 AND 180),
    beneficiary TEXT NOT NULL CHECK (beneficiary IN (
        'self', 'elderly', 'child', 'disabled', 'other'
    )),
    contact_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN (
        'queued', 'dispatched', 'accepted', 'in_service', 'completed', 'rejected', 'cancelled'
    )),
    version INTEGER NOT NULL DEFAULT 1,
    organization_id INTEGER REFERENCES organizations (organization_id) ON DELETE SET NULL,
    dispatched_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    dispatched_at TEXT,
    first_dispatched_at TEXT,
    dispatch_round INTEGER NOT NULL DEFAULT 0,
    reminded_at TEXT,
    escalated_at TEXT,
    accepted_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    accepted_at TEXT,
    service_mode TEXT CHECK (service_mode IN ('volunteers', 'activity')),
    activity_id INTEGER REFERENCES activities (activity_id) ON DELETE SET NULL,
    in_service_at TEXT,
    completed_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    completed_at TEXT,
    minutes INTEGER CHECK (minutes BETWEEN 0 AND 1440),
    report TEXT,
    status_reason TEXT,
    closed_at TEXT,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment TEXT,
    rated_at TEXT,
    masked_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CHECK (status NOT IN ('dispatched', 'accepted', 'in_service') OR organization_id IS NOT NULL),
    CHECK ((status IN ('completed', 'rejected', 'cancelled')) = (closed_at IS NOT NULL))
);
-- A resident's own requests, the dispatchers' queue per area, the periodic job, a team's list.
CREATE INDEX service_requests_resident_idx ON service_requests (resident_id, created_at);
CREATE INDEX service_requests_queue_idx ON service_requests (status, area_code, created_at);
CREATE INDEX service_requests_org_idx ON service_requests (organization_id, status);
CREATE INDEX service_requests_mask_idx ON service_requests (masked_at, closed_at);

-- What happened to a request, who did it and why (the audit trail, and the organizations'
-- past acceptance for the dispatch suggestion: 'offered' and then 'accepted', 'declined' or
-- 'timeout' per organization).
CREATE TABLE request_events (
    event_id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES service_requests (request_id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    action TEXT NOT NULL CHECK (action IN (
        'created', 'offered', 'accepted', 'declined', 'timeout', 'reminded', 'escalated',
        'rejected', 'cancelled', 'in_service', 'completed', 'activity', 'rated', 'masked'
    )),
    organization_id INTEGER REFERENCES organizations (organization_id) ON DELETE SET NULL,
    reason TEXT
);
CREATE INDEX request_events_request_idx ON request_events (request_id, at);
CREATE INDEX request_events_org_idx ON request_events (organization_id, action);

-- Volunteers a team asked to serve a request: asked → accepted | declined. Whoever accepted
-- gets a service record (record_id) when the team marks the request completed.
CREATE TABLE request_helpers (
    request_id INTEGER NOT NULL REFERENCES service_requests (request_id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    status TEXT NOT NULL CHECK (status IN ('asked', 'accepted', 'declined')),
    asked_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    asked_at TEXT NOT NULL,
    answered_at TEXT,
    record_id INTEGER REFERENCES service_records (record_id) ON DELETE SET NULL,
    PRIMARY KEY (request_id, volunteer_id)
);
CREATE INDEX request_helpers_volunteer_idx ON request_helpers (volunteer_id, status);
