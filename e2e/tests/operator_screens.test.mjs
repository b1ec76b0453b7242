// Every operator screen of the demo at 375 px and with the keyboard: nothing is wider than the
// phone, and Tab reaches every control the screen shows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Switchboard, launch } from "../harness.mjs";

let sb, browser;

before(async () => {
  sb = await Switchboard.demo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sb?.stop();
});

/** The visible, enabled controls of the page, each marked so Tab can be checked against it. */
async function controls(page) {
  return page.evaluate(() => {
    const all = [...document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])")];
    // A control taken out of the order on purpose (a file picker behind its own button) is not one.
    // A radio group is one stop for Tab (its checked radio); arrows move inside it.
    const grouped = (el) => el.type === "radio" && !el.checked && document.querySelector(`input[type=radio][name="${CSS.escape(el.name)}"]:checked`);
    const shown = all.filter((el) => !el.disabled && !grouped(el) && el.getAttribute("tabindex") !== "-1" && !el.closest("[aria-hidden='true']") && el.getClientRects().length && getComputedStyle(el).visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)"));
    shown.forEach((el, i) => { el.dataset.control = String(i); });
    return shown.map((el) => `${el.tagName.toLowerCase()} ${el.getAttribute("aria-label") || el.textContent.trim().slice(0, 40) || el.name || el.type}`);
  });
}

test("each screen fits a 375 px phone and Tab reaches all of its controls", async () => {
  const page = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage();
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("demo@switchboard.local");
  await page.getByLabel("Password").fill("demo-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Sections" }).waitFor();
  const screens = await page.getByRole("navigation", { name: "Sections" }).getByRole("link").evaluateAll((links) => links.map((a) => a.getAttribute("href")));
  assert.ok(screens.length >= 10, `${screens}`);
  // A conversation to open: a visitor writes through the demo's widget.
  await page.evaluate(async () => {
    const widget = (await (await fetch("/api/v1/widgets")).json()).data[0];
    const post = (path, body, token) => fetch(`/api/v1${path}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const started = (await (await post(`/widget/${widget.id}/conversations`, {})).json()).data;
    await post(`/widget/conversations/${started.conversation_id}/messages?wait_ms=5000`, { text: "Do you sell lamps?" }, started.visitor_token);
  });
  for (const screen of [...screens, "#inbox/open-first"]) {
    // Loaded afresh, and measured once everything the screen asks for has come.
    await page.goto(`${sb.base}/${screen === "#inbox/open-first" ? "#inbox" : screen}`);
    await page.reload();
    await page.locator("main#screen > *").first().waitFor();
    await page.waitForLoadState("networkidle");
    if (screen === "#inbox/open-first") {
      await page.getByRole("list", { name: "Conversations" }).getByRole("button").first().click();
      await page.getByRole("region", { name: "Conversation", exact: true }).getByRole("textbox").first().waitFor();
      await page.waitForLoadState("networkidle");
    }
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${screen} is ${width} px wide`);
    const names = await controls(page);
    const reached = new Set();
    await page.locator("body").focus();
    await page.evaluate(() => document.activeElement?.blur());
    for (let i = 0; i < names.length + 40 && reached.size < names.length; i++) {
      await page.keyboard.press("Tab");
      const mark = await page.evaluate(() => document.activeElement?.closest("[data-control]")?.dataset.control);
      if (mark !== undefined) reached.add(mark);
    }
    const missed = names.filter((_, i) => !reached.has(String(i)));
    assert.deepEqual(missed, [], `${screen}: Tab never reaches ${missed.join(", ")}`);
  }
});
