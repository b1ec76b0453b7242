-- Counts changes to a tenant's rules, so each node can cache the rules it evaluates on every
-- message and notice, with one cheap read, when another node has changed them.
ALTER TABLE tenants ADD COLUMN rules_revision INTEGER NOT NULL DEFAULT 0;
