-- MCP connections: what a connection speaks ('http' or 'mcp') and the header that carries a
-- verified visitor's user_id to an MCP server; an endpoint of an MCP connection keeps the
-- tool it calls (name, schemas, read-only hint) as the server listed it.
ALTER TABLE connections ADD COLUMN kind TEXT NOT NULL DEFAULT 'http';
ALTER TABLE connections ADD COLUMN identity_header TEXT;
ALTER TABLE endpoints ADD COLUMN tool_json TEXT;
