-- Optional reuse of successful GET answers, per tenant and request (see docs/api-connections.md).
ALTER TABLE endpoints ADD COLUMN cache_ttl_s INTEGER;
