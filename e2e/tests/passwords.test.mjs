// Passwords in the dashboard: an owner invites a colleague, who opens the link in another
// browser, chooses a password and lands in the inbox; the owner sets a member's password; a
// person changes their own; and "Forgot your password?" says plainly that this server sends no
// e-mail (none is configured here).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Switchboard, launch } from "../harness.mjs";

let sb, browser;
const scriptErrors = [];

before(async () => {
  sb = await Switchboard.create();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sb?.stop();
});

async function page() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sb.base });
  const tab = await context.newPage();
  tab.on("pageerror", (error) => scriptErrors.push(error.message));
  return tab;
}

async function signIn(tab, email, password) {
  await tab.goto(`${sb.base}/`);
  await tab.getByLabel("E-mail").fill(email);
  await tab.getByLabel("Password").fill(password);
  await tab.getByRole("button", { name: "Sign in" }).click();
  await tab.getByRole("button", { name: "Sign out" }).waitFor();
}

test("an invited colleague joins through the link, and the owner sets a member's password", async () => {
  const owner = await page();
  await signIn(owner, "owner@acme.test", "correct horse battery");
  await owner.getByRole("link", { name: "Team" }).click();
  const invite = owner.getByRole("form", { name: "Invite a person" });
  await invite.getByLabel("E-mail").fill("new.agent@acme.test");
  await invite.getByLabel("Role").selectOption("operator");
  await invite.getByRole("button", { name: "Invite" }).click();
  const link = await owner.locator("#invitation-link").textContent();
  assert.match(link, /#invite\/[0-9a-z]+$/);
  await owner.locator("td", { hasText: "new.agent@acme.test" }).waitFor();

  const colleague = await page();
  await colleague.goto(link);
  await colleague.getByRole("heading", { name: "Join your team on Switchboard" }).waitFor();
  await colleague.getByLabel("Your password").fill("my very own password");
  await colleague.getByRole("button", { name: "Join" }).click();
  await colleague.getByRole("button", { name: "Sign out" }).waitFor();
  assert.match(await colleague.locator(".brand").textContent(), /Acme Lamps/);

  // The owner sets the new member's password; the member's session ends.
  await owner.reload();
  await owner.getByRole("heading", { name: "People" }).waitFor();
  const set = owner.getByRole("form", { name: "Set a member's password" });
  await set.getByLabel("Person").selectOption({ label: "new.agent@acme.test" });
  await set.getByLabel("New password").fill("set by the owner now");
  await set.getByRole("button", { name: "Set password" }).click();
  await set.getByText("Set.").waitFor();
  const status = await colleague.evaluate(async () => (await fetch("/api/v1/me")).status);
  assert.equal(status, 401, "the member's session ended");
  const again = await page();
  await signIn(again, "new.agent@acme.test", "set by the owner now");

  // And changes it themselves.
  await again.getByRole("link", { name: "Team" }).click();
  const mine = again.getByRole("form", { name: "Your password" });
  await mine.getByLabel("Current password").fill("set by the owner now");
  await mine.getByLabel("New password").fill("only I know this one");
  await mine.getByRole("button", { name: "Change password" }).click();
  await mine.getByText("Changed.").waitFor();
  assert.deepEqual(scriptErrors, []);
});

test("a forgotten password on a server without e-mail: the page says whom to ask", async () => {
  const tab = await page();
  await tab.goto(`${sb.base}/`);
  await tab.getByRole("link", { name: "Forgot your password?" }).click();
  await tab.getByLabel("E-mail").fill("owner@acme.test");
  await tab.getByRole("button", { name: "Send me a link" }).click();
  await tab.getByText("This server sends no e-mail.", { exact: false }).waitFor();
  assert.deepEqual(scriptErrors, []);
});
