// A tenant's backend for the browser tests, on 127.0.0.1: an OAuth 2.0 token endpoint (client
// credentials in a Basic header) and an orders API that wants the token it issued.
import { createServer } from "node:http";

export async function shopBackend({ clientId, clientSecret }) {
  const issued = new Set();
  const seen = { tokenRequests: 0, orderRequests: 0, webhooks: [] };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const json = (status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
    if (req.method === "POST" && url.pathname === "/oauth/token") {
      seen.tokenRequests++;
      const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64");
      req.resume();
      if (req.headers.authorization !== `Basic ${basic}`) return json(401, { error: "invalid_client", error_description: "client authentication failed" });
      const token = `tok-${issued.size + 1}`;
      issued.add(token);
      return json(200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
    }
    if (req.method === "POST" && url.pathname === "/hooks") {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => { seen.webhooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString() }); json(200, { ok: true }); });
      return;
    }
    const bearer = (req.headers.authorization || "").replace(/^Bearer /, "");
    if (!issued.has(bearer)) return json(401, { error: "unauthorized" });
    if (url.pathname === "/api" || url.pathname === "/api/") return json(200, { service: "shop", version: 2 });
    const order = url.pathname.match(/^\/api\/orders\/(\d+)$/);
    if (order) {
      seen.orderRequests++;
      return json(200, { data: { id: order[1], status: "shipped", shipping: { carrier: "DHL", eta: "2026-12-01" }, items: [{ sku: "LAMP-7" }] } });
    }
    json(404, { error: "not_found" });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, port: server.address().port, seen, close: () => server.close() };
}
