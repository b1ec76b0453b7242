-- What the account's people did (sign-ins, settings, exports, erasures, approvals), for owners.
-- The actor is kept as ids: the e-mail is read through the user, while they exist.
CREATE TABLE audit_log (
    id                TEXT NOT NULL CONSTRAINT audit_log_pkey PRIMARY KEY,
    tenant_id         TEXT NOT NULL CONSTRAINT audit_log_tenant_fkey
        REFERENCES tenants (id) ON DELETE CASCADE,
    at                INTEGER NOT NULL,
    actor_user_id     TEXT,
    actor_api_key_id  TEXT,
    action            TEXT NOT NULL,
    target            TEXT,
    details_json      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, at, id);

-- Closed conversations older than this many days are deleted every night (null: kept).
ALTER TABLE tenants ADD COLUMN retention_days INTEGER;
