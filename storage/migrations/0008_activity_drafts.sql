-- Activity drafts: the half-filled /new form of an organizer (bot.domain.publishing).
-- A draft belongs to an organization (any of its organizers may resume it from the list of
-- drafts) and is being filled by one person (telegram_id, the last one who resumed it). The
-- answers are the JSON of bot.domain.publishing.DraftData; step is where the form stands, so
-- the conversation carries on at the same step after a restart.
CREATE TABLE activity_drafts (
    draft_id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    telegram_id BIGINT NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- "My current draft" (the latest one the person touched) and an organization's drafts list.
CREATE INDEX activity_drafts_user_idx ON activity_drafts (telegram_id, updated_at);
CREATE INDEX activity_drafts_organization_idx ON activity_drafts (organization_id, updated_at);
