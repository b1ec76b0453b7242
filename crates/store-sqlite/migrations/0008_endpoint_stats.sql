-- Endpoint call health: each real call an endpoint makes for a conversation is added to the
-- bucket of its endpoint and clock hour (hour_start, ms since the epoch) with one upsert, so nodes
-- sharing the database add up. The windows shown (1 h, 24 h, 7 d) are computed from these rows
-- (see sb_domain::call_stats); rows older than 8 days are pruned.
--
-- The latency histogram is one integer column per bucket (ms_le_N: calls of at most N ms, the
-- last also taking the rare overrun of the 5 s ceiling) rather than one JSON column: an upsert
-- can add integer columns atomically in SQL both databases accept, while merging JSON would
-- need each dialect's own functions or a read-modify-write that races between nodes.
CREATE TABLE endpoint_stats (
    tenant_id             TEXT NOT NULL,
    endpoint_id           TEXT NOT NULL,
    -- The endpoint's connection, so a connection's statistics are one indexed query.
    connection_id         TEXT NOT NULL,
    hour_start            INTEGER NOT NULL,
    calls                 INTEGER NOT NULL,
    errors                INTEGER NOT NULL,
    ms_le_5               INTEGER NOT NULL,
    ms_le_10              INTEGER NOT NULL,
    ms_le_20              INTEGER NOT NULL,
    ms_le_30              INTEGER NOT NULL,
    ms_le_50              INTEGER NOT NULL,
    ms_le_75              INTEGER NOT NULL,
    ms_le_100             INTEGER NOT NULL,
    ms_le_150             INTEGER NOT NULL,
    ms_le_200             INTEGER NOT NULL,
    ms_le_300             INTEGER NOT NULL,
    ms_le_500             INTEGER NOT NULL,
    ms_le_750             INTEGER NOT NULL,
    ms_le_1000            INTEGER NOT NULL,
    ms_le_1500            INTEGER NOT NULL,
    ms_le_2000            INTEGER NOT NULL,
    ms_le_3000            INTEGER NOT NULL,
    ms_le_5000            INTEGER NOT NULL,
    last_call_at          INTEGER NOT NULL,
    last_call_ok          INTEGER NOT NULL,
    last_call_status      INTEGER,
    last_call_latency_ms  INTEGER NOT NULL,
    last_call_error_code  TEXT,
    last_error_at         INTEGER,
    last_error_code       TEXT,
    last_error_message    TEXT,
    CONSTRAINT endpoint_stats_pkey PRIMARY KEY (tenant_id, endpoint_id, hour_start),
    CONSTRAINT endpoint_stats_endpoint_fkey FOREIGN KEY (tenant_id, endpoint_id)
        REFERENCES endpoints (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT endpoint_stats_connection_fkey FOREIGN KEY (tenant_id, connection_id)
        REFERENCES connections (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX endpoint_stats_connection_idx ON endpoint_stats (tenant_id, connection_id, hour_start);
-- For pruning across tenants.
CREATE INDEX endpoint_stats_hour_idx ON endpoint_stats (hour_start);
