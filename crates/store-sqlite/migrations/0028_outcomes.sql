-- Analytics, read from conversations: which source answered each assistant reply, how each
-- closed conversation ended, and how long the visitor waited for the assistant's first reply
-- and for a person's (milliseconds; set once).
ALTER TABLE messages ADD COLUMN source TEXT;
ALTER TABLE conversations ADD COLUMN outcome TEXT;
ALTER TABLE conversations ADD COLUMN first_assistant_ms INTEGER;
ALTER TABLE conversations ADD COLUMN first_person_ms INTEGER;
-- Reports read the first-response times of the conversations started in a range from this
-- index alone.
CREATE INDEX conversations_created_idx
    ON conversations (tenant_id, created_at, widget_id, first_assistant_ms, first_person_ms);
-- When the outcome was decided (milliseconds): its count is in that hour.
ALTER TABLE conversations ADD COLUMN outcome_at INTEGER;
-- Analytics, counted as things happen: per account, hour (UTC, milliseconds at its start),
-- widget and metric ('visitor_messages', 'reply:ai', 'outcome:abandoned', 'rating:4',
-- 'calls:ep_…', …). Every change adds to its row in one statement, so nodes sharing the
-- database add up. Counts name no person: they stay when conversations are erased.
CREATE TABLE analytics_counts (
    tenant_id  TEXT NOT NULL,
    hour       INTEGER NOT NULL,
    widget_id  TEXT NOT NULL,
    metric     TEXT NOT NULL,
    count      INTEGER NOT NULL,
    CONSTRAINT analytics_counts_pkey PRIMARY KEY (tenant_id, hour, widget_id, metric)
) STRICT, WITHOUT ROWID;
