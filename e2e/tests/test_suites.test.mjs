// Test suites in the dashboard, on the demo: its ten cases run green with one click; a case
// changed to expect something else fails and says after which turn, what it expected and what
// the assistant said; a conversation from the inbox is saved as a test and replays green.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Switchboard, launch, ROOT } from "../harness.mjs";

// Refreshed on purpose (`./scripts/screenshots`), never as a side effect of the tests.
const SHOTS = process.env.SWITCHBOARD_REFRESH_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : join(ROOT, "e2e", "artifacts");
mkdirSync(SHOTS, { recursive: true });

let sb, browser, page;

before(async () => {
  sb = await Switchboard.demo();
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("demo@switchboard.local");
  await page.getByLabel("Password").fill("demo-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("list", { name: "Conversations" }).waitFor();
});

after(async () => {
  await browser?.close();
  await sb?.stop();
});

const nav = (name) => page.locator("header nav").getByRole("link", { name, exact: true });

test("the demo's suite runs green from the dashboard", async () => {
  await nav("Test suites").click();
  await page.getByRole("heading", { level: 1, name: "Test suites" }).waitFor();
  assert.equal(await page.locator("table.list-table tbody tr").count(), 10);
  await page.getByRole("button", { name: "Run all" }).click();
  await page.getByText("All 10 passed").waitFor();
});

test("a failing case says after which turn, what it expected and what was said", async () => {
  await page.getByRole("link", { name: "An unknown order is said to be unknown" }).click();
  await page.getByRole("heading", { level: 1, name: "An unknown order is said to be unknown" }).waitFor();
  const turns = page.locator('[data-field="turns"]');
  await turns.fill((await turns.inputValue()).replace("I couldn't find order 9999", "Order 9999 is on its way"));
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByRole("button", { name: "Run this case" }).click();
  await page.getByText("1 of 1 failed").waitFor();
  const failure = page.locator(".failures li").first();
  assert.match(await failure.textContent(), /^After turn 1: expected reply contains "Order 9999 is on its way" — replies: “I couldn't find order 9999\. Try 4521, 4522 or 4523\.”$/);
  await page.screenshot({ path: join(SHOTS, "test-suite-failure.png"), fullPage: true });
  // A broken expectation is refused with its place, and what was typed stays.
  await turns.fill("[{\"text\": \"hi\", \"expect\": [{\"reply_has\": \"x\"}]}]");
  await page.getByRole("button", { name: "Save" }).click();
  // The error sits at the field it names (turns[0].expect[0] lands on the turns).
  await page.getByText(/unknown expectation/).waitFor();
  assert.equal(await turns.getAttribute("aria-invalid"), "true");
  assert.match(await turns.inputValue(), /reply_has/);
});

test("a conversation from the inbox is saved as a test and replays green", async () => {
  const started = await (await fetch(`${sb.base}/api/v1/widget/${await widgetId()}/conversations`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json();
  const { conversation_id: id, visitor_token: token } = started.data;
  const said = await fetch(`${sb.base}/api/v1/widget/conversations/${id}/messages?wait_ms=5000`, {
    method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ text: "Where is my order #4522?" }),
  });
  assert.equal(said.status, 200);
  await nav("Inbox").click();
  await page.getByRole("list", { name: "Conversations" }).locator(`button.row[data-id="${id}"]`).click();
  await page.getByRole("button", { name: "Save as test" }).click();
  await page.getByRole("heading", { level: 1, name: "Saved: “Where is my order #4522?”" }).waitFor();
  assert.match(await page.locator('[data-field="fakes"]').inputValue(), /"order_id": "4522"/);
  await page.getByRole("button", { name: "Run this case" }).click();
  await page.getByText("All 1 passed").waitFor();
});

test("a suite is exported as a YAML file and a changed file imports back", async () => {
  await nav("Test suites").click();
  await page.getByRole("heading", { level: 1, name: "Test suites" }).waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export “demo”" }).click()]);
  assert.equal(download.suggestedFilename(), "demo.suite.yaml");
  const yaml = readFileSync(await download.path(), "utf8");
  assert.match(yaml, /^suite: demo\nwidget: /);
  const changed = `${yaml}- name: Added from a file\n  turns:\n  - text: Hello\n`;
  await page.locator('input[type="file"]').setInputFiles({ name: "demo.yaml", mimeType: "application/yaml", buffer: Buffer.from(changed) });
  await page.getByText("demo.yaml: 1 created, 0 updated, 10 unchanged.").waitFor();
  await page.getByRole("link", { name: "Added from a file" }).waitFor();
  // A broken file is refused, saying where.
  await page.locator('input[type="file"]').setInputFiles({ name: "broken.yaml", mimeType: "application/yaml", buffer: Buffer.from("suite: demo\ncases:\n  - name: x\n    turns: [{text: hi}]\n    fakes: [{endpoint: nope}]\n") });
  await page.getByText(/broken\.yaml was not imported: .*\(file\.cases\[0\]\.widget\)/).waitFor();
});

/** The demo widget's id, from the demo page. */
async function widgetId() {
  const html = await (await fetch(`${sb.base}/demo`)).text();
  return html.match(/wid_[0-9a-z]{26}/)[0];
}
