-- Canned replies: each tenant's saved answers, found by their shortcut.
CREATE TABLE canned_replies (
    id          TEXT NOT NULL CONSTRAINT canned_replies_pkey PRIMARY KEY,
    tenant_id   TEXT NOT NULL CONSTRAINT canned_replies_tenant_fkey
        REFERENCES tenants (id) ON DELETE CASCADE,
    shortcut    TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT canned_replies_tenant_shortcut_key UNIQUE (tenant_id, shortcut)
);
