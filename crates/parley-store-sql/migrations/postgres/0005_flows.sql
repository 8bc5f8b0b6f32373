-- Flows (SPEC §4): a draft per flow, edited freely, and its published versions.
-- Versions are immutable and never deleted: conversations keep the version they started
-- with, so no statement in the engine updates or deletes a flow_versions row.
CREATE TABLE flows (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    -- The draft document as canonical JSON (YAML drafts are stored converted).
    draft           TEXT    NOT NULL,
    -- The newest version number, kept here so publishing numbers versions in one row lock.
    latest_version  BIGINT,
    created_by      TEXT    REFERENCES users (id) ON DELETE SET NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX flows_organization_idx ON flows (organization_id, id);

CREATE TABLE flow_versions (
    flow_id         TEXT    NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    version         BIGINT  NOT NULL,
    organization_id TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    document        TEXT    NOT NULL,
    published_by    TEXT,
    published_at    BIGINT  NOT NULL,
    PRIMARY KEY (flow_id, version)
);
