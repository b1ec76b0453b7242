// The demo as a newcomer meets it: the /demo page's widget answers an order question from the
// demo backend, live.
import { test, before, after } from "node:test";
import { join } from "node:path";
import { Switchboard, launch, eventually, ARTIFACTS } from "../harness.mjs";

let sb, browser;

before(async () => {
  sb = await Switchboard.demo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sb?.stop();
});

test("the demo page's widget looks an order up and answers", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${sb.base}/demo`);
  const widget = page.locator("#switchboard-widget");
  await widget.getByRole("button", { name: "Open chat" }).click();
  const input = widget.getByLabel("Your message");
  await input.fill("Where is my order #4521?");
  await input.press("Enter");
  const reply = "Order 4521 is shipped. It should arrive on 2026-12-01 with DHL.";
  await eventually(async () => (await widget.locator(".log .msg").allTextContents()).some((t) => t.includes(reply)), "the order status");
  await page.screenshot({ path: join(ARTIFACTS, "demo-order.png") });
});
