-- Invitations to join an organization (membership is never granted by an inviter alone).
-- The token is shown once and only its SHA-256 is kept. An invitation is pending until it
-- is accepted (accepted_at, accepted_by), withdrawn or replaced by a newer one of the same
-- email (revoked_at), or expires (expires_at).

CREATE TABLE invitations (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    email           TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    token_hash      TEXT    NOT NULL,
    invited_by      TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    accepted_at     BIGINT,
    accepted_by     TEXT    REFERENCES users (id),
    revoked_at      BIGINT
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
CREATE INDEX invitations_organization_idx ON invitations (organization_id, id);
CREATE INDEX invitations_email_idx ON invitations (organization_id, email);
