-- Operators' private notes on a conversation. They live apart from the messages on purpose:
-- everything a visitor (or the AI talking to one) can read is read from `messages`, so a note
-- cannot reach a visitor by any path that forgot to filter it out.
CREATE TABLE notes (
    id               TEXT NOT NULL CONSTRAINT notes_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    -- The conversation's last message number when the note was written: where it sits.
    after_seq        INTEGER NOT NULL,
    author_user_id   TEXT,
    text             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    CONSTRAINT notes_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX notes_conversation_idx ON notes (tenant_id, conversation_id, after_seq, created_at);
