-- The rules' revision becomes the whole configuration's: every change to a tenant's settings,
-- widgets, rules, connections, endpoints or AI settings counts, so each node can cache what it
-- reads on every message and notice another node's change with one cheap read.
ALTER TABLE tenants RENAME COLUMN rules_revision TO config_revision;
