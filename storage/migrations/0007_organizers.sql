-- Organizers: half-filled organization applications and co-organizer invitations.
-- (Appointed administrators are users.role = 'admin'; reference lists are edited in place.)

-- One half-filled application per person, so a restart or /cancel keeps the answers.
-- ``data`` is JSON (bot.domain.organizations.ApplicationData), ``step`` the step being asked.
CREATE TABLE organization_drafts (
    telegram_id BIGINT PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One-time invitations to become a co-organizer. Only a SHA-256 hash of the code is stored:
-- the code is a bearer credential (whoever holds the link joins the organization), so someone
-- who reads the database or a backup must not be able to use the links still valid in it.
-- Taking an invitation is one conditional UPDATE (... WHERE used_at IS NULL AND expires_at > ?),
-- so two people opening the same link at once cannot both join.
CREATE TABLE organization_invites (
    code_hash TEXT PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (organization_id) ON DELETE CASCADE,
    created_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    used_at TEXT
);
CREATE INDEX organization_invites_org_idx ON organization_invites (organization_id, created_at);

-- Appointing an administrator by @username of someone who has used the bot.
CREATE INDEX users_username_idx ON users (lower(username));
-- "Your application is being reviewed": a person's own applications.
CREATE INDEX organizations_applied_by_idx ON organizations (applied_by, status);
