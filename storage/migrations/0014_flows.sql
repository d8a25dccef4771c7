-- Who reads a user's typed input: one row per user naming the flow that asked them something
-- and what it is waiting for. It replaces PTB's per-process conversation state and the flow
-- keys in user_data, so any process serving the user continues the same form (handlers/flows.py).
-- ``state`` is the flow's small context (e.g. which activity a cancellation reason is for) as
-- JSON; half-filled forms keep their own draft tables. ``version`` grows on every change, so a
-- button drawn for an older question can tell it is stale.
CREATE TABLE flow_owners (
    telegram_id BIGINT PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    flow TEXT NOT NULL,
    waiting_for TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_at TEXT NOT NULL
);
