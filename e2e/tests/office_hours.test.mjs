// Office hours: set on the widget's settings page; outside them the widget says the team is
// away and takes an e-mail address, which the team sees in the conversation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Switchboard, launch, hostPage, eventually } from "../harness.mjs";

let sb, browser, host, widget;

before(async () => {
  sb = await Switchboard.create();
  widget = await sb.api("POST", "/widgets", { name: "Shop" });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  await sb?.stop();
});

test("hours are set in the settings, and an away visitor leaves an e-mail address", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("list", { name: "Conversations" }).waitFor();
  await page.goto(`${sb.base}/#widgets/${widget.id}`);
  await page.getByLabel("Show when the team is away").check();
  // A range that ends before it starts is refused, at its day.
  await page.getByLabel("Monday").fill("17:00-09:00");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("a range starts before it ends").waitFor();
  await page.getByLabel("Monday").fill("");
  await page.getByLabel("Ask for an e-mail address while away").check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText(/^Saved\./).waitFor();
  const saved = await sb.api("GET", `/widgets/${widget.id}`);
  assert.deepEqual(saved.office_hours, { days: {}, ask_email_offline: true });

  host = await hostPage(sb, widget.id);
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(host.url);
  const chat = visitor.locator("#switchboard-widget");
  await chat.getByRole("button", { name: "Open chat" }).click();
  await chat.getByText("We're away right now.").waitFor();
  const form = chat.getByRole("form", { name: "Leave your e-mail" });
  await form.getByLabel("Your e-mail").fill("vera@example.com");
  await form.getByRole("button", { name: "Send e-mail address" }).click();
  await chat.getByText("Thanks — we'll reply to vera@example.com.").waitFor();
  const [conversation] = await eventually(async () => (await sb.api("GET", "/conversations")).filter((c) => c.visitor.email), "the conversation");
  assert.equal(conversation.visitor.email, "vera@example.com");
  const messages = await sb.api("GET", `/conversations/${conversation.id}/messages`);
  assert.ok(messages.some((m) => m.text === "The visitor left an e-mail address for the reply: vera@example.com"));
});
