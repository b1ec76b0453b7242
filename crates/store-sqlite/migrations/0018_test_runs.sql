-- Runs of test cases: each one's state, and its results as one JSON document (transcripts and
-- traces of the sandbox conversations included: those live nowhere else).
CREATE TABLE test_runs (
    id          TEXT NOT NULL CONSTRAINT test_runs_pkey PRIMARY KEY,
    tenant_id   TEXT NOT NULL CONSTRAINT test_runs_tenant_fkey
        REFERENCES tenants (id) ON DELETE CASCADE,
    state       TEXT NOT NULL CONSTRAINT test_runs_state_check
        CHECK (state IN ('running', 'passed', 'failed')),
    run_json    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX test_runs_tenant_idx ON test_runs (tenant_id, id);
