// Files and search in a real browser: a visitor sends a picture from the widget and the team
// sees it in the inbox; the team sends a file that the visitor downloads and opens; the team
// finds a conversation by a word in another language's form, at phone width, with the keyboard.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Switchboard, launch, hostPage, eventually } from "../harness.mjs";

// A 1×1 PNG.
const PIXEL = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
  "1f15c4890000000d49444154789c63f80f00000101010018dd8db00000000049454e44ae426082", "hex");

let sb, browser, host;

before(async () => {
  sb = await Switchboard.create();
  const widget = await sb.api("POST", "/widgets", { name: "Shop" });
  host = await hostPage(sb, widget.id);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  await sb?.stop();
});

async function signIn(page) {
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Whether the picture named `name` in `scope` has loaded (served, and a real picture). */
const loaded = (scope, name) => scope.getByRole("img", { name }).evaluate((img) => img.complete && img.naturalWidth === 1).catch(() => false);

test("a file sent and opened: the visitor's picture in the inbox, the team's file downloaded by the visitor", async () => {
  const visitor = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await visitor.goto(host.url);
  const chat = visitor.locator("#switchboard-widget");
  await chat.getByRole("button", { name: "Open chat" }).click();
  await chat.getByLabel("Your message").fill("It arrived broken");
  await chat.getByLabel("Attach files").setInputFiles({ name: "lamp.png", mimeType: "image/png", buffer: PIXEL });
  await eventually(() => loaded(chat, "lamp.png"), "the picture in the widget");
  assert.equal(await chat.getByLabel("Your message").inputValue(), "", "the words went with it");

  const inbox = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await signIn(inbox);
  await inbox.getByRole("list", { name: "Conversations" }).getByRole("button").first().click();
  const thread = inbox.getByRole("region", { name: "Conversation", exact: true });
  await thread.getByText("It arrived broken").waitFor();
  await eventually(() => loaded(thread, "lamp.png"), "the picture in the inbox");

  await thread.getByLabel("Attach files").setInputFiles({ name: "steps.txt", mimeType: "text/plain", buffer: Buffer.from("1. Unplug the lamp\n") });
  const sent = thread.getByRole("link", { name: /steps\.txt/ });
  await sent.waitFor();
  const [own] = await Promise.all([inbox.waitForEvent("download"), sent.click()]);
  assert.equal(own.suggestedFilename(), "steps.txt");
  // Files always go to the visitor: writing a note offers none.
  await thread.getByRole("radio", { name: "Private note" }).check();
  assert.equal(await thread.getByLabel("Attach files").isVisible(), false, "no files in a note");
  await thread.getByRole("radio", { name: "To the visitor" }).check();
  assert.equal(await thread.getByLabel("Attach files").isVisible(), true);

  const offered = chat.getByRole("button", { name: /steps\.txt/ });
  await offered.waitFor();
  const [download] = await Promise.all([visitor.waitForEvent("download"), offered.click()]);
  assert.equal(download.suggestedFilename(), "steps.txt");
  assert.equal(await readFile(await download.path(), "utf8"), "1. Unplug the lamp\n");
});

test("search finds a conversation by a word's other form, at 375 px, with the keyboard", async () => {
  const widget = (await sb.api("GET", "/widgets"))[0];
  const start = async (name, language) => {
    const response = await fetch(`${sb.base}/api/v1/widget/${widget.id}/conversations`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ visitor: { name, language } }) });
    const { data } = await response.json();
    return data;
  };
  for (const [name, language, text] of [["Greta", "de", "Wo bleiben meine Bestellungen?"], ["Hugo", "en", "Do you ship to Norway?"]]) {
    const started = await start(name, language);
    await fetch(`${sb.base}/api/v1/widget/conversations/${started.conversation_id}/messages`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${started.visitor_token}` }, body: JSON.stringify({ text }) });
  }
  const phone = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage();
  await signIn(phone);
  const list = phone.getByRole("list", { name: "Conversations" });
  await list.getByText("Greta").waitFor();
  await phone.getByRole("searchbox", { name: "Search conversations" }).focus();
  await phone.keyboard.type("Bestellung");
  await eventually(async () => (await list.getByRole("button").count()) === 1 && await list.getByText("Greta").count() === 1, "only Greta's conversation");
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth) <= 375, "nothing wider than the phone");
  // Escape empties the search; the found conversation opens with Enter.
  await phone.keyboard.press("Escape");
  await eventually(async () => (await list.getByRole("button").count()) === 3, "all conversations again");
  await phone.keyboard.type("norway");
  await eventually(async () => (await list.getByRole("button").count()) === 1, "only Hugo's conversation");
  await list.getByRole("button").first().focus();
  await phone.keyboard.press("Enter");
  await phone.getByRole("region", { name: "Conversation", exact: true }).getByText("Do you ship to Norway?").waitFor();
  const shown = await phone.getByRole("textbox", { name: "Reply" }).evaluate((box) => document.activeElement === box);
  assert.ok(shown, "the reply box has the keyboard");
});
