// The lamp shop's own API for the first-run walkthrough, on 127.0.0.1: an OAuth 2.0 token
// endpoint (client credentials in a Basic header), a root that answers, and orders 4521 and
// 4522 (any other number is a 404, as real shops answer). Its OpenAPI description is SPEC.
import { createServer } from "node:http";

const ORDERS = {
  4521: { status: "shipped", items: [{ name: "Brass desk lamp" }, { name: "LED bulb E27" }] },
  4522: { status: "packed", items: [{ name: "Desk lamp" }] },
};

export async function ownShop({ id, secret }) {
  const issued = new Set();
  const seen = { orders: [] };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const json = (status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
    req.resume();
    if (req.method === "POST" && url.pathname === "/oauth/token") {
      const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64");
      if (req.headers.authorization !== `Basic ${basic}`) return json(401, { error: "invalid_client" });
      const token = `tok-${issued.size + 1}`;
      issued.add(token);
      return json(200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
    }
    if (!issued.has((req.headers.authorization || "").replace(/^Bearer /, ""))) return json(401, { error: "unauthorized" });
    if (url.pathname === "/api" || url.pathname === "/api/") return json(200, { service: "lamp shop" });
    const order = url.pathname.match(/^\/api\/orders\/(\d+)$/);
    if (order) {
      seen.orders.push(order[1]);
      const found = ORDERS[order[1]];
      return found ? json(200, { data: { id: order[1], ...found } }) : json(404, { error: "no such order" });
    }
    json(404, { error: "not_found" });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return { base: `http://127.0.0.1:${port}`, port, seen, close: () => server.close() };
}

/** The shop's OpenAPI description, as its developers publish it. */
export const SPEC = (base) => [
  "openapi: 3.0.3",
  "info: {title: Lamp shop, version: '1'}",
  `servers: [{url: '${base}/api'}]`,
  "paths:",
  "  /orders/{orderId}:",
  "    get:",
  "      operationId: getOrder",
  "      summary: An order's status and items",
  "      parameters:",
  "        - {name: orderId, in: path, required: true, description: The order number, schema: {type: integer}}",
].join("\n");
