-- The organization's custom value endpoint (SPEC §7.3): one per organization, where flow
-- `fetch` steps GET live values. The secret is sealed by the application.
CREATE TABLE custom_value_endpoints (
    organization_id TEXT    PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    secret_sealed   TEXT    NOT NULL,
    timeout_ms      BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
