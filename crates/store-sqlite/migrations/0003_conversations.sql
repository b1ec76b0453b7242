-- Widgets, conversations, messages, rules and the engine's trace.

ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
-- Whether an operator takes conversations now.
ALTER TABLE users ADD COLUMN available INTEGER NOT NULL DEFAULT 0;

CREATE TABLE widgets (
    id                      TEXT NOT NULL CONSTRAINT widgets_pkey PRIMARY KEY,
    tenant_id               TEXT NOT NULL CONSTRAINT widgets_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    greeting                TEXT,
    active                  INTEGER NOT NULL,
    ai_enabled              INTEGER NOT NULL,
    translation_enabled     INTEGER NOT NULL,
    primary_color           TEXT NOT NULL,
    position                TEXT NOT NULL,
    allowed_origins_json    TEXT NOT NULL,
    identity_secret_sealed  TEXT,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    CONSTRAINT widgets_tenant_id_key UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE conversations (
    id                  TEXT NOT NULL CONSTRAINT conversations_pkey PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    widget_id           TEXT NOT NULL,
    status              TEXT NOT NULL CONSTRAINT conversations_status_check CHECK (status IN ('open', 'pending', 'closed')),
    assigned_user_id    TEXT,
    assigned_team_id    TEXT,
    visitor_json        TEXT NOT NULL,
    visitor_token_hash  TEXT NOT NULL CONSTRAINT conversations_visitor_token_hash_key UNIQUE,
    variables_json      TEXT NOT NULL,
    last_seq            INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    last_message_at     INTEGER,
    CONSTRAINT conversations_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT conversations_widget_fkey FOREIGN KEY (tenant_id, widget_id)
        REFERENCES widgets (tenant_id, id) ON DELETE CASCADE,
    -- Single-column keys so that deleting a team or user only clears the assignment; the engine
    -- checks that an assignee belongs to the conversation's tenant.
    CONSTRAINT conversations_user_fkey FOREIGN KEY (assigned_user_id)
        REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT conversations_team_fkey FOREIGN KEY (assigned_team_id)
        REFERENCES teams (id) ON DELETE SET NULL
) STRICT;
CREATE INDEX conversations_list_idx ON conversations (tenant_id, status, id);
CREATE INDEX conversations_assigned_idx ON conversations (tenant_id, assigned_user_id, status);

CREATE TABLE messages (
    id               TEXT NOT NULL CONSTRAINT messages_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    author           TEXT NOT NULL CONSTRAINT messages_author_check CHECK (author IN ('visitor', 'bot', 'operator', 'system')),
    author_user_id   TEXT,
    text             TEXT NOT NULL,
    -- Visitor messages wait for the engine; the flag lets a restart finish what a crash interrupted.
    processed        INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    CONSTRAINT messages_conversation_seq_key UNIQUE (conversation_id, seq),
    CONSTRAINT messages_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX messages_unprocessed_idx ON messages (processed, created_at);

CREATE TABLE rules (
    id               TEXT NOT NULL CONSTRAINT rules_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL CONSTRAINT rules_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    widget_id        TEXT,
    priority         INTEGER NOT NULL,
    enabled          INTEGER NOT NULL,
    definition_json  TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CONSTRAINT rules_widget_fkey FOREIGN KEY (tenant_id, widget_id)
        REFERENCES widgets (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX rules_order_idx ON rules (tenant_id, priority, id);

CREATE TABLE trace_events (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    message_id       TEXT,
    kind             TEXT NOT NULL,
    data_json        TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    CONSTRAINT trace_events_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX trace_events_conversation_idx ON trace_events (tenant_id, conversation_id, seq);
