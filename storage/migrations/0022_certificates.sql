-- Certificates of volunteer service (证明出具, 民政部令第67号 Art. 14–17). Portable SQL as in 0019.
--
-- A certificate is requested by the volunteer (for all records or a period), issued at once or
-- after the recording organization approves (setting CERTIFICATE_APPROVAL), and may be revoked
-- by an administrator with a reason. Anyone verifies it by its code (/start cv_<code>,
-- /verify CODE) and sees the masked name, hours, issuer, date and status — nothing more.
--
-- What is stored instead of the PDF: everything the PDF shows, as issued (the snapshot columns
-- below and the holder's name in certificate_holders), so the same PDF is drawn again on demand
-- (bot.certificate_pdf is deterministic: the creation date is the issue time). Not the bytes,
-- because (1) they hold the holder's full name, which deleting the account must erase — a
-- separate row cascading from users does that, a blob in this table could not be cleaned
-- without reading it; (2) a font subset per copy is 20–60 kB, for data already in this row;
-- (3) a layout fix then improves every copy sent afterwards, with the same words and numbers.
--
--   code:            the random verification code (URL-safe, 16–40 characters), the only key
--                    a verifier has; unique, so a collision fails the insert instead of
--                    pointing two certificates at one code.
--   number:          ZY-<issue year>-<certificate_id, 6 digits>, given when issued.
--   period_from/to:  the service dates covered (inclusive), both NULL for all records.
--   approver_organization_id: the recording unit that approves when approval is on (the one
--                    with the most minutes in the period).
--   records_json:    the record lines as issued (date, activity, unit, minutes, content),
--                    drawn as the PDF's table.
--   fingerprint:     of the snapshot; asking again for the same period with nothing changed
--                    sends the valid certificate again instead of numbering a new one.
CREATE TABLE certificates (
    certificate_id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 16 AND 40),
    number TEXT UNIQUE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (volunteer_id),
    requested_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    period_from TEXT,
    period_to TEXT,
    language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    status TEXT NOT NULL CHECK (status IN ('requested', 'issued', 'revoked', 'rejected')),
    approver_organization_id INTEGER
        REFERENCES organizations (organization_id) ON DELETE SET NULL,
    -- The snapshot, written when the certificate is issued.
    total_minutes INTEGER CHECK (total_minutes >= 0),
    record_count INTEGER CHECK (record_count >= 0),
    content_summary TEXT,
    recording_units TEXT,
    records_json TEXT,
    masked_name TEXT,
    masked_id_number TEXT,
    issuer_name TEXT,
    fingerprint TEXT,
    requested_at TEXT NOT NULL,
    issued_at TEXT,
    approved_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    rejected_at TEXT,
    rejected_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    reject_reason TEXT,
    revoked_at TEXT,
    revoked_by BIGINT REFERENCES users (telegram_id) ON DELETE SET NULL,
    revoke_reason TEXT,
    CHECK ((period_from IS NULL) = (period_to IS NULL)),
    CHECK (period_from IS NULL OR period_from <= period_to),
    CHECK (
        status NOT IN ('issued', 'revoked')
        OR (
            issued_at IS NOT NULL AND number IS NOT NULL AND total_minutes IS NOT NULL
            AND record_count IS NOT NULL AND records_json IS NOT NULL
            AND masked_name IS NOT NULL AND issuer_name IS NOT NULL
        )
    ),
    CHECK ((status = 'rejected') = (rejected_at IS NOT NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revoke_reason IS NOT NULL))
);
-- A volunteer's certificates, newest first; the same-period lookup.
CREATE INDEX certificates_volunteer_idx ON certificates (volunteer_id, requested_at);
-- At most one request waits for approval per volunteer (two presses at once store one).
CREATE UNIQUE INDEX certificates_requested_idx
    ON certificates (volunteer_id) WHERE status = 'requested';
-- The administrators' list, newest first.
CREATE INDEX certificates_issued_idx ON certificates (status, issued_at);

-- The holder's full name as printed on their own copy. A row of its own so that deleting the
-- account (which deletes the users row) erases it by the cascade; the certificate itself stays
-- verifiable with the masked name.
CREATE TABLE certificate_holders (
    certificate_id INTEGER PRIMARY KEY
        REFERENCES certificates (certificate_id) ON DELETE CASCADE,
    telegram_id BIGINT NOT NULL REFERENCES users (telegram_id) ON DELETE CASCADE,
    full_name TEXT NOT NULL
);
CREATE INDEX certificate_holders_user_idx ON certificate_holders (telegram_id);

-- Guessing codes: wrong codes per user in the current window; past the limit, verification is
-- refused until blocked_until. One row per user, updated in one statement (ON CONFLICT), so
-- two processes count every wrong code.
CREATE TABLE verification_attempts (
    telegram_id BIGINT PRIMARY KEY REFERENCES users (telegram_id) ON DELETE CASCADE,
    window_started_at TEXT NOT NULL,
    failures INTEGER NOT NULL CHECK (failures >= 0),
    blocked_until TEXT
);
