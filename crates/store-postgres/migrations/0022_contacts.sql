-- Contacts: a visitor seen again is one person, found by the verified user id the site signed
-- (`user_id` holds only signed ids) or by the browser (the hash of a random id the widget
-- keeps). `search_text` is the lowercased name, e-mail and user id, for `GET /contacts?q=`.
CREATE TABLE contacts (
    id                TEXT NOT NULL CONSTRAINT contacts_pkey PRIMARY KEY,
    tenant_id         TEXT NOT NULL CONSTRAINT contacts_tenant_fkey
        REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT,
    email             TEXT,
    user_id           TEXT,
    verified          BOOLEAN NOT NULL,
    language          TEXT,
    attributes_json   TEXT NOT NULL,
    browser_key_hash  TEXT,
    search_text       TEXT NOT NULL,
    first_seen_at     BIGINT NOT NULL,
    last_seen_at      BIGINT NOT NULL,
    CONSTRAINT contacts_tenant_user_key UNIQUE (tenant_id, user_id),
    CONSTRAINT contacts_tenant_browser_key UNIQUE (tenant_id, browser_key_hash)
);
CREATE INDEX contacts_seen_idx ON contacts (tenant_id, last_seen_at, id);

-- Deleting a contact takes every conversation still pointing at it (one started while an
-- erasure ran included).
ALTER TABLE conversations ADD COLUMN contact_id TEXT
    CONSTRAINT conversations_contact_fkey REFERENCES contacts (id) ON DELETE CASCADE;
CREATE INDEX conversations_contact_idx ON conversations (contact_id);
