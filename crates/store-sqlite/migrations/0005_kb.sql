-- Knowledge base: documents, the passages they are cut into, and the log of changes that
-- search indexes follow.

CREATE TABLE kb_documents (
    id               TEXT NOT NULL CONSTRAINT kb_documents_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL CONSTRAINT kb_documents_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    url              TEXT,
    format           TEXT NOT NULL,
    content          TEXT NOT NULL,
    widget_ids_json  TEXT NOT NULL,
    status           TEXT NOT NULL,
    error            TEXT,
    language         TEXT,
    chunk_count      INTEGER NOT NULL,
    characters       INTEGER NOT NULL,
    embedding_model  TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX kb_documents_tenant_idx ON kb_documents (tenant_id, id);
CREATE INDEX kb_documents_status_idx ON kb_documents (status, id);

CREATE TABLE kb_chunks (
    id           TEXT NOT NULL CONSTRAINT kb_chunks_pkey PRIMARY KEY,
    document_id  TEXT NOT NULL CONSTRAINT kb_chunks_document_fkey REFERENCES kb_documents (id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL,
    ord          INTEGER NOT NULL,
    headings_json  TEXT NOT NULL,
    text         TEXT NOT NULL,
    language     TEXT NOT NULL,
    -- Little-endian f32s, base64: the same text column in both backends.
    embedding    TEXT
) STRICT;
CREATE INDEX kb_chunks_document_idx ON kb_chunks (document_id, ord);
CREATE INDEX kb_chunks_tenant_idx ON kb_chunks (tenant_id);

CREATE TABLE kb_changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id  TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- The model that embeds passages and questions for vector search; empty: full-text search only.
ALTER TABLE ai_settings ADD COLUMN embedding_model TEXT NOT NULL DEFAULT '';
