-- SFTP import inboxes (SPEC §7.4): a folder on an SFTP destination (a webhook endpoint with
-- sftp columns) that is polled; each finished file is imported and moved to processed/
-- or failed/. One inbox per destination, deleted with it. busy_until leases the inbox to
-- one poller at a time; current_import_id is the import a poll is running (a crashed
-- poll leaves it set, and the next poll marks that import failed).
CREATE TABLE sftp_inboxes (
    endpoint_id       TEXT    NOT NULL PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    organization_id   TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    folder            TEXT    NOT NULL,
    options           TEXT    NOT NULL,
    enabled           BIGINT NOT NULL,
    busy_until        BIGINT,
    current_import_id TEXT,
    last_polled_at    BIGINT,
    last_error        TEXT,
    last_import_id    TEXT,
    files_processed   BIGINT NOT NULL DEFAULT 0,
    files_failed      BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
