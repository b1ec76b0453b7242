// The analytics page in a real browser: figures, a chart with its table, the CSV download,
// and a knowledge gap answered from the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Switchboard, launch, eventually } from "../harness.mjs";

let sb, browser;

before(async () => {
  sb = await Switchboard.create();
  const widget = await sb.api("POST", "/widgets", { name: "Shop" });
  await sb.api("POST", "/rules", { name: "Hours", trigger: { type: "keywords", any: ["hours"] }, actions: [{ type: "REPLY_TEXT", text: "We open at 9." }] });
  for (const text of ["What are your hours?", "Do you ship to Norway?"]) {
    const started = (await (await fetch(`${sb.base}/api/v1/widget/${widget.id}/conversations`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()).data;
    await fetch(`${sb.base}/api/v1/widget/conversations/${started.conversation_id}/messages?wait_ms=5000`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${started.visitor_token}` }, body: JSON.stringify({ text }) });
    await sb.api("POST", `/conversations/${started.conversation_id}/close`, {});
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sb?.stop();
});

test("an operator reads the gaps but leaves writing documents to admins", async () => {
  await sb.api("POST", "/users", { email: "ops@acme.test", password: "correct horse battery", role: "operator" });
  const page = await (await browser.newContext()).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("ops@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Analytics" }).click();
  const gaps = page.getByRole("main").getByRole("region", { name: "Knowledge gaps" });
  await gaps.getByText("“Do you ship to Norway?”").waitFor();
  assert.equal(await gaps.getByRole("button", { name: "Write an answer" }).count(), 0);
});

test("the figures, a chart with its table, the CSV, and a gap answered from the page", async () => {
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Analytics" }).click();
  const main = page.getByRole("main");
  await main.getByRole("heading", { name: "Analytics", exact: true }).waitFor();
  const tile = (label) => main.locator(".tile", { hasText: label }).locator("strong");
  await eventually(async () => (await tile("Conversations").textContent()) === "2", "two conversations");
  assert.equal(await tile("Resolved by the assistant").textContent(), "50%");

  // The chart is a picture with a name, and the same numbers as a table.
  const chart = main.getByRole("img", { name: /^Conversations:/ });
  assert.equal(await chart.count(), 1);
  await main.getByText("Conversations as a table").click();
  const table = main.getByRole("table", { name: "Conversations" });
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(await table.getByRole("row", { name: new RegExp(today) }).getByRole("cell").textContent(), "2");

  const [download] = await Promise.all([page.waitForEvent("download"), main.getByRole("link", { name: "Download CSV" }).click()]);
  assert.match(download.suggestedFilename(), /^analytics-.*\.csv$/);

  // The unanswered question, answered from the page: covered once the document is processed.
  const gaps = main.getByRole("region", { name: "Knowledge gaps" });
  await gaps.getByText("“Do you ship to Norway?”").waitFor();
  await gaps.getByRole("button", { name: "Write an answer" }).click();
  const answer = gaps.getByLabel("Answer");
  assert.match(await answer.inputValue(), /Do you ship to Norway\?/);
  await answer.fill("# Do you ship to Norway?\n\nYes: we ship to Norway, Sweden and Denmark within five days.");
  await gaps.getByRole("button", { name: "Save to the knowledge base" }).click();
  await eventually(async () => {
    await main.getByRole("button", { name: "Show" }).click();
    return (await gaps.getByText("covered", { exact: true }).count()) === 1;
  }, "the gap covered", 20000);
});
