-- Recognition (issue #17): star levels, service points on a double-entry ledger (the time bank),
-- rewards volunteers redeem with their points, and the opt-in for the monthly honours.
-- Portable SQL as in 0019: TEXT UTC timestamps, INTEGER 0/1 booleans, points as INTEGER
-- hundredths of a point (never REAL): 1 h of standard service at 1 point per hour = 100.

-- ---------------------------------------------------------------------------------------------
-- Star levels (星级认定) are derived from confirmed hours on every read; only the thresholds are
-- stored, one row per level, edited by administrators (all five at once, strictly increasing:
-- checked by the service, since a CHECK cannot compare rows).
CREATE TABLE star_thresholds (
    level INTEGER PRIMARY KEY CHECK (level BETWEEN 1 AND 5),
    hours INTEGER NOT NULL CHECK (hours BETWEEN 1 AND 100000),
    updated_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO star_thresholds (level, hours, updated_at) VALUES
    (1, 100, '2026-01-01T00:00:00+00:00'),
    (2, 300, '2026-01-01T00:00:00+00:00'),
    (3, 600, '2026-01-01T00:00:00+00:00'),
    (4, 1000, '2026-01-01T00:00:00+00:00'),
    (5, 1500, '2026-01-01T00:00:00+00:00');

-- What happened to each level of each volunteer. The row is the idempotency key of the
-- congratulation: the sweep inserts it with ON CONFLICT DO NOTHING and queues the message only
-- when it inserted, so several processes (or a restart) congratulate once per level.
--   granted:    the level counts (at once when STAR_APPLICATION is off, after the publicity);
--   eligible:   the hours reach it, the volunteer may apply (STAR_APPLICATION on);
--   publicised: applied; granted at publicity_ends_at unless an administrator objects;
--   objected:   an administrator objected during the publicity (with a reason); the volunteer
--               may apply again.
CREATE TABLE volunteer_stars (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    status TEXT NOT NULL CHECK (status IN ('eligible', 'publicised', 'granted', 'objected')),
    reached_at TEXT NOT NULL,
    applied_at TEXT,
    publicity_ends_at TEXT,
    granted_at TEXT,
    decided_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    objection TEXT,
    PRIMARY KEY (volunteer_id, level),
    CHECK (status <> 'publicised' OR publicity_ends_at IS NOT NULL),
    CHECK ((status = 'granted') = (granted_at IS NOT NULL))
);
-- The sweep's "publicity over" scan and the publicity list.
CREATE INDEX volunteer_stars_status_idx ON volunteer_stars (status, publicity_ends_at);

-- ---------------------------------------------------------------------------------------------
-- Points per hour depend on the activity: standard ×1, skilled ×1.5, demanding (hard or risky)
-- ×2. Set by the organizer until the hours are confirmed; the tier used is copied onto the
-- credit (record_points), so a later edit or a deleted activity does not rewrite history.
ALTER TABLE activities ADD COLUMN point_tier TEXT NOT NULL DEFAULT 'standard'
    CHECK (point_tier IN ('standard', 'skilled', 'demanding'));

-- The double-entry ledger (TimeOverflow's model). Every transfer is movements that sum to zero
-- (written together by storage.points, tested as an invariant); an account's balance is the
-- sum of its movements, kept in `balance` so a debit can be guarded in one statement:
--   UPDATE point_accounts SET balance = balance - ? WHERE account_id = ? AND balance >= ?
-- plus the CHECK below as the backstop. Two processes cannot overspend: on SQLite the write
-- lock serializes transactions, on PostgreSQL the UPDATE locks the row and re-evaluates the
-- condition on the committed balance.
--   issuer:       the federation's issuing account: points for service come from it, so its
--                 balance is minus the points in circulation (the only account that may be
--                 negative);
--   federation:   receives the points of the federation's own rewards;
--   organization: an organization's reward account, receives the points of its rewards;
--   volunteer:    a volunteer's time-bank account.
CREATE TABLE point_accounts (
    account_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('issuer', 'federation', 'organization', 'volunteer')),
    volunteer_id INTEGER UNIQUE REFERENCES volunteers (volunteer_id),
    organization_id INTEGER UNIQUE REFERENCES organizations (organization_id),
    balance INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    CHECK (kind = 'issuer' OR balance >= 0),
    CHECK ((kind = 'volunteer') = (volunteer_id IS NOT NULL)),
    CHECK ((kind = 'organization') = (organization_id IS NOT NULL))
);
CREATE UNIQUE INDEX point_accounts_singleton_idx ON point_accounts (kind)
    WHERE kind IN ('issuer', 'federation');
INSERT INTO point_accounts (kind, balance, created_at) VALUES
    ('issuer', 0, '2026-01-01T00:00:00+00:00'),
    ('federation', 0, '2026-01-01T00:00:00+00:00');

-- Rewards (礼遇回馈) offered by an organization (organization_id) or by the federation (NULL);
-- redeemed points go to account_id. Stock is decremented by a guarded UPDATE (stock >= 1) in
-- the redemption's transaction, and the CHECK forbids overselling as a backstop.
CREATE TABLE rewards (
    reward_id INTEGER PRIMARY KEY,
    organization_id INTEGER REFERENCES organizations (organization_id),
    account_id INTEGER NOT NULL REFERENCES point_accounts (account_id),
    title TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price > 0),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX rewards_active_idx ON rewards (is_active, organization_id, reward_id);

-- A redemption: points paid, waiting to be handed over (reserved), handed over (confirmed by a
-- manager or organizer of the offering organization, an administrator for the federation's),
-- or cancelled (points refunded by a balancing transfer, the item back in stock).
CREATE TABLE reward_redemptions (
    redemption_id INTEGER PRIMARY KEY,
    reward_id INTEGER NOT NULL REFERENCES rewards (reward_id),
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    price INTEGER NOT NULL CHECK (price > 0),
    status TEXT NOT NULL CHECK (status IN ('reserved', 'handed_over', 'cancelled')),
    redeemed_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    CHECK ((status = 'reserved') = (decided_at IS NULL))
);
CREATE INDEX reward_redemptions_volunteer_idx ON reward_redemptions (volunteer_id, redeemed_at);
CREATE INDEX reward_redemptions_reward_idx ON reward_redemptions (reward_id, status);

--   kind: service (points for a record), correction (a record's hours changed: the difference),
--         redemption (volunteer → reward account), refund (a cancelled redemption, back).
CREATE TABLE point_transfers (
    transfer_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('service', 'correction', 'redemption', 'refund')),
    record_id INTEGER REFERENCES service_records (record_id),
    redemption_id INTEGER REFERENCES reward_redemptions (redemption_id),
    created_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX point_transfers_record_idx ON point_transfers (record_id);

CREATE TABLE point_movements (
    movement_id INTEGER PRIMARY KEY,
    transfer_id INTEGER NOT NULL REFERENCES point_transfers (transfer_id),
    account_id INTEGER NOT NULL REFERENCES point_accounts (account_id),
    amount INTEGER NOT NULL CHECK (amount <> 0)
);
-- A volunteer's history newest first; the balance check sums by account.
CREATE INDEX point_movements_account_idx ON point_movements (account_id, transfer_id);
CREATE INDEX point_movements_transfer_idx ON point_movements (transfer_id);

-- What each service record has been credited: its minutes and tier when credited, and the net
-- points actually moved for it (equal to the rule's amount unless a downward correction found
-- the points already spent: the balance never goes below zero). The credit step selects the
-- records whose minutes differ from what was credited (or have no row), so it is idempotent and
-- a correction is settled by one balancing transfer of the difference.
CREATE TABLE record_points (
    record_id INTEGER PRIMARY KEY REFERENCES service_records (record_id),
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    tier TEXT NOT NULL CHECK (tier IN ('standard', 'skilled', 'demanding')),
    minutes INTEGER NOT NULL CHECK (minutes BETWEEN 0 AND 1440),
    points INTEGER NOT NULL CHECK (points >= 0),
    updated_at TEXT NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Honours: the monthly top volunteers per organization and per district list only those who
-- opted in (a profile toggle, off by default).
CREATE TABLE honour_opt_ins (
    volunteer_id INTEGER PRIMARY KEY REFERENCES volunteers (volunteer_id),
    opted_in_at TEXT NOT NULL
);
-- The monthly ranking per organization (service_date range, then sum per volunteer).
CREATE INDEX service_records_org_month_idx
    ON service_records (organization_id, service_date, volunteer_id, minutes);
