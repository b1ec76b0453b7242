-- How far each person has read each conversation: the inbox shows a conversation as unread to
-- them while a visitor message lies beyond their mark. Both references carry the tenant, so a
-- mark can never tie a person to another tenant's conversation.
CREATE TABLE read_marks (
    tenant_id        TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    -- The conversation's last message number when the person read it.
    read_seq         INTEGER NOT NULL,
    read_at          INTEGER NOT NULL,
    CONSTRAINT read_marks_pkey PRIMARY KEY (conversation_id, user_id),
    CONSTRAINT read_marks_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT read_marks_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
) STRICT;
-- Deleting a person deletes their marks: found through this index.
CREATE INDEX read_marks_user_idx ON read_marks (tenant_id, user_id);

-- The inbox lists conversations by latest activity: the last message, or the creation.
CREATE INDEX conversations_activity_idx
    ON conversations (tenant_id, (COALESCE(last_message_at, created_at)), id);
