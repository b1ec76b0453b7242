-- The messages still waiting for the engine, by conversation. The old index led with the flag,
-- so finding a conversation's next waiting message walked all of its handled ones (one lookup
-- per message on PostgreSQL, growing with the conversation); this one holds only the waiting.
DROP INDEX messages_unprocessed_idx;
CREATE INDEX messages_waiting_idx ON messages (conversation_id, seq) WHERE processed = FALSE;
