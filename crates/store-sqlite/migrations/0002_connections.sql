-- API connections and their endpoints. JSON documents are stored as text in both backends.

CREATE TABLE connections (
    id              TEXT NOT NULL CONSTRAINT connections_pkey PRIMARY KEY,
    tenant_id       TEXT NOT NULL CONSTRAINT connections_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    base_url        TEXT NOT NULL,
    auth_json       TEXT NOT NULL,
    -- The credentials, sealed with the master key (see docs/security.md); never plaintext.
    secrets_sealed  TEXT,
    headers_json    TEXT NOT NULL,
    timeout_ms      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_test_json  TEXT,
    CONSTRAINT connections_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT connections_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE endpoints (
    id                         TEXT NOT NULL CONSTRAINT endpoints_pkey PRIMARY KEY,
    tenant_id                  TEXT NOT NULL,
    connection_id              TEXT NOT NULL,
    name                       TEXT NOT NULL,
    description                TEXT NOT NULL,
    method                     TEXT NOT NULL,
    path                       TEXT NOT NULL,
    query_json                 TEXT NOT NULL,
    headers_json               TEXT NOT NULL,
    body_json                  TEXT,
    variables_json             TEXT NOT NULL,
    response_mapping_json      TEXT NOT NULL,
    timeout_ms                 INTEGER,
    ai_tool                    INTEGER NOT NULL,
    idempotent                 INTEGER NOT NULL,
    requires_verified_visitor  INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    last_test_json             TEXT,
    CONSTRAINT endpoints_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT endpoints_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT endpoints_connection_fkey FOREIGN KEY (tenant_id, connection_id)
        REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX endpoints_connection_idx ON endpoints (tenant_id, connection_id, id);
