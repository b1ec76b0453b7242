// The inbox tells conversations apart: an anonymous visitor is "Visitor from Berlin, Chrome",
// each row shows the newest first line, a short time, the channel and an unread dot, and a new
// message moves its conversation to the top — unread, unless it is the open one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { Switchboard, launch, eventually, OPERATOR, ARTIFACTS } from "../harness.mjs";

let sb, browser, host, widget, visitorPage, inbox;

/** A page embedding the widget with nothing known about the visitor. */
async function anonymousHost(widgetId) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Demo shop</title></head>
    <body><h1>Demo shop</h1><script src="${sb.base}/widget.js" data-widget="${widgetId}" async></script></body></html>`;
  const server = createServer((req, res) => { res.setHeader("content-type", "text/html"); res.end(html); });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/** A named visitor writing through the visitor API, as a server-side integration would. */
async function namedVisitor(name, text) {
  const post = async (path, body, token) => {
    const headers = { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const response = await fetch(`${sb.base}/api/v1${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    assert.ok(response.ok, `${path}: ${response.status}`);
    return (await response.json()).data;
  };
  const started = await post(`/widget/${widget.id}/conversations`, { visitor: { name } });
  await post(`/widget/conversations/${started.conversation_id}/messages`, { text }, started.visitor_token);
  return started.conversation_id;
}

async function signIn(page) {
  await page.goto(`${sb.base}/`);
  await page.getByLabel("E-mail").fill(OPERATOR.email);
  await page.getByLabel("Password").fill(OPERATOR.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page.getByRole("list", { name: "Conversations" });
}

const sayFromWidget = async (text) => {
  await visitorPage.locator("#switchboard-widget").getByLabel("Your message").fill(text);
  await visitorPage.keyboard.press("Enter");
};

before(async () => {
  sb = await Switchboard.create();
  widget = await sb.api("POST", "/widgets", { name: "Demo shop" });
  await sb.api("POST", "/users", { email: OPERATOR.email, password: OPERATOR.password, role: "operator" });
  host = await anonymousHost(widget.id);
  browser = await launch();
  // The visitor's browser runs in Berlin's time zone; nothing else says where they are.
  visitorPage = await (await browser.newContext({ timezoneId: "Europe/Berlin" })).newPage();
  await visitorPage.goto(host.url);
  await visitorPage.locator("#switchboard-widget").getByRole("button", { name: "Open chat" }).click();
  await sayFromWidget("Hello from Berlin\nIt is about my order");
  await eventually(async () => (await sb.api("GET", "/conversations")).some((c) => c.last_message), "the visitor's message");
  await namedVisitor("Bruno", "Do you ship to Rome?");
  inbox = await (await browser.newContext({ timezoneId: "Europe/Berlin" })).newPage();
});

after(async () => {
  await browser?.close();
  host?.close();
  await sb?.stop();
});

const rowTexts = async (list) => (await list.getByRole("button").allTextContents()).map((t) => t.trim());

test("each row names the visitor and shows the newest line, the time, the channel and an unread dot", async () => {
  const list = await signIn(inbox);
  const anonymous = list.getByRole("button", { name: /Visitor from Berlin, Chrome/ });
  await anonymous.waitFor();
  assert.match((await rowTexts(list))[0], /^Bruno/, "the newest activity first");
  assert.equal(await anonymous.locator(".preview").textContent(), "Hello from Berlin", "the first line only");
  assert.match(await anonymous.locator("time").textContent(), /^\d\d:\d\d$/);
  assert.match(await anonymous.locator(".meta").textContent(), /^Chat · Demo shop · open/);
  await anonymous.getByRole("img", { name: "unread" }).waitFor();
  assert.equal(await anonymous.locator(".label").evaluate((el) => getComputedStyle(el).fontWeight), "700");
  await inbox.screenshot({ path: join(ARTIFACTS, "inbox-rows.png") });
});

test("a new message moves its conversation to the top, unread, and keeps the keyboard focus where it was", async () => {
  const list = inbox.getByRole("list", { name: "Conversations" });
  const bruno = list.getByRole("button", { name: /Bruno/ });
  await bruno.focus();
  await sayFromWidget("Are you there?");
  await eventually(async () => (await rowTexts(list))[0].includes("Visitor from Berlin, Chrome"), "the anonymous visitor on top");
  const top = list.getByRole("button").first();
  await eventually(async () => (await top.locator(".preview").textContent()) === "Are you there?", "the newest line");
  await top.getByRole("img", { name: "unread" }).waitFor();
  assert.ok(await bruno.evaluate((el) => document.activeElement === el), "the focus stayed on Bruno's row");
  await eventually(async () => (await inbox.title()).startsWith("(2) "), "both counted in the title");
});

test("opening a conversation reads it for this operator only, and it stays read while open", async () => {
  const list = inbox.getByRole("list", { name: "Conversations" });
  const anonymous = list.getByRole("button", { name: /Visitor from Berlin, Chrome/ });
  await anonymous.click();
  await inbox.getByRole("heading", { name: "Visitor from Berlin, Chrome" }).waitFor();
  await eventually(async () => (await anonymous.getByRole("img", { name: "unread" }).count()) === 0, "no unread dot");
  const id = await anonymous.getAttribute("data-id");
  const unreadForOperator = () => inbox.evaluate(async (id) => {
    const listed = await (await fetch("/api/v1/conversations")).json();
    return listed.data.find((c) => c.id === id).unread;
  }, id);
  await eventually(async () => (await unreadForOperator()) === false, "the read mark stored");
  // The owner (whose API key this is) has not opened it.
  assert.equal((await sb.api("GET", "/conversations")).find((c) => c.id === id).unread, true);

  await sayFromWidget("One more thing");
  await inbox.getByRole("log", { name: "Messages" }).getByText("One more thing").waitFor();
  await eventually(async () => (await anonymous.locator(".preview").textContent()) === "One more thing", "the newest line");
  // Reloaded from the server (the list reloads on every message): still read.
  await inbox.reload();
  const again = inbox.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Visitor from Berlin, Chrome/ });
  await again.waitFor();
  assert.equal(await again.getByRole("img", { name: "unread" }).count(), 0);
});

test("a private note is shown to the team, marked, and never reaches the visitor", async () => {
  await inbox.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Visitor from Berlin, Chrome/ }).click();
  const log = inbox.getByRole("log", { name: "Messages" });
  await inbox.getByRole("radio", { name: "Private note" }).check();
  await inbox.getByRole("textbox", { name: "Note for the team" }).fill("Refund approved by finance (NOTE-77)");
  await inbox.keyboard.press("Enter");
  const note = log.locator(".msg.note", { hasText: "NOTE-77" });
  await note.waitFor();
  assert.match(await note.locator(".who").textContent(), /^Private note · .* · not sent to the visitor$/);
  await inbox.screenshot({ path: join(ARTIFACTS, "inbox-note.png") });
  await inbox.getByRole("radio", { name: "To the visitor" }).check();
  await inbox.getByRole("textbox", { name: "Reply" }).fill("Your refund is on its way");
  await inbox.keyboard.press("Enter");
  const chat = visitorPage.locator("#switchboard-widget");
  await chat.getByText("Your refund is on its way").waitFor();
  assert.ok(!(await chat.textContent()).includes("NOTE-77"), "the note is not in the widget");
  // Nor in what the widget loads again from the server.
  await visitorPage.reload();
  await visitorPage.locator("#switchboard-widget").getByRole("button", { name: "Open chat" }).click();
  await visitorPage.locator("#switchboard-widget").getByText("Your refund is on its way").waitFor();
  assert.ok(!(await visitorPage.locator("#switchboard-widget").textContent()).includes("NOTE-77"));
  // The team still sees it in place, after a reload too.
  await inbox.reload();
  await inbox.getByRole("list", { name: "Conversations" }).getByRole("button", { name: /Visitor from Berlin, Chrome/ }).click();
  await inbox.getByRole("log", { name: "Messages" }).locator(".msg.note", { hasText: "NOTE-77" }).waitFor();
});

test("labels are ticked on a conversation, shown on its row and filtered by", async () => {
  await sb.api("POST", "/labels", { name: "refund", color: "#d97706" });
  await sb.api("POST", "/labels", { name: "vip", color: "#7c3aed" });
  await inbox.reload();
  const list = inbox.getByRole("list", { name: "Conversations" });
  await list.getByRole("button", { name: /Visitor from Berlin, Chrome/ }).click();
  await inbox.locator(".label-picker summary").click();
  await inbox.locator(".label-picker").getByRole("checkbox", { name: "refund" }).check();
  const row = list.getByRole("button", { name: /Visitor from Berlin, Chrome/ });
  await row.locator(".label-chip", { hasText: "refund" }).waitFor();
  await inbox.screenshot({ path: join(ARTIFACTS, "inbox-labels.png") });
  await inbox.getByRole("combobox", { name: "Label" }).selectOption("refund");
  await eventually(async () => (await list.getByRole("button").count()) === 1, "only the labelled conversation");
  await inbox.getByRole("combobox", { name: "Label" }).selectOption("vip");
  await eventually(async () => (await list.getByRole("button").count()) === 0, "nothing labelled vip");
  await inbox.getByRole("combobox", { name: "Label" }).selectOption("");
  await eventually(async () => (await list.getByRole("button").count()) === 2, "both again");
});

test("typing / lists the canned replies, filled in, and Enter puts one in the box", async () => {
  await sb.api("POST", "/canned-replies", { shortcut: "wait", text: "Thanks for waiting — {widget.name} is on it." });
  await sb.api("POST", "/canned-replies", { shortcut: "bye", text: "Have a nice day!" });
  const list = inbox.getByRole("list", { name: "Conversations" });
  await list.getByRole("button", { name: /Visitor from Berlin, Chrome/ }).click();
  const box = inbox.getByRole("textbox", { name: "Reply" });
  await box.pressSequentially("/w");
  const picker = inbox.getByRole("listbox", { name: "Canned replies" });
  await picker.getByRole("option", { name: /\/wait/ }).waitFor();
  assert.equal(await picker.getByRole("option").count(), 1, "only the shortcut typed so far");
  await inbox.keyboard.press("Enter");
  assert.equal(await box.inputValue(), "Thanks for waiting — Demo shop is on it.");
  assert.ok(await picker.isHidden());
  await inbox.keyboard.press("Enter");
  await visitorPage.locator("#switchboard-widget").getByText("Thanks for waiting — Demo shop is on it.").waitFor();
});

test("the visitor's contact and earlier conversations show beside the conversation", async () => {
  // The same browser comes back: a second conversation of the same contact.
  await visitorPage.evaluate(() => { for (const key of Object.keys(localStorage)) if (key !== "switchboard:browser") localStorage.removeItem(key); });
  await visitorPage.reload();
  await visitorPage.locator("#switchboard-widget").getByRole("button", { name: "Open chat" }).click();
  await sayFromWidget("Back again about the lamp");
  const list = inbox.getByRole("list", { name: "Conversations" });
  await inbox.reload();
  await list.getByRole("button", { name: /Back again about the lamp/ }).click();
  const details = inbox.getByRole("complementary", { name: "Details" });
  await details.getByRole("heading", { name: "Contact" }).waitFor();
  await details.getByRole("heading", { name: "Earlier conversations (1)" }).waitFor();
  await details.locator(".history").getByRole("button").click();
  await inbox.getByRole("log", { name: "Messages" }).getByText("Hello from Berlin").waitFor();
  // The contact's page lists both.
  await details.getByRole("link", { name: "Anonymous visitor" }).click();
  await inbox.getByRole("heading", { name: "Conversations (2)" }).waitFor();
});

test("on a 375 px phone every row fits, time included", async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, timezoneId: "Europe/Berlin" });
  const phone = await context.newPage();
  const list = await signIn(phone);
  await list.getByRole("button", { name: /Visitor from Berlin, Chrome/ }).first().waitFor();
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth) <= 375);
  for (const time of await list.locator("time").all()) {
    const box = await time.boundingBox();
    assert.ok(box && box.x + box.width <= 375, `a time is cut: ${JSON.stringify(box)}`);
  }
  await phone.screenshot({ path: join(ARTIFACTS, "inbox-rows-phone.png") });
  await context.close();
});
