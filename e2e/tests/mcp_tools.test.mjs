// An MCP server's tools in the dashboard: a connection of kind MCP made in the form, its tools
// read from a small MCP server on loopback (JSON answers, two pages), one switched on for the AI
// and another made to wait for a person — checked through the API — and the rule editor offering
// "Call an MCP tool". Keyboard only where it matters: the switch and the approval are controls
// with names.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Switchboard, launch, eventually } from "../harness.mjs";

let sb, browser, mcp;

/** A minimal MCP server: initialize, two pages of tools, tools/call answering a status. */
async function mcpServer() {
  const tool = (name, readOnly) => ({ name, description: `The ${name} tool`, inputSchema: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] }, annotations: { readOnlyHint: readOnly } });
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const answer = (result) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
      if (message.method === "initialize") return answer({ protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "shop", version: "1" } });
      if (message.method === "notifications/initialized") return res.writeHead(202).end();
      if (message.method === "tools/list" && message.params?.cursor === "2") return answer({ tools: [tool("cancel_order", false)] });
      if (message.method === "tools/list") return answer({ tools: [tool("order_status", true)], nextCursor: "2" });
      if (message.method === "tools/call") return answer({ content: [{ type: "text", text: "shipped" }], structuredContent: { status: "shipped" } });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "no such method" } }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/mcp`, port: server.address().port, close: () => server.close() };
}

before(async () => {
  mcp = await mcpServer();
  sb = await Switchboard.create(["--ssrf-allow", `127.0.0.1:${mcp.port}`]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  mcp?.close();
  await sb?.stop();
});

test("an MCP server's tools are read, switched on and given an approval in the dashboard", async () => {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.goto(`${sb.base}/#connections/new`);
  const main = page.getByRole("main");
  await main.getByLabel("Name").fill("Shop MCP");
  await main.getByLabel("It is").selectOption("mcp");
  await main.getByLabel("Base URL").fill(mcp.url);
  await main.getByLabel("Identity header (optional)").fill("X-Customer-Id");
  await main.getByRole("button", { name: "Create connection" }).click();
  await main.getByRole("heading", { name: "Shop MCP" }).waitFor();
  const tools = main.getByRole("region", { name: "Tools" });
  await tools.getByText("No tools read yet").waitFor();
  assert.equal(await main.getByRole("region", { name: "Endpoints" }).count(), 0, "an MCP server's endpoints are its tools");

  await tools.getByRole("button", { name: "Read tools from the server" }).click();
  await tools.getByText("The server lists 2 tool(s).").waitFor();
  const on = tools.getByRole("checkbox", { name: "The AI may call order_status" });
  assert.equal(await on.isChecked(), false, "a new tool starts off");
  await on.focus();
  await page.keyboard.press("Space");
  await tools.getByText("Saved order_status.").waitFor();
  const approval = tools.getByRole("combobox", { name: "Before cancel_order runs" });
  assert.equal(await approval.inputValue(), "visitor", "a tool that may change data waits for the visitor");
  await approval.selectOption("operator");
  await tools.getByText("Saved cancel_order.").waitFor();

  const [connection] = await sb.api("GET", "/connections");
  assert.equal(connection.kind, "mcp");
  assert.equal(connection.identity_header, "X-Customer-Id");
  const stored = await sb.api("GET", `/connections/${connection.id}/tools`);
  const byName = Object.fromEntries(stored.map((t) => [t.name, t]));
  assert.equal(byName.order_status.enabled, true);
  assert.equal(byName.cancel_order.approval, "operator");

  // The rule editor offers the tool, with its input.
  await page.goto(`${sb.base}/#rules/new`);
  await main.getByRole("combobox", { name: "Add an action" }).selectOption("CALL_TOOL");
  await main.getByRole("button", { name: "Add action" }).click();
  const pick = main.getByLabel("Tool", { exact: true });
  await pick.selectOption({ label: "order_status" });
  await main.getByText("What the call needs, and where each value comes from:").waitFor();
  assert.deepEqual(errors, []);
});
