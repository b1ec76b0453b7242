-- Analytics, read from conversations: which source answered each assistant reply, how each
-- closed conversation ended, and how long the visitor waited for the assistant's first reply
-- and for a person's (milliseconds; set once).
ALTER TABLE messages ADD COLUMN source TEXT;
ALTER TABLE conversations ADD COLUMN outcome TEXT;
ALTER TABLE conversations ADD COLUMN first_assistant_ms INTEGER;
ALTER TABLE conversations ADD COLUMN first_person_ms INTEGER;
