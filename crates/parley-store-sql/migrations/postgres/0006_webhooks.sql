-- Webhooks (SPEC §7.2): endpoints, one delivery per event and endpoint, and every attempt.
-- The payload stays in the outbox row; a delivery is keyed by (endpoint, event), so fanning
-- an event out twice cannot queue it twice.
CREATE TABLE webhook_endpoints (
    id                     TEXT    NOT NULL PRIMARY KEY,
    organization_id        TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url                    TEXT    NOT NULL,
    description            TEXT    NOT NULL,
    -- NULL: every event type; else ',type,type,' so one LIKE matches on both engines.
    events                 TEXT,
    enabled                BIGINT  NOT NULL,
    disabled_reason        TEXT,
    secret_sealed          TEXT    NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_until  BIGINT,
    failing_since          BIGINT,
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL
);
CREATE INDEX webhook_endpoints_organization_idx ON webhook_endpoints (organization_id, id);

CREATE TABLE webhook_deliveries (
    endpoint_id     TEXT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        TEXT    NOT NULL REFERENCES outbox (id),
    organization_id TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Attempts in the current round; also the fence a recorded attempt must match.
    attempts        BIGINT  NOT NULL DEFAULT 0,
    -- What started the current round: 'scheduled' or 'replay'.
    round_trigger   TEXT    NOT NULL DEFAULT 'scheduled',
    -- Pending: when the next attempt is due, or the end of a worker's lease on it.
    next_attempt_at BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, status, event_id);

CREATE TABLE webhook_attempts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id      TEXT    NOT NULL,
    event_id         TEXT    NOT NULL,
    organization_id  TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    status_code      BIGINT,
    latency_ms       BIGINT  NOT NULL,
    response_excerpt TEXT    NOT NULL,
    error            TEXT,
    attempt_trigger  TEXT    NOT NULL,
    FOREIGN KEY (endpoint_id, event_id) REFERENCES webhook_deliveries (endpoint_id, event_id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (endpoint_id, event_id, id);
