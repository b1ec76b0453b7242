// Safe actions in the widget: a write the assistant proposes happens only when the visitor
// presses Confirm (keyboard or mouse), exactly once, and the widget shows what became of it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { Switchboard, hostPage, launch, eventually, ARTIFACTS, OPERATOR } from "../harness.mjs";

let sb, browser, host, backend, page, endpointId;
const calls = [];

before(async () => {
  // The shop's order API on loopback: records every request that reaches it.
  backend = createServer((req, res) => {
    calls.push({ method: req.method, path: req.url, key: req.headers["idempotency-key"] });
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "cancelled" }));
  });
  await new Promise((r) => backend.listen(0, "127.0.0.1", r));
  const port = backend.address().port;
  sb = await Switchboard.create(["--ssrf-allow", `127.0.0.1:${port}`]);
  const widget = await sb.api("POST", "/widgets", { name: "Acme Lamps" });
  const connection = await sb.api("POST", "/connections", { name: "Shop", base_url: `http://127.0.0.1:${port}/api`, auth: { type: "none" } });
  const endpoint = await sb.api("POST", `/connections/${connection.id}/endpoints`, { name: "cancel_order", method: "DELETE", path: "/orders/{orderId}", approval_summary: "Cancel order {orderId}?" });
  assert.equal(endpoint.approval, "visitor", "a DELETE waits for the visitor by default");
  endpointId = endpoint.id;
  await sb.api("POST", "/users", { email: OPERATOR.email, password: OPERATOR.password, role: "operator" });
  await sb.api("POST", "/rules", { name: "Cancel", trigger: { type: "regex", pattern: "cancel (?:my )?order (\\d+)" }, actions: [
    { type: "SET_VARIABLE", name: "orderId", from_regex: { pattern: "(\\d+)" } },
    { type: "CALL_API", endpoint_id: endpoint.id },
    { type: "REPLY_TEXT", text: "Order {orderId} is cancelled." },
  ] });
  host = await hostPage(sb, widget.id);
  browser = await launch();
  page = await (await browser.newContext()).newPage();
  await page.goto(host.url);
  await page.locator("#switchboard-widget").getByRole("button", { name: "Open chat" }).click();
});

after(async () => {
  await browser?.close();
  host?.close();
  backend?.close();
  await sb?.stop();
});

const widget = () => page.locator("#switchboard-widget");
const say = async (text) => {
  await widget().getByLabel("Your message").fill(text);
  await page.keyboard.press("Enter");
};
const card = (summary) => widget().locator(".msg.bot").filter({ hasText: summary });

test("the visitor confirms with the keyboard; the call is made once, as asked", async () => {
  await say("Please cancel my order 4521");
  const asking = card("Cancel order 4521?");
  const confirm = asking.getByRole("button", { name: "Confirm" });
  await confirm.waitFor();
  assert.equal(await asking.getByRole("group").getAttribute("aria-label"), "Cancel order 4521?");
  assert.equal(calls.length, 0, "nothing is sent before the button");
  await page.screenshot({ path: join(ARTIFACTS, "widget-action-asked.png") });

  await confirm.focus();
  await page.keyboard.press("Enter");
  await eventually(async () => (await widget().locator(".msg.bot").allTextContents()).some((t) => t.includes("Order 4521 is cancelled.")), "the rule's reply after the call");
  await eventually(async () => (await asking.locator(".act-state").textContent()) === "Done.", "the card says it is done");
  assert.equal(await asking.getByRole("button").count(), 0, "no buttons left to press");
  assert.equal(calls.length, 1, JSON.stringify(calls));
  assert.equal(calls[0].method, "DELETE");
  assert.equal(calls[0].path, "/api/orders/4521");
  assert.match(calls[0].key, /^act_/, "the call carries its Idempotency-Key");
  await page.screenshot({ path: join(ARTIFACTS, "widget-action-done.png") });
});

test("a double click executes once; Cancel sends nothing", async () => {
  await say("cancel order 4522");
  const confirm = card("Cancel order 4522?").getByRole("button", { name: "Confirm" });
  await confirm.waitFor();
  await confirm.dblclick();
  await eventually(async () => (await widget().locator(".msg.bot").allTextContents()).some((t) => t.includes("Order 4522 is cancelled.")), "the reply");
  assert.equal(calls.filter((c) => c.path === "/api/orders/4522").length, 1, JSON.stringify(calls));

  await say("cancel order 4523");
  const asking = card("Cancel order 4523?");
  await asking.getByRole("button", { name: "Cancel" }).click();
  await eventually(async () => (await asking.locator(".act-state").textContent()) === "Cancelled.", "the card says it was cancelled");
  assert.equal(calls.filter((c) => c.path === "/api/orders/4523").length, 0);
});

test("a person approves in the inbox what needs one; the visitor sees it happen", async () => {
  // The owner makes the endpoint wait for a person, in the endpoint screen.
  const owner = await (await browser.newContext()).newPage();
  await owner.goto(`${sb.base}/`);
  await owner.getByLabel("E-mail").fill("owner@acme.test");
  await owner.getByLabel("Password").fill("correct horse battery");
  await owner.getByRole("button", { name: "Sign in" }).click();
  await owner.getByRole("navigation", { name: "Sections" }).waitFor();
  await owner.goto(`${sb.base}/#endpoints/${endpointId}`);
  const who = owner.getByLabel("Who agrees first");
  await who.waitFor();
  assert.equal(await who.inputValue(), "visitor");
  await who.selectOption("operator");
  await owner.getByRole("button", { name: "Save" }).click();
  await owner.getByText("Saved.").waitFor();
  assert.equal((await sb.api("GET", `/endpoints/${endpointId}`)).approval, "operator");

  await say("cancel order 4524");
  const asking = card("Cancel order 4524?");
  await eventually(async () => (await asking.locator(".act-state").textContent()) === "Waiting for a member of our team to approve.", "the visitor is told a person decides");
  assert.equal(await asking.getByRole("button").count(), 0, "the visitor has nothing to press");

  const inbox = await (await browser.newContext()).newPage();
  await inbox.goto(`${sb.base}/`);
  await inbox.getByLabel("E-mail").fill(OPERATOR.email);
  await inbox.getByLabel("Password").fill(OPERATOR.password);
  await inbox.getByRole("button", { name: "Sign in" }).click();
  await inbox.getByText("Waiting for approval (1)").waitFor();
  await inbox.getByRole("button", { name: "Cancel order 4524?", exact: true }).click();
  await inbox.getByText("Review and decide").click();
  await inbox.getByText("DELETE http://127.0.0.1").waitFor();
  await inbox.screenshot({ path: join(ARTIFACTS, "inbox-action-review.png") });
  await inbox.getByRole("button", { name: "Approve" }).click();
  await eventually(async () => (await widget().locator(".msg.bot").allTextContents()).some((t) => t.includes("Order 4524 is cancelled.")), "the visitor sees it done");
  await eventually(async () => (await asking.locator(".act-state").textContent()) === "Done.", "the card follows live");
  assert.equal(calls.filter((c) => c.path === "/api/orders/4524").length, 1);
});
