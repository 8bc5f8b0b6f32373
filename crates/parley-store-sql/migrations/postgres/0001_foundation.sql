-- Foundation schema: tenancy, access, audit, outbox, jobs, idempotency (PostgreSQL).
-- Conventions shared with the SQLite set: ids are prefixed TEXT, instants are BIGINT
-- milliseconds since the epoch, JSON is TEXT. Index and constraint names are the stable
-- names StoreError::Conflict reports, identical on both engines.

-- The tenant tree. `path` is the ancestry plus the row's own id, each followed by '/', so
-- "is X inside Y" is a prefix test and a subtree is one range scan on the path index.
-- The parent never changes (moving an organization would silently change who reaches it).
CREATE TABLE organizations (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    parent_id       TEXT    REFERENCES organizations (id),
    path            TEXT    NOT NULL,
    region          TEXT    NOT NULL,
    default_country TEXT    NOT NULL,
    timezone        TEXT    NOT NULL,
    locale          TEXT    NOT NULL CHECK (locale IN ('dmy', 'mdy')),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX organizations_path_key ON organizations (path);

-- Accounts. Emails are stored lower-cased by the application, so a plain unique index
-- gives case-insensitive uniqueness on both engines.
CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- A role held directly on an organization; it applies to the organization's descendants.
CREATE TABLE memberships (
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'supervisor', 'agent', 'viewer')),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX memberships_organization_idx ON memberships (organization_id, user_id);

-- API keys: only the SHA-256 of the secret is kept. `permissions` is a bit set
-- (parley_domain::PermissionSet), always a subset of the creator's at creation time.
CREATE TABLE api_keys (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    permissions     BIGINT  NOT NULL,
    secret_hash     TEXT    NOT NULL,
    created_by      TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT  NOT NULL,
    revoked_at      BIGINT 
);
CREATE INDEX api_keys_organization_idx ON api_keys (organization_id, id);

-- Browser sessions, keyed by the SHA-256 of the cookie token.
CREATE TABLE sessions (
    token_hash      TEXT    NOT NULL PRIMARY KEY,
    id              TEXT    NOT NULL,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Append-only audit log. No foreign key: entries outlive what they describe.
CREATE TABLE audit_log (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT,
    actor           TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    detail          TEXT    NOT NULL,
    at              BIGINT  NOT NULL
);
CREATE INDEX audit_log_organization_idx ON audit_log (organization_id, id);

-- Transactional outbox (SPEC §7.2): rows are inserted in the transaction of the change they
-- announce; the partial index keeps the dispatcher's scan proportional to the backlog.
CREATE TABLE outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    occurred_at     BIGINT  NOT NULL,
    data            TEXT    NOT NULL,
    dispatched_at   BIGINT 
);
CREATE INDEX outbox_undispatched_idx ON outbox (id) WHERE dispatched_at IS NULL;

-- Durable jobs. For a pending job `run_at` is when it may run; for a running job it is
-- when its lease ends, so one condition (`run_at <= now`) finds both due jobs and jobs
-- whose worker died. `attempts` is the lease fence: completion must name it.
CREATE TABLE jobs (
    id           TEXT    NOT NULL PRIMARY KEY,
    queue        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    dedup_key    TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts     BIGINT  NOT NULL DEFAULT 0,
    max_attempts BIGINT  NOT NULL,
    run_at       BIGINT  NOT NULL,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    finished_at  BIGINT 
);
CREATE INDEX jobs_due_idx ON jobs (queue, run_at) WHERE state IN ('pending', 'running');
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE state IN ('done', 'failed');
CREATE UNIQUE INDEX jobs_dedup_key ON jobs (queue, dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('pending', 'running');

-- The canary job's effect ledger: one row per key however often the job ran.
CREATE TABLE job_canaries (
    key      TEXT    NOT NULL PRIMARY KEY,
    runs     BIGINT  NOT NULL,
    first_at BIGINT  NOT NULL,
    last_at  BIGINT  NOT NULL
);

-- Idempotency-Key records. `status` is NULL while the first request is still running.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    status       BIGINT ,
    content_type TEXT,
    body         BYTEA,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
