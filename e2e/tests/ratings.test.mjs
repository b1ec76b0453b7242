// What visitors think: a reply marked helpful in the widget, a rating asked for once the
// conversation is closed, and both shown to the team beside the conversation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Switchboard, launch, hostPage, eventually } from "../harness.mjs";

let sb, browser, host, visitor, chat;

before(async () => {
  sb = await Switchboard.create();
  const widget = await sb.api("POST", "/widgets", { name: "Shop" });
  await sb.api("POST", "/rules", { name: "Hours", trigger: { type: "keywords", any: ["open"] }, actions: [{ type: "REPLY_TEXT", text: "We are open 9 to 5." }] });
  host = await hostPage(sb, widget.id);
  browser = await launch();
  visitor = await (await browser.newContext()).newPage();
  await visitor.goto(host.url);
  chat = visitor.locator("#switchboard-widget");
  await chat.getByRole("button", { name: "Open chat" }).click();
});

after(async () => {
  await browser?.close();
  host?.close();
  await sb?.stop();
});

test("the visitor marks a reply helpful and rates the closed conversation; the team sees both", async () => {
  await chat.getByLabel("Your message").fill("When are you open?");
  await visitor.keyboard.press("Enter");
  await chat.getByText("We are open 9 to 5.").waitFor();
  const helpful = chat.getByRole("button", { name: "Helpful", exact: true });
  await helpful.click();
  await eventually(async () => (await helpful.getAttribute("aria-pressed")) === "true", "the mark shown");

  const [conversation] = await sb.api("GET", "/conversations");
  await sb.api("POST", `/conversations/${conversation.id}/close`, {});
  const rating = chat.getByRole("form", { name: "Rate this conversation" });
  await rating.waitFor();
  await rating.getByRole("button", { name: "4 stars" }).click();
  await rating.getByLabel("Comment").fill("Quick and clear");
  await rating.getByRole("button", { name: "Send rating" }).click();
  await chat.getByText("Thank you for your rating!").waitFor();

  const seen = await sb.api("GET", `/conversations/${conversation.id}`);
  assert.equal(seen.rating.score, 4);
  assert.equal(seen.rating.comment, "Quick and clear");
  assert.deepEqual(seen.feedback.map((f) => f.helpful), [true]);

  const page = await (await browser.newContext()).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("list", { name: "Conversations" }).getByRole("button").first().click();
  const details = page.getByRole("complementary", { name: "Details" });
  await details.getByText("4 of 5").waitFor();
  await details.getByText("“Quick and clear”").waitFor();
  await details.getByText("Replies: 1 helpful, 0 not helpful").waitFor();
});
