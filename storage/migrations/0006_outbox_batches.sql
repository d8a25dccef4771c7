-- Mass sendings (a broadcast, a key-date campaign, a message to an activity's participants) are
-- many outbox rows sharing a batch_key, so their progress (sent / pending / failed) can be
-- counted and the unsent rest cancelled. One-off notifications leave it NULL.
ALTER TABLE outbox ADD COLUMN batch_key TEXT;
-- Progress and cancellation of one batch; the partial index skips the one-off rows.
CREATE INDEX outbox_batch_idx ON outbox (batch_key, status) WHERE batch_key IS NOT NULL;
