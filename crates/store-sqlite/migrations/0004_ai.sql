-- AI: per-tenant provider settings, token usage, translations, operators' languages.

ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
-- A message's translation: for a visitor message into the operator's language, for an operator
-- message into the visitor's. The original stays in `text`.
ALTER TABLE messages ADD COLUMN translation TEXT;
ALTER TABLE messages ADD COLUMN translation_language TEXT;

CREATE TABLE ai_settings (
    tenant_id       TEXT NOT NULL CONSTRAINT ai_settings_pkey PRIMARY KEY
                    CONSTRAINT ai_settings_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    base_url        TEXT NOT NULL,
    model           TEXT NOT NULL,
    api_key_sealed  TEXT,
    instructions    TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE ai_usage (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL CONSTRAINT ai_usage_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    conversation_id  TEXT,
    purpose          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    model            TEXT NOT NULL,
    input_tokens     INTEGER NOT NULL,
    output_tokens    INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX ai_usage_tenant_idx ON ai_usage (tenant_id, created_at);
CREATE INDEX ai_usage_conversation_idx ON ai_usage (conversation_id);
