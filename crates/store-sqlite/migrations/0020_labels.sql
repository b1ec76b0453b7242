-- Labels: each tenant's tags for conversations. A conversation keeps the names of its labels
-- in `labels_json` (sorted), read with the conversation and filtered by with LIKE on the
-- quoted name — the same SQL on both backends; deleting a label takes it off every conversation.
CREATE TABLE labels (
    id          TEXT NOT NULL CONSTRAINT labels_pkey PRIMARY KEY,
    tenant_id   TEXT NOT NULL CONSTRAINT labels_tenant_fkey
        REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    color       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT labels_tenant_name_key UNIQUE (tenant_id, name)
) STRICT;
ALTER TABLE conversations ADD COLUMN labels_json TEXT NOT NULL DEFAULT '[]';
