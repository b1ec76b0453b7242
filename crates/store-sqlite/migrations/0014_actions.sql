-- Safe actions: who must agree before an endpoint is called, and the calls that wait.
-- Endpoints that change data start out waiting for the visitor, existing ones included.
ALTER TABLE endpoints ADD COLUMN approval TEXT NOT NULL DEFAULT 'none'
    CONSTRAINT endpoints_approval_check
    CHECK (approval IN ('none', 'visitor', 'operator', 'visitor_and_operator'));
ALTER TABLE endpoints ADD COLUMN approval_summary TEXT NOT NULL DEFAULT '';
UPDATE endpoints SET approval = 'visitor' WHERE method IN ('POST', 'PUT', 'PATCH', 'DELETE');

CREATE TABLE pending_actions (
    id                    TEXT NOT NULL CONSTRAINT pending_actions_pkey PRIMARY KEY,
    tenant_id             TEXT NOT NULL,
    conversation_id       TEXT NOT NULL,
    message_id            TEXT NOT NULL,
    -- No reference: an endpoint deleted meanwhile makes the action stale, not gone.
    endpoint_id           TEXT NOT NULL,
    endpoint_name         TEXT NOT NULL,
    proposed_by_json      TEXT NOT NULL,
    summary               TEXT NOT NULL,
    request_json          TEXT NOT NULL,
    fingerprint           TEXT NOT NULL,
    variables_json        TEXT NOT NULL,
    continuation_json     TEXT NOT NULL,
    approval              TEXT NOT NULL,
    state                 TEXT NOT NULL CONSTRAINT pending_actions_state_check
        CHECK (state IN ('pending', 'confirmed', 'executed', 'failed', 'cancelled', 'denied', 'expired', 'stale')),
    visitor_confirmed_at  INTEGER,
    operator_approved_at  INTEGER,
    decided_by            TEXT,
    note                  TEXT,
    outcome_json          TEXT,
    expires_at            INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    CONSTRAINT pending_actions_conversation_fkey FOREIGN KEY (tenant_id, conversation_id)
        REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX pending_actions_state_idx ON pending_actions (tenant_id, state, id);
CREATE INDEX pending_actions_conversation_idx ON pending_actions (conversation_id, id);
CREATE INDEX pending_actions_expiry_idx ON pending_actions (state, expires_at);

-- The bot message that asks for an action carries it, so the widget can show its buttons.
ALTER TABLE messages ADD COLUMN action_id TEXT;
