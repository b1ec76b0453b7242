-- Files sent in conversations. A message lists its files (attachments_json); this table says
-- whose each one is, so only that conversation's visitor and the account's people get it, and
-- it goes when its conversation goes. SQLite keeps the bytes in files beside the database
-- (named by id; `content` stays null); PostgreSQL keeps them in `content`.
ALTER TABLE messages ADD COLUMN attachments_json TEXT;
ALTER TABLE tenants ADD COLUMN attachment_policy_json TEXT;
CREATE TABLE attachments (
    id               TEXT NOT NULL CONSTRAINT attachments_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    content          BLOB,
    created_at       INTEGER NOT NULL,
    CONSTRAINT attachments_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX attachments_conversation_idx ON attachments (tenant_id, conversation_id);
