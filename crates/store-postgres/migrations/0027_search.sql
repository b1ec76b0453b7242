-- Conversation search: every word a conversation holds (its messages, the visitor's name and
-- e-mail, its variables' values), analysed as the knowledge base analyses text, once per
-- conversation. A search looks each word up here; the rows go with their conversation.
CREATE TABLE search_terms (
    tenant_id        TEXT NOT NULL,
    term             TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    CONSTRAINT search_terms_pkey PRIMARY KEY (tenant_id, term, conversation_id),
    CONSTRAINT search_terms_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX search_terms_conversation_idx ON search_terms (tenant_id, conversation_id);
-- Conversations waiting to be given their words (those from before search, and all of them
-- after `switchboard search rebuild`); each leaves once done.
CREATE TABLE search_backlog (
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL CONSTRAINT search_backlog_pkey PRIMARY KEY,
    CONSTRAINT search_backlog_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
INSERT INTO search_backlog (tenant_id, conversation_id) SELECT tenant_id, id FROM conversations;
