-- Password reset tokens and invitations: single use, short-lived, stored as SHA-256 digests.

CREATE TABLE password_resets (
    token_hash  TEXT NOT NULL CONSTRAINT password_resets_pkey PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    CONSTRAINT password_resets_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX password_resets_user_idx ON password_resets (tenant_id, user_id);

CREATE TABLE invitations (
    id           TEXT NOT NULL CONSTRAINT invitations_pkey PRIMARY KEY,
    tenant_id    TEXT NOT NULL CONSTRAINT invitations_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CONSTRAINT invitations_role_check CHECK (role IN ('owner', 'admin', 'operator')),
    token_hash   TEXT NOT NULL CONSTRAINT invitations_token_hash_key UNIQUE,
    invited_by   TEXT CONSTRAINT invitations_invited_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER
) STRICT;
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id);
