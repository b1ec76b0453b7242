-- Tenants, users, dashboard sessions, API keys and teams.
-- Constraint names match the PostgreSQL schema; the store maps them to API errors.
-- Timestamps are milliseconds since the Unix epoch.

CREATE TABLE tenants (
    id          TEXT NOT NULL CONSTRAINT tenants_pkey PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id             TEXT NOT NULL CONSTRAINT users_pkey PRIMARY KEY,
    tenant_id      TEXT NOT NULL CONSTRAINT users_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'operator')),
    created_at     INTEGER NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    -- Lets child tables reference (tenant_id, id), so a row can never point at another tenant's user.
    CONSTRAINT users_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE sessions (
    id          TEXT NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
    token_hash  TEXT NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    csrf_hash   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id);

CREATE TABLE api_keys (
    id            TEXT NOT NULL CONSTRAINT api_keys_pkey PRIMARY KEY,
    tenant_id     TEXT NOT NULL CONSTRAINT api_keys_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL,
    role          TEXT NOT NULL CONSTRAINT api_keys_role_check CHECK (role IN ('owner', 'admin', 'operator')),
    created_by    TEXT CONSTRAINT api_keys_created_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    CONSTRAINT api_keys_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
) STRICT;

CREATE TABLE teams (
    id          TEXT NOT NULL CONSTRAINT teams_pkey PRIMARY KEY,
    tenant_id   TEXT NOT NULL CONSTRAINT teams_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT teams_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT teams_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE team_members (
    tenant_id  TEXT NOT NULL,
    team_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    CONSTRAINT team_members_pkey PRIMARY KEY (team_id, user_id),
    CONSTRAINT team_members_team_fkey FOREIGN KEY (tenant_id, team_id)
        REFERENCES teams (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT team_members_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX team_members_user_idx ON team_members (tenant_id, user_id);
