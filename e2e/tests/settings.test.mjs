// A new tenant configures everything in the dashboard, as a person would: signs up, connects an
// OAuth 2.0 backend, adds an endpoint, presses both test buttons, builds a lookup-and-reply rule
// in the rules editor, dry-runs it, copies the widget snippet onto a page — and gets the live
// answer through the widget. Every settings screen is photographed for docs/dashboard.md, and no
// page ever holds the connection's secret.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Switchboard, launch, eventually, ROOT } from "../harness.mjs";
import { shopBackend } from "../backend.mjs";

// The documentation's screenshots are refreshed on purpose (`./scripts/screenshots`), never as
// a side effect of running the tests: those go to e2e/artifacts, which git ignores.
const SHOTS = process.env.SWITCHBOARD_REFRESH_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : join(ROOT, "e2e", "artifacts");
mkdirSync(SHOTS, { recursive: true });
const CLIENT_ID = "switchboard-e2e";
const SECRET = `planted-secret-${Math.random().toString(36).slice(2)}`;
const WRONG_SECRET = `wrong-secret-${Math.random().toString(36).slice(2)}`;

let sb, browser, context, page, backend, host, snippet;
const pages = []; // every page's HTML and field values, checked for the secret at the end
const scriptErrors = [];

before(async () => {
  backend = await shopBackend({ clientId: CLIENT_ID, clientSecret: SECRET });
  sb = await Switchboard.blank(["--ssrf-allow", `127.0.0.1:${backend.port}`]);
  await sb.start();
  host = await hostServer();
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sb.base });
  page = await context.newPage();
  page.on("pageerror", (error) => scriptErrors.push(error.message));
});

after(async () => {
  await browser?.close();
  host?.close();
  backend?.close();
  await sb?.stop();
});

/** A third-party page that carries whatever snippet the tenant copied. */
async function hostServer() {
  const server = createServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lamp shop</title></head><body><h1>Lamp shop</h1>${snippet || ""}</body></html>`);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

async function remember() {
  // Optional parts left out must leave nothing behind: no stray "null" or "undefined" text.
  const stray = await page.evaluate(() => {
    const copy = document.body.cloneNode(true);
    for (const el of copy.querySelectorAll("pre, code, textarea, .kv")) el.remove();
    return (copy.textContent.match(/\b(null|undefined|NaN)\b|\[object Object\]/) || [null])[0];
  });
  assert.equal(stray, null, `stray text on ${page.url()}`);
  const values = await page.evaluate(() => [...document.querySelectorAll("input, textarea")].map((el) => el.value).join("\n"));
  pages.push({ url: page.url(), html: await page.content(), values });
}

async function shot(name) {
  await remember();
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const nav = (name) => page.locator("header nav").getByRole("link", { name, exact: true });
const heading = (text) => page.getByRole("heading", { level: 1, name: text }).waitFor();
const byField = (name) => page.locator(`[data-field="${name}"]`);

test("a new tenant signs up from the sign-in page", async () => {
  await page.goto(sb.base);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Company name").fill("Lamp Shop");
  await page.getByLabel("E-mail").fill("owner@lamps.test");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  // Checked before sending: the field says why, and nothing was created.
  assert.match(await page.locator("#password-error, .field-error").filter({ hasText: /8|characters|length/i }).first().textContent(), /./);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  // The first run starts at the checklist; nothing is done yet.
  await heading("Get started");
  await page.getByText("0 of 6 done.", { exact: false }).waitFor();
  await nav("API connections").click();
  await heading("API connections");
  await remember();
});

test("an OAuth 2.0 connection: field errors where they belong, a failing and a passing test", async () => {
  await page.getByRole("link", { name: "Add connection" }).click();
  await heading("New connection");
  await remember();
  await page.getByLabel("Name", { exact: true }).fill("Shop");
  await page.getByLabel("Base URL").fill("http://169.254.169.254/latest");
  await page.getByRole("button", { name: "Create connection" }).click();
  // The API refuses the address; its error sits next to the field and what was typed stays.
  await eventually(async () => (await page.getByLabel("Base URL").getAttribute("aria-invalid")) === "true", "the base URL marked invalid");
  assert.match(await byField("base_url").evaluate((el) => document.getElementById(`${el.id}-error`).textContent), /.+/);
  assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "Shop");

  await page.getByLabel("Base URL").fill(`${backend.base}/api`);
  await page.getByLabel("Method").selectOption("oauth2_client_credentials");
  await page.getByLabel("Token URL").fill(`${backend.base}/oauth/token`);
  await page.getByLabel("Client ID").fill(CLIENT_ID);
  await page.getByLabel("Client secret").fill(WRONG_SECRET);
  await page.getByRole("button", { name: "Create connection" }).click();
  await heading("Shop");
  await remember();

  await page.getByRole("button", { name: "Test connection" }).click();
  const result = page.locator(".result");
  await result.filter({ hasText: "Failed" }).waitFor();
  assert.match(await result.textContent(), /token request failed.*invalid_client/);

  // The secret is write-only: "set", replaceable, never shown.
  await page.locator(".secret-set").waitFor();
  await page.getByRole("button", { name: "Replace" }).click();
  await page.getByLabel("Client secret").fill(SECRET);
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByRole("button", { name: "Test connection" }).click();
  await result.filter({ hasText: "Connected" }).waitFor();
  assert.match(await result.textContent(), /HTTP 200 · \d+ ms/);
  await shot("connection");
});

test("an endpoint with a declared variable and a mapping, tested with a live preview", async () => {
  await page.getByRole("link", { name: "Add endpoint" }).click();
  await heading("New endpoint");
  await page.getByLabel("Name", { exact: true }).fill("get_order");
  await page.getByLabel("Description").fill("Looks up an order by its number: status and delivery date.");
  await byField("path").fill("/orders/{order_id}");
  await page.getByRole("button", { name: "Declare a variable" }).click();
  await byField("variables[0].name").fill("order_id");
  await byField("variables[0].pattern").fill("[0-9]{3,10}");
  for (const [variable, path] of [["order_status", "data.status"], ["delivery_eta", "data.shipping.eta"]]) {
    await page.getByRole("button", { name: "Add variable" }).click();
    await page.getByLabel("Variable", { exact: true }).last().fill(variable);
    await page.getByLabel("Path in the answer").last().fill(path);
  }
  await page.getByLabel("Available to the AI as a tool").check();
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await heading("get_order");

  await page.getByLabel("order_id", { exact: true }).fill("4521");
  await page.getByRole("button", { name: "Test endpoint" }).click();
  const result = page.locator(".result");
  await result.filter({ hasText: "Success" }).waitFor();
  const text = await result.textContent();
  assert.match(text, /GET http:\/\/127\.0\.0\.1:\d+\/api\/orders\/4521/);
  // The exact request: its headers too, the OAuth token as ***.
  assert.match(text, /authorization: Bearer \*\*\*/);
  assert.match(text, /accept: application\/json/);
  assert.match(text, /"shipped"/);
  // Each mapping row previews its value from the answer just received.
  await page.locator("output.preview.good", { hasText: '"2026-12-01"' }).waitFor();
  await page.getByLabel("Path in the answer").last().fill("data.shipping.nowhere");
  await page.locator("output.preview.bad", { hasText: "not in the answer" }).waitFor();
  await page.getByLabel("Path in the answer").last().fill("data.status");
  await page.locator("output.preview.good", { hasText: '"shipped"' }).waitFor();
  await shot("endpoint");
});

test("a widget: live preview, allowed site, and the snippet copied to the clipboard", async () => {
  await nav("Widgets").click();
  await heading("Widgets");
  await remember();
  await page.getByRole("link", { name: "New widget" }).click();
  // No AI provider on this server: the new widget starts with AI off, and says why.
  const aiSwitch = page.getByLabel(/AI answers/);
  await aiSwitch.waitFor();
  assert.equal(await aiSwitch.isChecked(), false);
  await page.getByText("no AI provider is set up").waitFor();
  await page.getByLabel("Name (shown in the header)").fill("Lamp help");
  await page.getByLabel("Greeting").fill("Hello! Ask me about your order.");
  await page.locator(".wp-header", { hasText: "Lamp help" }).waitFor();
  await page.getByLabel("Allowed sites (one per line)").fill(host.origin);
  await page.getByRole("button", { name: "Create widget" }).click();
  await heading("Lamp help");
  await page.getByRole("button", { name: "Copy snippet" }).click();
  await page.getByText("Copied.").waitFor();
  snippet = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(snippet, /^<script src="http:\/\/127\.0\.0\.1:\d+\/widget\.js" data-widget="wid_[0-9a-z]{26}" async><\/script>$/);
  await shot("widget");
});

test("a lookup-and-reply rule built in the editor, ordered by keyboard, and dry-run", async () => {
  await nav("Rules").click();
  await page.getByRole("link", { name: "New rule" }).click();
  await heading("New rule");
  await page.getByLabel("Name", { exact: true }).fill("Order status");
  await page.getByLabel("When", { exact: true }).selectOption("regex");
  await page.getByLabel("Pattern", { exact: true }).fill("order\\s*#?\\d+");
  for (const kind of ["SET_VARIABLE", "CALL_API"]) {
    await page.getByLabel("Add an action").selectOption(kind);
    await page.getByRole("button", { name: "Add action" }).click();
  }
  // The reply came first; move it to the end with the keyboard.
  const down = page.getByRole("button", { name: "Move “Reply with text” down" });
  await down.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  assert.deepEqual(await page.locator("ol.actions > li .action-head strong").allTextContents(), ["Set a variable", "Call an endpoint", "Reply with text"]);

  await byField("actions[0].name").fill("order_id");
  await page.getByLabel("Set it").selectOption("regex");
  await byField("actions[0].from_regex.pattern").fill("#?(\\d{3,})");
  await byField("actions[1].endpoint_id").selectOption({ label: "get_order" });
  await page.getByRole("button", { name: "Add on-error action" }).click();
  await byField("actions[1].on_error[0].text").fill("Sorry, I cannot look up order {order_id} right now.");
  await byField("actions[2].text").fill("Your order {order_id} is {order_status}, arriving {delivery_eta}.");
  // A condition whose value only looks like a number stays text ("007" is not 7).
  await page.getByRole("button", { name: "Add condition" }).click();
  await byField("conditions[0].variable").fill("order_id");
  await byField("conditions[0].op").selectOption("ne");
  await byField("conditions[0].value").fill("007");
  await page.getByRole("button", { name: "Create rule" }).click();
  await heading("Order status");
  const saved = await page.evaluate(() => fetch("/api/v1/rules").then((r) => r.json()));
  assert.deepEqual(saved.data[0].conditions, [{ variable: "order_id", op: "ne", value: "007" }]);

  const dryRun = page.locator('form[aria-labelledby="dry-run-title"]');
  await dryRun.getByLabel("Message").fill("Where is my order #4521?");
  await dryRun.getByRole("button", { name: "Try it" }).click();
  // The request is rendered with the order number the rule extracts in the same run.
  await dryRun.getByText(/get_order: order_id = "4521"; would send/).waitFor();
  assert.match(await dryRun.locator("pre.request").textContent(), /^GET http:\/\/127\.0\.0\.1:\d+\/api\/orders\/4521\n[\s\S]*authorization: Bearer \*\*\*/);
  assert.match(await dryRun.locator(".dry-run-result").textContent(), /Order status.*order_id = "4521".*would reply “Your order 4521 is , arriving \.”/s);
  await shot("rule");
  await nav("Rules").click();
  await heading("Rules");
  // Words, not action codes.
  await page.getByRole("cell", { name: "Set order_id → Look up get_order → Reply" }).waitFor();
  await shot("rules");
});

test("the visitor asks through the copied snippet and gets the live answer", async () => {
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(host.url);
  const widget = visitor.locator("#switchboard-widget");
  await widget.getByRole("button", { name: "Open chat" }).click();
  await widget.getByLabel("Your message").fill("Where is my order #4521?");
  await visitor.keyboard.press("Enter");
  await widget.locator(".msg.bot", { hasText: "Your order 4521 is shipped, arriving 2026-12-01." }).waitFor();
  assert.equal(backend.seen.orderRequests, 2, "one from the endpoint test, one for the visitor");
  await visitor.close();
});

test("the connection shows the visitor's call; more endpoints come from an OpenAPI document", async () => {
  await nav("API connections").click();
  await page.locator(".health.good", { hasText: "1 call in 24 h, 0 % failed" }).waitFor();
  await page.getByRole("link", { name: "Shop" }).click();
  await heading("Shop");
  const spec = [
    "openapi: 3.0.3",
    "info: {title: Lamp shop, version: '1'}",
    `servers: [{url: '${backend.base}/api'}]`,
    "paths:",
    "  /orders/{orderId}/tracking:",
    "    get:",
    "      operationId: getTracking",
    "      summary: Tracking events of an order",
    "      parameters:",
    "        - {name: orderId, in: path, required: true, description: The order number, schema: {type: integer}}",
    "  /upload:",
    "    post:",
    "      operationId: upload",
    "      requestBody: {required: true, content: {multipart/form-data: {schema: {type: object}}}}",
  ].join("\n");
  const panel = page.locator('form[aria-labelledby="import-title"]');
  await panel.getByLabel("Paste the document").fill(spec);
  await panel.getByRole("button", { name: "Preview" }).click();
  await panel.getByText("Would create 1 endpoint(s), skip 1.").waitFor();
  assert.match(await panel.locator(".result").textContent(), /GET \/orders\/\{orderId\}\/tracking/);
  await panel.getByRole("button", { name: "Import" }).click();
  await page.getByRole("link", { name: "getTracking" }).waitFor();
  await shot("connection-import");
  await page.getByRole("link", { name: "get_order" }).click();
  await heading("get_order");
  const health = page.locator(".endpoint-health");
  await health.getByRole("row", { name: /Last 24 hours\s*1\s*0 %/ }).waitFor();
});

test("knowledge base, AI and team screens; destructive actions ask first", async () => {
  await nav("Knowledge base").click();
  await heading("Knowledge base");
  await page.getByLabel("Title").fill("Returns");
  await page.getByLabel("Content (Markdown)").fill("# Returns\n\nYou can return any lamp within 30 days for a full refund.");
  await page.getByRole("button", { name: "Add document" }).click();
  await page.getByRole("cell", { name: "ready" }).waitFor();
  await page.getByLabel("Question").fill("can I return a lamp?");
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(".hits").getByText("within 30 days").waitFor();
  await shot("knowledge");
  // A document opens to be read and changed; the change is what the bot finds next.
  await page.getByRole("button", { name: "Open" }).click();
  const edit = page.getByRole("form", { name: "Edit Returns" });
  assert.match(await edit.getByLabel("Content").inputValue(), /within 30 days/);
  await edit.getByLabel("Content").fill("# Returns\n\nYou can return any lamp within 60 days for a full refund.");
  await edit.getByRole("button", { name: "Save document" }).click();
  await eventually(async () => {
    await page.getByRole("button", { name: "Search" }).click();
    // The search form shows its answer (or "Nothing found.") in place, without waiting.
    return (await page.getByRole("search").textContent()).includes("within 60 days");
  }, "the changed text in the bot's search");
  await page.getByRole("cell", { name: "ready" }).waitFor();
  await page.getByRole("button", { name: "Delete" }).click();
  await page.keyboard.press("Escape");
  await page.getByRole("cell", { name: "ready" }).waitFor();
  await page.getByRole("button", { name: "Delete" }).click();
  await page.locator("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No documents yet.").waitFor();

  await nav("AI").click();
  await heading("AI");
  await page.getByRole("heading", { name: "AI is off" }).waitFor();
  await shot("ai");

  await nav("Team").click();
  await heading("Team");
  await page.getByLabel("Team name").fill("Support");
  await page.getByRole("button", { name: "Create team" }).click();
  await page.getByRole("heading", { name: "Support" }).waitFor();
  const keyForm = page.locator('form[aria-label="Create an API key"]');
  await keyForm.getByLabel("Name").fill("Triage agent");
  await keyForm.getByLabel(/MCP: search the knowledge base/).check();
  await page.getByRole("button", { name: "Create key" }).click();
  assert.match(await page.locator("#new-api-key").textContent(), /^sbk_/);
  await page.getByRole("row", { name: /Triage agent/ }).getByRole("cell", { name: "MCP read", exact: true }).waitFor();
  await shot("team");
  await page.reload();
  await heading("Team");
  assert.equal(await page.locator("#new-api-key").count(), 0, "a key is shown once");
});

test("a webhook: secret shown once, a test event delivered and logged, the secret rotated", async () => {
  await nav("Webhooks").click();
  await heading("Webhooks");
  await page.getByLabel("URL").fill(`${backend.base}/hooks`);
  await page.getByLabel("Description (optional)").fill("CRM");
  await page.getByRole("button", { name: "Add webhook" }).click();
  assert.match(await page.locator("#webhook-secret").textContent(), /^whsec_[A-Za-z0-9+/=]{40,}$/);
  await page.getByRole("link", { name: `${backend.base}/hooks` }).click();
  await heading("CRM");
  await page.getByRole("button", { name: "Send test event" }).click();
  await page.getByRole("row", { name: /webhook\.test\s*delivered\s*1\s*HTTP 200/ }).waitFor();
  const delivered = backend.seen.webhooks.find((w) => JSON.parse(w.body).type === "webhook.test");
  assert.match(delivered.headers["webhook-signature"], /^v1,/);
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.locator("dialog").getByRole("button", { name: "Rotate" }).click();
  assert.match(await page.locator("#webhook-secret").textContent(), /^whsec_/);
  await shot("webhook");
  await page.goto(`${sb.base}/#webhooks`);
  await heading("Webhooks");
  assert.equal(await page.locator("#webhook-secret").count(), 0, "the secret is shown once");
});

test("every settings screen fits a 375 px wide phone", async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  for (const hash of ["#connections", "#rules", "#widgets", "#knowledge", "#ai", "#webhooks", "#team"]) {
    await page.goto(`${sb.base}/${hash}`);
    await page.locator("main#screen h1").waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${hash} is ${width} px wide`);
  }
  const connection = await page.evaluate(() => fetch("/api/v1/connections").then((r) => r.json()));
  await page.goto(`${sb.base}/#connections/${connection.data[0].id}`);
  await heading("Shop");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 375);
  await shot("connection-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("the connection's secret never appears in any page", async () => {
  await page.goto(`${sb.base}/#connections`);
  await heading("API connections");
  await shot("connections");
  assert.ok(pages.length >= 10, `${pages.length} pages checked`);
  assert.deepEqual(scriptErrors, [], "no script errors on any page");
  for (const { url, html, values } of pages) {
    for (const secret of [SECRET, WRONG_SECRET]) {
      assert.ok(!html.includes(secret), `the secret is in the HTML of ${url}`);
      assert.ok(!values.includes(secret), `the secret is in a field of ${url}`);
    }
  }
});
