-- Channels (docs/channels.md): the account's e-mail inboxes, Telegram bots and WhatsApp numbers.
-- Settings are JSON by kind; secrets (tokens, passwords) are sealed like connection credentials.
CREATE TABLE channels (
    id              TEXT NOT NULL CONSTRAINT channels_pkey PRIMARY KEY,
    tenant_id       TEXT NOT NULL CONSTRAINT channels_tenant_fkey REFERENCES tenants (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    widget_id       TEXT NOT NULL,
    settings_json   TEXT NOT NULL,
    secrets_sealed  TEXT,
    active          BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT channels_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT channels_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT channels_widget_fkey FOREIGN KEY (tenant_id, widget_id)
        REFERENCES widgets (tenant_id, id) ON DELETE CASCADE
);

-- A channel's conversation: the thread it is on the other side (a Telegram chat, a WhatsApp
-- number, an e-mail thread) and how far its replies went out. Every bot or operator message
-- numbered beyond delivered_seq still has to be sent; a node claims the thread for sending by
-- setting locked_until in one UPDATE (a dead node's claim runs out), so a reply is never lost
-- and never sent twice by two nodes.
CREATE TABLE channel_threads (
    conversation_id   TEXT NOT NULL CONSTRAINT channel_threads_pkey PRIMARY KEY,
    tenant_id         TEXT NOT NULL,
    channel_id        TEXT NOT NULL,
    thread_key        TEXT NOT NULL,
    delivered_seq     BIGINT NOT NULL,
    -- When the customer last wrote (WhatsApp's 24-hour window).
    last_inbound_at   BIGINT NOT NULL,
    attempts          BIGINT NOT NULL,
    next_attempt_at   BIGINT,
    last_error        TEXT,
    locked_until      BIGINT,
    CONSTRAINT channel_threads_thread_key UNIQUE (channel_id, thread_key),
    CONSTRAINT channel_threads_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT channel_threads_channel_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES channels (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX channel_threads_due_idx ON channel_threads (next_attempt_at);

-- What each channel has received, by the provider's id for it: a provider sending an update
-- again (Telegram and WhatsApp retry until answered) is not a second message.
CREATE TABLE channel_inbound (
    channel_id    TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    received_at   BIGINT NOT NULL,
    CONSTRAINT channel_inbound_pkey PRIMARY KEY (channel_id, external_id),
    CONSTRAINT channel_inbound_channel_fkey FOREIGN KEY (channel_id)
        REFERENCES channels (id) ON DELETE CASCADE
);
CREATE INDEX channel_inbound_received_idx ON channel_inbound (received_at);

ALTER TABLE conversations ADD COLUMN channel_kind TEXT NOT NULL DEFAULT 'widget';
ALTER TABLE conversations ADD COLUMN channel_id TEXT;
