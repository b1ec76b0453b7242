// A visitor on a third-party page chats with the bot; an operator in another browser context
// takes over live; reloads and dropped connections lose nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Switchboard, hostPage, launch, eventually, OPERATOR, ARTIFACTS } from "../harness.mjs";

let sb, page, browser, host, widget;

before(async () => {
  sb = await Switchboard.create();
  widget = await sb.api("POST", "/widgets", { name: "Acme Lamps", greeting: "Hi! How can we help?", primary_color: "#0a7d4f", position: "bottom-left" });
  await sb.api("POST", "/rules", { name: "Opening hours", trigger: { type: "keywords", any: ["open", "hours"] }, actions: [{ type: "REPLY_TEXT", text: "We are open 9:00–18:00, Monday to Saturday." }] });
  await sb.api("POST", "/users", { email: OPERATOR.email, password: OPERATOR.password, role: "operator" });
  host = await hostPage(sb, widget.id);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  await sb?.stop();
});

const shadow = (p) => p.locator("#switchboard-widget");
const bubbles = (p) => shadow(p).locator(".log .msg");
const texts = async (p) => (await bubbles(p).allTextContents()).map((t) => t.trim());

test("the widget is isolated from hostile page CSS and follows the widget's colour and position", async () => {
  const context = await browser.newContext();
  page = await context.newPage();
  await page.goto(host.url);
  const launcher = shadow(page).getByRole("button", { name: "Open chat" });
  await launcher.waitFor();
  const box = await launcher.boundingBox();
  assert.equal(Math.round(box.width), 56, "the page's button styles do not reach the launcher");
  assert.ok(box.x < 100, "bottom-left position");
  const colour = await launcher.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(colour, "rgb(10, 125, 79)");
  await page.screenshot({ path: join(ARTIFACTS, "widget-closed.png") });
});

test("keyboard only: open, write, send, get a rule-driven reply, close", async () => {
  const launcher = shadow(page).locator(".launcher");
  assert.equal(await launcher.getAttribute("aria-expanded"), "false");
  assert.equal(await launcher.getAttribute("aria-label"), "Open chat");
  await launcher.focus();
  await page.keyboard.press("Enter");
  const input = shadow(page).getByLabel("Your message");
  await eventually(() => input.evaluate((el) => el.getRootNode().activeElement === el), "focus in the message box");
  assert.equal(await launcher.getAttribute("aria-expanded"), "true");
  assert.equal(await launcher.getAttribute("aria-label"), "Close chat");
  const log = shadow(page).getByRole("log");
  assert.equal(await log.getAttribute("aria-live"), "polite");
  assert.deepEqual(await texts(page), ["AssistantHi! How can we help?"]);
  await page.keyboard.type("When are you open?");
  await page.keyboard.press("Enter");
  await eventually(async () => (await texts(page)).some((t) => t.includes("We are open 9:00–18:00")), "the bot's reply");
  const all = await texts(page);
  assert.ok(all.includes("When are you open?"), JSON.stringify(all));
  assert.equal(await bubbles(page).filter({ hasText: "We are open" }).getAttribute("class"), "msg bot");
  await page.screenshot({ path: join(ARTIFACTS, "widget-chat.png") });
  await page.keyboard.press("Escape");
  await eventually(() => launcher.evaluate((el) => el.getRootNode().activeElement === el), "focus back on the launcher");
  await page.keyboard.press("Enter");
});

test("right-to-left text is shown right to left", async () => {
  await shadow(page).getByLabel("Your message").fill("مرحبا، أين طلبي؟");
  await page.keyboard.press("Enter");
  const bubble = bubbles(page).filter({ hasText: "مرحبا" });
  await bubble.waitFor();
  assert.equal(await bubble.evaluate((el) => getComputedStyle(el).direction), "rtl");
});

test("an operator sees the conversation live, takes it over, and the visitor sees the reply live", async () => {
  const context = await browser.newContext();
  const inbox = await context.newPage();
  await inbox.goto(`${sb.base}/`);
  await inbox.getByLabel("E-mail").fill(OPERATOR.email);
  await inbox.getByLabel("Password").fill(OPERATOR.password);
  await inbox.getByRole("button", { name: "Sign in" }).click();
  const list = inbox.getByRole("list", { name: "Conversations" });
  await list.getByText("Vera", { exact: true }).waitFor();

  // A new message shows up without a reload, with an unread dot and a count in the title.
  await shadow(page).getByLabel("Your message").fill("I also need help with a broken lamp");
  await page.keyboard.press("Enter");
  await eventually(async () => (await inbox.title()).startsWith("("), "a title badge");
  await list.getByText("Vera", { exact: true }).click();
  await inbox.getByRole("log", { name: "Messages" }).getByText("broken lamp").waitFor();
  await inbox.getByRole("complementary", { name: "Details" }).getByText("Vera").first().waitFor();
  // Opening a conversation puts the focus in the reply box; Enter sends, Shift+Enter breaks the line.
  const reply = inbox.getByLabel("Reply");
  await eventually(() => reply.evaluate((el) => document.activeElement === el), "focus in the reply box");
  await inbox.keyboard.type("Hello Vera, I'm Sam.");
  await inbox.keyboard.press("Shift+Enter");
  await inbox.keyboard.type("Which lamp is it?");
  assert.equal(await reply.inputValue(), "Hello Vera, I'm Sam.\nWhich lamp is it?");
  await inbox.keyboard.press("Enter");
  await eventually(async () => (await texts(page)).some((t) => t.includes("Which lamp is it?")), "the operator's reply in the widget");
  assert.equal(await bubbles(page).filter({ hasText: "Which lamp" }).getAttribute("class"), "msg operator");
  await inbox.locator(".thread .status", { hasText: "pending" }).waitFor();
  await inbox.screenshot({ path: join(ARTIFACTS, "inbox.png") });
  await page.screenshot({ path: join(ARTIFACTS, "widget-operator.png") });
  await context.close();
});

test("on a 375 px phone the inbox shows the list, then the conversation, and back", async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const phone = await context.newPage();
  await phone.goto(`${sb.base}/`);
  await phone.getByLabel("E-mail").fill(OPERATOR.email);
  await phone.getByLabel("Password").fill(OPERATOR.password);
  await phone.getByRole("button", { name: "Sign in" }).click();
  const list = phone.getByRole("list", { name: "Conversations" });
  await list.getByText("Vera", { exact: true }).click();
  await phone.getByRole("log", { name: "Messages" }).getByText("Which lamp is it?").waitFor();
  assert.equal(await list.isVisible(), false, "the thread takes the screen");
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth) <= 375);
  await phone.screenshot({ path: join(ARTIFACTS, "inbox-phone.png") });
  await phone.getByRole("button", { name: "← Conversations" }).click();
  await list.getByText("Vera", { exact: true }).waitFor();
  assert.equal(await phone.getByRole("log", { name: "Messages" }).count(), 0);
  await context.close();
});

test("a reload keeps the history", async () => {
  await page.reload();
  await shadow(page).getByRole("button", { name: "Open chat" }).click();
  await eventually(async () => (await texts(page)).some((t) => t.includes("Which lamp is it?")), "the history after a reload");
  const all = await texts(page);
  assert.ok(all.some((t) => t.includes("When are you open?")), JSON.stringify(all));
});

test("a dropped connection resumes without losing what was said meanwhile", async () => {
  await sb.stop();
  await sb.start();
  const conversations = await sb.api("GET", "/conversations");
  const id = conversations[0].id;
  await sb.api("POST", `/conversations/${id}/messages`, { text: "Sent while your connection was down." });
  await sb.api("POST", `/conversations/${id}/messages`, { text: "And one more." });
  await eventually(async () => (await texts(page)).some((t) => t.includes("And one more.")), "the messages sent during the outage", 20000);
  const all = await texts(page);
  assert.ok(all.some((t) => t.includes("Sent while your connection was down.")), JSON.stringify(all));
  const count = all.filter((t) => t.includes("And one more.")).length;
  assert.equal(count, 1, "nothing shown twice");
});
