-- Service records (民政部令第67号): check-in and check-out, attendance marked by hand, the hours
-- an organizer confirms, the record itself, corrections, trainings and qualifications, awards
-- and evaluations. Portable SQL as in 0004: TEXT UTC timestamps, INTEGER 0/1 booleans.
-- Hours are stored as whole minutes (never floats): rounding rules produce multiples of 30.

-- ---------------------------------------------------------------------------------------------
-- What the activity itself says about recording.
--   is_volunteering:  0 for an activity that is not volunteer service (Art. 19): no records.
--   credit_until:     the organizer extended the time credited past ends_at (overtime).
--   hours_confirmed_*: the organizer confirmed the hours; from then on records change only
--                     through corrections.
ALTER TABLE activities ADD COLUMN is_volunteering INTEGER NOT NULL DEFAULT 1
    CHECK (is_volunteering IN (0, 1));
ALTER TABLE activities ADD COLUMN credit_until TEXT;
ALTER TABLE activities ADD COLUMN hours_confirmed_at TEXT;
ALTER TABLE activities ADD COLUMN hours_confirmed_by BIGINT
    REFERENCES users (telegram_id) ON DELETE SET NULL;
-- "Hours still to record": finished activities whose hours nobody confirmed yet.
CREATE INDEX activities_unrecorded_idx ON activities (hours_confirmed_at, ends_at);

-- ---------------------------------------------------------------------------------------------
-- Trainings (Art. 8, 先培训再上岗). An organization names a qualification; an activity may grant
-- it (a training: completing it, i.e. confirmed hours, grants it) or require it (only holders
-- may sign up). The old training_required flag stays as "training needed, not tracked here".
CREATE TABLE qualifications (
    qualification_id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (organization_id, name)
);
ALTER TABLE activities ADD COLUMN grants_qualification_id INTEGER
    REFERENCES qualifications (qualification_id) ON DELETE SET NULL;
ALTER TABLE activities ADD COLUMN requires_qualification_id INTEGER
    REFERENCES qualifications (qualification_id) ON DELETE SET NULL;
-- "The next session of this training" for a card that requires it.
CREATE INDEX activities_grants_idx ON activities (grants_qualification_id, status, starts_at);

CREATE TABLE volunteer_qualifications (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    qualification_id INTEGER NOT NULL
        REFERENCES qualifications (qualification_id) ON DELETE CASCADE,
    granted_at TEXT NOT NULL,
    -- The training that granted it (NULL when an administrator granted it by hand).
    activity_id INTEGER REFERENCES activities (activity_id) ON DELETE SET NULL,
    PRIMARY KEY (volunteer_id, qualification_id)
);

-- ---------------------------------------------------------------------------------------------
-- Check-in: one display per activity. Codes are derived from the secret and the 30-second step
-- (HMAC, like TOTP), so any process can check a typed code or a scanned link without state,
-- and a code of another mode (check-out) or another activity never matches.
--   chat_id/message_id: the organizer's message that is edited in place as the code rotates;
--   shown_step:         the step drawn last, so a rotation edits only when the code changed.
CREATE TABLE checkin_displays (
    activity_id INTEGER PRIMARY KEY REFERENCES activities (activity_id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('in', 'out')),
    secret TEXT NOT NULL,
    opened_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    opened_at TEXT NOT NULL,
    chat_id BIGINT,
    message_id BIGINT,
    shown_step INTEGER,
    closed_at TEXT
);
CREATE INDEX checkin_displays_open_idx ON checkin_displays (closed_at, activity_id);

-- Who came. One row per volunteer and activity, made by a check-in, a hand mark or a walk-in.
--   mark:             present | late | absent | excused (excused is not a no-show);
--   distance_m:       distance of a shared location to the activity's pin (a signal only);
--   minutes_override: hours the organizer set by hand (with override_reason), else computed.
CREATE TABLE attendance (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    mark TEXT NOT NULL CHECK (mark IN ('present', 'late', 'absent', 'excused')),
    walk_in INTEGER NOT NULL DEFAULT 0 CHECK (walk_in IN (0, 1)),
    checked_in_at TEXT,
    checked_out_at TEXT,
    in_method TEXT CHECK (in_method IN ('code', 'link', 'organizer')),
    out_method TEXT CHECK (out_method IN ('code', 'link', 'organizer', 'all')),
    distance_m INTEGER CHECK (distance_m >= 0),
    minutes_override INTEGER CHECK (minutes_override BETWEEN 0 AND 1440),
    override_reason TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (activity_id, volunteer_id),
    CHECK (checked_out_at IS NULL OR checked_in_at IS NOT NULL),
    CHECK ((minutes_override IS NULL) = (override_reason IS NULL))
);
-- A volunteer's attendance across activities (no-shows in the last 90 days).
CREATE INDEX attendance_volunteer_idx ON attendance (volunteer_id, activity_id);

-- Every change made by hand (marks, walk-ins, "all out", hours, overtime): who, when and why.
CREATE TABLE attendance_changes (
    change_id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    volunteer_id INTEGER REFERENCES volunteers (volunteer_id),
    changed_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    changed_at TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN (
        'mark', 'walk_in', 'check_out', 'all_out', 'hours', 'extend', 'confirm', 'correction'
    )),
    old_value TEXT,
    new_value TEXT,
    reason TEXT
);
CREATE INDEX attendance_changes_activity_idx ON attendance_changes (activity_id, changed_at);

-- ---------------------------------------------------------------------------------------------
-- The record (Art. 7), written when the organizer confirms the hours. The activity's fields are
-- copied, so a later edit of the activity (or its deletion) does not rewrite history.
--   kind:         service | training (Art. 8: a training's record is kept the same way);
--   service_date: the local date of the activity (YYYY-MM-DD).
CREATE TABLE service_records (
    record_id INTEGER PRIMARY KEY,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    activity_id INTEGER REFERENCES activities (activity_id) ON DELETE SET NULL,
    organization_id INTEGER REFERENCES organizations (organization_id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'training')),
    activity_title TEXT NOT NULL,
    service_date TEXT NOT NULL,
    place TEXT NOT NULL,
    category_code TEXT,
    content TEXT NOT NULL,
    organization_name TEXT NOT NULL,
    leader_name TEXT,
    minutes INTEGER NOT NULL CHECK (minutes BETWEEN 0 AND 1440),
    recorded_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (activity_id, volunteer_id)
);
-- /hours: a volunteer's records newest first, and the totals (minutes makes it covering).
CREATE INDEX service_records_volunteer_idx
    ON service_records (volunteer_id, service_date, minutes);
CREATE INDEX service_records_organization_idx ON service_records (organization_id, service_date);

-- Corrections (Art. 12–13): the volunteer proposes hours with a reason; an organizer of the
-- recording organization approves or rejects with a reason. At most one pending per record.
CREATE TABLE record_corrections (
    correction_id INTEGER PRIMARY KEY,
    record_id INTEGER NOT NULL REFERENCES service_records (record_id) ON DELETE CASCADE,
    requested_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    reason TEXT NOT NULL,
    old_minutes INTEGER NOT NULL CHECK (old_minutes BETWEEN 0 AND 1440),
    proposed_minutes INTEGER NOT NULL CHECK (proposed_minutes BETWEEN 0 AND 1440),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    decided_at TEXT,
    decision_reason TEXT,
    created_at TEXT NOT NULL,
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX record_corrections_pending_idx
    ON record_corrections (record_id) WHERE status = 'pending';
CREATE INDEX record_corrections_status_idx ON record_corrections (status, created_at);

-- Awards (Art. 9), entered by an organizer (for their organization) or an administrator.
CREATE TABLE awards (
    award_id INTEGER PRIMARY KEY,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    title TEXT NOT NULL,
    issuer TEXT NOT NULL,
    awarded_on TEXT NOT NULL,
    organization_id INTEGER REFERENCES organizations (organization_id) ON DELETE SET NULL,
    entered_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    entered_at TEXT NOT NULL
);
CREATE INDEX awards_volunteer_idx ON awards (volunteer_id, awarded_on);

-- Evaluation (Art. 10). The organizer's rating of a volunteer's service is private to
-- organizers and administrators; the volunteer's rating of the activity feeds the statistics.
CREATE TABLE service_evaluations (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT,
    rated_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    rated_at TEXT NOT NULL,
    PRIMARY KEY (activity_id, volunteer_id)
);
CREATE TABLE activity_ratings (
    activity_id INTEGER NOT NULL REFERENCES activities (activity_id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT,
    rated_at TEXT NOT NULL,
    PRIMARY KEY (activity_id, volunteer_id)
);
