-- What visitors think: a rating of a conversation (1–5, once closed; the last one counts) and
-- whether a bot reply helped. Both go with their conversation.
CREATE TABLE ratings (
    conversation_id  TEXT NOT NULL CONSTRAINT ratings_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    score            BIGINT NOT NULL,
    comment          TEXT,
    rated_at         BIGINT NOT NULL,
    CONSTRAINT ratings_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE message_feedback (
    message_id       TEXT NOT NULL CONSTRAINT message_feedback_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    helpful          BOOLEAN NOT NULL,
    given_at         BIGINT NOT NULL,
    CONSTRAINT message_feedback_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX message_feedback_conversation_idx ON message_feedback (tenant_id, conversation_id);
