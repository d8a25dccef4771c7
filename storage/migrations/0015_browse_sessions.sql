-- What a volunteer's browsing screens page through: the last search's words and the last shared
-- location (for "Near me", used for two hours). Kept in the database rather than in a process's
-- memory so any bot process can turn the page; one row per user, deleted with the user.
CREATE TABLE browse_sessions (
    telegram_id BIGINT PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    search_words TEXT,
    latitude REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude REAL CHECK (longitude BETWEEN -180 AND 180),
    located_at TEXT,
    CHECK ((latitude IS NULL) = (longitude IS NULL) AND (latitude IS NULL) = (located_at IS NULL))
);
