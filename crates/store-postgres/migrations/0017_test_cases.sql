-- Test suites: each tenant's scripted conversations. The definition (widget, visitor, turns,
-- fakes, expectations) is one JSON document; the suite is a column so a run of one suite finds
-- its cases directly.
CREATE TABLE test_cases (
    id               TEXT NOT NULL CONSTRAINT test_cases_pkey PRIMARY KEY,
    tenant_id        TEXT NOT NULL CONSTRAINT test_cases_tenant_fkey
        REFERENCES tenants (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    suite            TEXT,
    definition_json  TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX test_cases_suite_idx ON test_cases (tenant_id, suite, id);
