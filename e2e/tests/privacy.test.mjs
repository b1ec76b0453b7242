// Privacy in the browser: a visitor's data is exported from their contact page, then erased —
// after which no screen shows it, the database files (write-ahead log included) hold none of
// it, and the owner's audit log says who did it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Switchboard, launch, hostPage, eventually } from "../harness.mjs";

const PLANTED = "PLANTED-e2e-4b7d";
let sb, browser, host, page;

const databaseBytes = () => Buffer.concat(readdirSync(sb.dir).filter((f) => f.startsWith("switchboard.db")).map((f) => readFileSync(join(sb.dir, f))));

before(async () => {
  sb = await Switchboard.create();
  const widget = await sb.api("POST", "/widgets", { name: "Shop" });
  host = await hostPage(sb, widget.id);
  browser = await launch();
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(host.url);
  const chat = visitor.locator("#switchboard-widget");
  await chat.getByRole("button", { name: "Open chat" }).click();
  await chat.getByLabel("Your message").fill(`my code is ${PLANTED}`);
  await visitor.keyboard.press("Enter");
  await eventually(async () => (await sb.api("GET", "/conversations")).some((c) => c.last_message), "the visitor's message");
  page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("list", { name: "Conversations" }).waitFor();
});

after(async () => {
  await browser?.close();
  host?.close();
  await sb?.stop();
});

test("a contact's data is exported, then erased everywhere, and the audit log says so", async () => {
  await page.locator("header nav").getByRole("link", { name: "Contacts", exact: true }).click();
  await page.getByRole("link", { name: "Vera" }).click();
  await page.getByRole("heading", { level: 1, name: "Vera" }).waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export everything (JSON)" }).click()]);
  const exported = readFileSync(await download.path(), "utf8");
  assert.ok(exported.includes(PLANTED), "the export holds what the visitor wrote");
  assert.ok(databaseBytes().includes(PLANTED), "the database holds it before the erasure");

  await page.getByRole("button", { name: "Erase contact" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Erase" }).click();
  await page.getByRole("heading", { level: 1, name: "Contacts" }).waitFor();
  await page.getByText("No contacts yet.").waitFor();
  await page.locator("header nav").getByRole("link", { name: "Inbox", exact: true }).click();
  await eventually(async () => (await page.getByRole("list", { name: "Conversations" }).getByRole("button").count()) === 0, "an empty inbox");
  assert.ok(!(await page.content()).includes(PLANTED));
  assert.ok(!databaseBytes().includes(PLANTED), "the database files hold nothing of it");

  await page.locator("header nav").getByRole("link", { name: "Team", exact: true }).click();
  const audit = page.getByRole("region", { name: "Audit log" });
  await audit.getByText("contact.erased").waitFor();
  await audit.getByText("contact.exported").waitFor();
  assert.ok(!(await audit.textContent()).includes(PLANTED));
});
