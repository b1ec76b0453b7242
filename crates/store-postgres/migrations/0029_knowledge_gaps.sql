-- Knowledge gaps: visitor questions the assistant did not answer well — no answer at all, a
-- fallback reply, or a reply marked not helpful. One row per question (the visitor's message);
-- the words are the visitor's, so they go with their conversation.
CREATE TABLE question_gaps (
    message_id       TEXT NOT NULL CONSTRAINT question_gaps_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    widget_id        TEXT NOT NULL,
    text             TEXT NOT NULL,
    reason           TEXT NOT NULL,
    asked_at         BIGINT NOT NULL,
    CONSTRAINT question_gaps_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX question_gaps_asked_idx ON question_gaps (tenant_id, asked_at);
CREATE INDEX question_gaps_conversation_idx ON question_gaps (tenant_id, conversation_id);
