-- What each API key reaches, its scopes' names separated by spaces: 'api' (the HTTP API, what
-- every key made so far could reach) and the MCP server's 'mcp:read', 'mcp:write',
-- 'mcp:assistant'.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'api';
