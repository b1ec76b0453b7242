-- Counts are added as rows of their own, one per change, and folded into analytics_counts
-- each minute; reports read both. An insert waits on no other writer: messages of one
-- widget-hour written at once do not queue on one row, and two writes adding to the same
-- counts in different orders cannot deadlock.
CREATE TABLE analytics_deltas (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    widget_id  TEXT NOT NULL,
    metric     TEXT NOT NULL,
    count      BIGINT NOT NULL
);
CREATE INDEX analytics_deltas_hour_idx ON analytics_deltas (tenant_id, hour);
