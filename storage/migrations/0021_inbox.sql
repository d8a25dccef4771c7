-- The durable inbox (issues #15 and #21): every update is stored before it is acknowledged
-- (polling: before the next getUpdates offset; webhook: before answering 200), then processed
-- from here in per-lane order; unfinished ones are processed again after a crash.
--   lane:        the ordering key: one user's private chat 'u:<user>', one user in a group
--                'g:<chat>:<user>', or the chat when there is no user 'c:<chat>'. Only the oldest
--                pending update of a lane can be claimed, so a lane never runs two at once and
--                always in order, on one process or several;
--   lease_until: a worker is processing it until then (renewed while it runs); a crashed
--                worker's update is claimed again once the lease is over;
--   owner:       the instance processing it. An instance keeps its name across restarts (host
--                and port, or INSTANCE_NAME), so after a crash it takes back its own leases at
--                once instead of waiting for them to run out;
--   done rows are kept a while so a repeated update_id (Telegram retries a webhook) is ignored.
CREATE TABLE inbox (
    update_id BIGINT PRIMARY KEY,
    lane TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    lease_until TEXT,
    owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    done_at TEXT,
    CHECK ((status = 'done') = (done_at IS NOT NULL))
);
-- The claim: pending heads of lanes in arrival order.
CREATE INDEX inbox_pending_idx ON inbox (status, lane, update_id);
CREATE INDEX inbox_done_idx ON inbox (done_at);

-- Leases that several instances compete for: the one who holds "scheduler" runs the periodic
-- jobs (delivery at the global send rate, sweeps, campaigns), the one who sets the webhook …
-- Taken or renewed by one conditional upsert; a crashed holder's lease simply runs out.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    value TEXT
);
