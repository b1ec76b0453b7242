-- Which node handles a conversation's visitor messages right now. With several nodes, a node
-- takes the lease, handles the conversation's unhandled messages oldest first, and lets go; a
-- lease a crashed node left behind expires.
CREATE TABLE conversation_leases (
    conversation_id TEXT NOT NULL CONSTRAINT conversation_leases_pkey PRIMARY KEY,
    holder          TEXT NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
