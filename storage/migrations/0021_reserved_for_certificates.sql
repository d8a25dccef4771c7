-- Placeholder so that 0022 (stars, points, rewards) applies on this branch: migration 0021 is
-- the certificates' (wt-certificates). Delete this file when merging that branch.
CREATE TABLE reserved_0021 (id INTEGER PRIMARY KEY);
DROP TABLE reserved_0021;
