-- Outbound webhooks (see docs/webhooks.md): a tenant's URL, the events it subscribes to, and its
-- signing secret, sealed with the master key like connection credentials (never plaintext).
-- After a rotation the previous secret stays, sealed, until previous_secret_expires_at, and
-- deliveries are signed with both.
CREATE TABLE webhooks (
    id                          TEXT NOT NULL CONSTRAINT webhooks_pkey PRIMARY KEY,
    tenant_id                   TEXT NOT NULL CONSTRAINT webhooks_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    url                         TEXT NOT NULL,
    -- A JSON array of event names.
    events_json                 TEXT NOT NULL,
    description                 TEXT NOT NULL,
    active                      BOOLEAN NOT NULL,
    disabled_reason             TEXT,
    secret_sealed               TEXT NOT NULL,
    previous_secret_sealed      TEXT,
    previous_secret_expires_at  BIGINT,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL,
    CONSTRAINT webhooks_tenant_id_key UNIQUE (tenant_id, id)
);

-- One event on its way to one webhook: a durable queue row, then its log entry. The body is
-- fixed when the event is queued, so every attempt sends the same bytes. A node claims a due row
-- by setting locked_until/locked_by in one UPDATE; a claim a dead node left behind runs out.
-- Rows older than 7 days are pruned.
CREATE TABLE webhook_deliveries (
    id               TEXT NOT NULL CONSTRAINT webhook_deliveries_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    webhook_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    -- pending, delivered or failed.
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL,
    -- When the next attempt is due; null once the delivery is finished.
    next_attempt_at  BIGINT,
    locked_until     BIGINT,
    locked_by        TEXT,
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    CONSTRAINT webhook_deliveries_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT webhook_deliveries_webhook_fkey FOREIGN KEY (tenant_id, webhook_id)
        REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (tenant_id, webhook_id, id);
-- What the workers look for: only pending rows are in it.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- For pruning across tenants.
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);

-- Every attempt of a delivery: when, the receiver's status, how long it took, what went wrong,
-- and the start of the answer (at most 1 KiB).
CREATE TABLE webhook_attempts (
    tenant_id         TEXT NOT NULL,
    delivery_id       TEXT NOT NULL,
    attempt           BIGINT NOT NULL,
    attempted_at      BIGINT NOT NULL,
    status            BIGINT,
    latency_ms        BIGINT NOT NULL,
    error_code        TEXT,
    error_message     TEXT,
    response_excerpt  TEXT,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (delivery_id, attempt),
    CONSTRAINT webhook_attempts_delivery_fkey FOREIGN KEY (tenant_id, delivery_id)
        REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);
