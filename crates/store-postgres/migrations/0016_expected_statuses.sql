-- Statuses besides 2xx that are normal answers of an endpoint ("order not found"): not failures
-- in its health. Lookups (GET) start out expecting 404, existing ones included.
ALTER TABLE endpoints ADD COLUMN expected_statuses_json TEXT NOT NULL DEFAULT '[]';
UPDATE endpoints SET expected_statuses_json = '[404]' WHERE method IN ('GET', 'HEAD');
