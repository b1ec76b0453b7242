// The whole first run of a new shop owner, from an empty server, as a person does it: sign up,
// follow the checklist, connect the shop's API with OAuth 2.0, import its OpenAPI description,
// build a lookup rule with its input on the action, add knowledge, put the widget on the shop's
// site — then customers ask about two orders and one without a number (asked which), get a list
// read as language and a returns answer, and ask for a person: once reaching the available
// owner (who is notified and answers), once finding nobody (and told so honestly).
// Three passes: a mouse at desktop width, a 375 px phone, and the keyboard alone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Switchboard, launch, eventually } from "../harness.mjs";
import { ownShop, SPEC } from "../first_run_shop.mjs";
import { driverFor } from "../driver.mjs";

const CLIENT = { id: "lamps-dashboard", secret: `secret-${Math.random().toString(36).slice(2)}` };
const CONNECTED = "You're being connected with a member of our team. They will reply here shortly.";
const NOBODY = "Nobody from our team is available right now. Your message is waiting for them, and someone will reply here as soon as they're back.";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PASSES = [
  { name: "with a mouse at desktop width", viewport: { width: 1280, height: 900 }, keyboard: false },
  { name: "on a 375 px phone", viewport: { width: 375, height: 740 }, keyboard: false, phone: true },
  { name: "with the keyboard only", viewport: { width: 1280, height: 900 }, keyboard: true },
];

for (const pass of PASSES) {
  test(`the first run, ${pass.name}`, { timeout: 240_000 }, async () => {
    const shop = await ownShop(CLIENT);
    const sb = await Switchboard.blank(["--ssrf-allow", `127.0.0.1:${shop.port}`]);
    await sb.start();
    let snippet = "";
    const site = createServer((req, res) => {
      res.setHeader("content-type", "text/html");
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Lamp shop</title></head><body><h1>Lamp shop</h1>${snippet}</body></html>`);
    });
    await new Promise((r) => site.listen(0, "127.0.0.1", r));
    const siteOrigin = `http://127.0.0.1:${site.address().port}`;
    const contexts = [];
    const newContext = async () => {
      const context = await browser.newContext({ viewport: pass.viewport, isMobile: !!pass.phone, hasTouch: !!pass.phone });
      contexts.push(context);
      return context;
    };
    try {
      const ownerContext = await newContext();
      await ownerContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sb.base });
      // Notifications and sound leave the page: recorded where they are handed to the browser.
      await ownerContext.addInitScript(() => {
        window.__notified = [];
        window.__chimes = 0;
        window.Notification = class {
          static permission = "granted";
          static requestPermission() { return Promise.resolve("granted"); }
          constructor(title, options) { window.__notified.push({ title, ...options }); }
          close() {}
        };
        const start = OscillatorNode.prototype.start;
        OscillatorNode.prototype.start = function (...args) { window.__chimes++; return start.apply(this, args); };
      });
      const page = await ownerContext.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const ui = driverFor(page, pass);

      // Sign up: the checklist greets the owner, who is available from the start.
      await page.goto(sb.base);
      await ui.press(page.getByRole("link", { name: "Create an account" }));
      await ui.fill(page.getByLabel("Company name"), "Lamp Shop");
      await ui.fill(page.getByLabel("E-mail"), "owner@lamps.test");
      await ui.fill(page.getByLabel("Password"), "correct horse battery");
      await ui.press(page.getByRole("button", { name: "Create account" }));
      await ui.heading("Get started");
      await page.getByText("0 of 6 done.").waitFor();
      const availability = page.locator("header .availability");
      assert.equal(await availability.getAttribute("aria-pressed"), "true");
      await ui.fitsTheScreen();

      // 1. Connect the shop's API (OAuth 2.0 client credentials), from the checklist.
      await ui.press(page.getByRole("link", { name: "Add a connection" }));
      await ui.heading("New connection");
      await ui.fill(page.getByLabel("Name", { exact: true }), "Shop");
      await ui.fill(page.getByLabel("Base URL"), `${shop.base}/api`);
      await ui.select(page.getByLabel("Method"), "oauth2_client_credentials");
      await ui.fill(page.getByLabel("Token URL"), `${shop.base}/oauth/token`);
      await ui.fill(page.getByLabel("Client ID"), CLIENT.id);
      await ui.fill(page.getByLabel("Client secret"), CLIENT.secret);
      await ui.press(page.getByRole("button", { name: "Create connection" }));
      await ui.heading("Shop");
      await ui.press(page.getByRole("button", { name: "Test connection" }));
      await page.locator(".result", { hasText: "Connected" }).waitFor();
      await ui.fitsTheScreen();

      // 2. Its endpoints from the OpenAPI description; the lookup gets its mapping.
      const importer = page.locator('form[aria-labelledby="import-title"]');
      await ui.fill(importer.getByLabel("Paste the document"), SPEC(shop.base));
      await ui.press(importer.getByRole("button", { name: "Preview" }));
      await importer.getByText("Would create 1 endpoint(s)").waitFor();
      await ui.press(importer.getByRole("button", { name: "Import" }));
      await ui.press(page.getByRole("link", { name: "getOrder" }));
      await ui.heading("getOrder");
      for (const [variable, path] of [["order_status", "data.status"], ["items", "data.items[*].name"]]) {
        await ui.press(page.getByRole("button", { name: "Add variable" }));
        await ui.fill(page.getByLabel("Variable", { exact: true }).last(), variable);
        await ui.fill(page.getByLabel("Path in the answer").last(), path);
      }
      await ui.press(page.getByRole("button", { name: "Save" }));
      await page.getByText("Saved.").waitFor();
      await ui.fill(page.getByLabel("orderId", { exact: true }), "4521");
      await ui.press(page.getByRole("button", { name: "Test endpoint" }));
      await page.locator(".result", { hasText: "Success" }).waitFor();
      // An order that does not exist is a normal answer, not a failure.
      await ui.fill(page.getByLabel("orderId", { exact: true }), "9999");
      await ui.press(page.getByRole("button", { name: "Test endpoint" }));
      await page.locator(".result.warn", { hasText: "Answered: nothing found" }).waitFor();
      await ui.fitsTheScreen();

      // 3. A lookup rule: the endpoint's input sits on the action, asked for when missing.
      await ui.nav("Rules");
      await ui.press(page.getByRole("link", { name: "New rule" }));
      await ui.heading("New rule");
      await ui.fill(page.getByLabel("Name", { exact: true }), "Order status");
      await ui.fill(page.getByLabel("Words (comma-separated)"), "order");
      await ui.select(page.getByLabel("Add an action"), "CALL_API");
      await ui.press(page.getByRole("button", { name: "Add action" }));
      await ui.press(page.getByRole("button", { name: "Move “Call an endpoint” up" }));
      await ui.select(page.locator('[data-field="actions[0].endpoint_id"]'), /getOrder/);
      const fillFrom = page.getByLabel("Fill orderId from");
      await fillFrom.waitFor();
      assert.equal(await fillFrom.inputValue(), "message", "a new input is read from the message");
      await ui.fill(page.getByLabel("Pattern for orderId"), "(\\d{4})");
      assert.equal(await page.getByLabel("When the message has no orderId").inputValue(), "ask");
      await ui.fill(page.getByLabel("Question asking for orderId"), "Which order number?");
      await ui.fill(page.locator('[data-field="actions[1].text"]'), "Order {orderId} is {order_status}: {items}.");
      await ui.select(page.getByLabel("Add an on-error action"), "REPLY_TEXT");
      await ui.press(page.getByRole("button", { name: "Add on-error action" }));
      await ui.fill(page.locator('[data-field="actions[0].on_error[0].text"]'), "I couldn't find order {orderId}.");
      await ui.uncut();
      await ui.press(page.getByRole("button", { name: "Create rule" }));
      await ui.heading("Order status");
      const saved = await page.evaluate(() => fetch("/api/v1/rules").then((r) => r.json()));
      assert.deepEqual(saved.data[0].actions[0].arguments, { orderId: { from_message: "(\\d{4})", ask: "Which order number?" } });
      // A confirmation dialog gives the focus back to what opened it.
      const remove = page.getByRole("button", { name: "Delete rule" });
      await ui.press(remove);
      await ui.press(page.getByRole("dialog").getByRole("button", { name: "Cancel" }));
      await eventually(() => remove.evaluate((el) => document.activeElement === el), "focus back on “Delete rule”");

      // Two more rules: a person on request, the knowledge base for everything else.
      await ui.nav("Rules");
      await ui.press(page.getByRole("link", { name: "New rule" }));
      await ui.fill(page.getByLabel("Name", { exact: true }), "A person, please");
      await ui.fill(page.locator('[data-field="priority"]'), "10");
      await ui.fill(page.getByLabel("Words (comma-separated)"), "human, person");
      await ui.select(page.getByLabel("Add an action"), "ASSIGN_TO_OPERATOR");
      await ui.press(page.getByRole("button", { name: "Add action" }));
      await ui.press(page.getByRole("button", { name: "Remove “Reply with text”" }));
      await ui.press(page.getByRole("button", { name: "Create rule" }));
      await ui.heading("A person, please");
      await ui.nav("Rules");
      await ui.press(page.getByRole("link", { name: "New rule" }));
      await ui.fill(page.getByLabel("Name", { exact: true }), "Everything else");
      await ui.fill(page.locator('[data-field="priority"]'), "200");
      await ui.select(page.getByLabel("When", { exact: true }), "any");
      await ui.select(page.getByLabel("Add an action"), "REPLY_KB");
      await ui.press(page.getByRole("button", { name: "Add action" }));
      await ui.press(page.getByRole("button", { name: "Remove “Reply with text”" }));
      await ui.fill(page.getByLabel("Fallback when nothing answers (optional)"), "I can look up your orders and answer questions about returns.");
      await ui.press(page.getByRole("button", { name: "Create rule" }));
      await ui.heading("Everything else");
      await ui.nav("Rules");
      await page.getByRole("cell", { name: "Look up getOrder → Reply" }).waitFor();
      await ui.fitsTheScreen();

      // 4. Knowledge.
      await ui.nav("Knowledge base");
      await ui.fill(page.getByLabel("Title"), "Returns");
      await ui.fill(page.getByLabel("Content (Markdown)"), "# Returns\n\nYou can return any lamp within 30 days for a full refund.");
      await ui.press(page.getByRole("button", { name: "Add document" }));
      await page.getByRole("cell", { name: "ready" }).waitFor();

      // 5. The widget on the shop's site; no AI provider here, so its AI starts off, saying why.
      await ui.nav("Widgets");
      await ui.press(page.getByRole("link", { name: "New widget" }));
      await page.getByText("no AI provider is set up").waitFor();
      await ui.fill(page.getByLabel("Name (shown in the header)"), "Lamp help");
      await ui.fill(page.getByLabel("Allowed sites (one per line)"), siteOrigin);
      await ui.press(page.getByRole("button", { name: "Create widget" }));
      await ui.heading("Lamp help");
      await ui.press(page.getByRole("button", { name: "Copy snippet" }));
      await page.getByText("Copied.").waitFor();
      snippet = await page.evaluate(() => navigator.clipboard.readText());
      await ui.fitsTheScreen();

      // The checklist ticks itself; the last step tries the chat right here.
      await ui.nav("Get started");
      await page.getByText("5 of 6 done.").waitFor();
      await ui.press(page.getByRole("button", { name: "Open the chat here" }));
      const here = page.locator("#switchboard-widget");
      await ui.press(here.getByRole("button", { name: "Open chat" }));
      await ui.say(here, "Where is order 4521?");
      await here.locator(".msg.bot", { hasText: "Order 4521 is shipped: Brass desk lamp and LED bulb E27." }).waitFor();
      await ui.press(here.locator("button.close"));
      await ui.nav("Inbox");
      await page.getByRole("list", { name: "Conversations" }).getByText("Order 4521 is shipped", { exact: false }).waitFor();
      await ui.nav("Get started");
      await page.getByText("All set").waitFor();

      // A customer on the shop's site.
      const customer = await (await newContext()).newPage();
      const you = driverFor(customer, pass);
      await customer.goto(`${siteOrigin}/`);
      const chat = customer.locator("#switchboard-widget");
      await you.press(chat.getByRole("button", { name: "Open chat" }));
      const answered = (text) => chat.locator(".msg.bot", { hasText: text }).waitFor();
      await you.say(chat, "Where is order 4521?");
      await answered("Order 4521 is shipped: Brass desk lamp and LED bulb E27.");
      await you.say(chat, "And order 4522?");
      await answered("Order 4522 is packed: Desk lamp.");
      const calls = shop.seen.orders.length;
      await you.say(chat, "Where is my other order?");
      await answered("Which order number?");
      assert.equal(shop.seen.orders.length, calls, "no lookup with an earlier number");
      await you.say(chat, "It's 4523");
      await answered("I couldn't find order 4523.");
      await you.say(chat, "Can I return a lamp?");
      await answered("within 30 days");
      if (pass.phone) {
        const input = chat.getByLabel("Your message");
        const box = await input.boundingBox();
        assert.ok(box && box.y >= 0 && box.y + box.height <= pass.viewport.height, `the message box is on screen: ${JSON.stringify(box)}`);
      }

      // A person, please: the owner is available, hears of it, and answers from the inbox.
      await you.say(chat, "Can I talk to a human?");
      await chat.locator(".msg", { hasText: CONNECTED }).waitFor();
      await page.locator(".toast", { hasText: "handed to you" }).waitFor();
      assert.ok((await page.evaluate(() => window.__notified.length)) >= 1, "a browser notification");
      assert.ok((await page.evaluate(() => window.__chimes)) >= 1, "a sound");
      await ui.nav("Inbox");
      // The newest activity is on top: the conversation just handed over.
      await ui.press(page.getByRole("list", { name: "Conversations" }).locator("button.row").first());
      const reply = page.getByLabel("Reply", { exact: true });
      await eventually(() => reply.evaluate((el) => document.activeElement === el), "focus in the reply box");
      const box = await reply.boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= pass.viewport.height, "the reply box is visible without scrolling");
      await page.keyboard.type("Hello, I'm Olga. Let me check that for you.");
      await page.keyboard.press("Enter");
      await chat.locator(".msg", { hasText: "Let me check that for you." }).waitFor();

      // Away: the next customer is told honestly that nobody is there.
      await ui.press(availability);
      await eventually(async () => (await availability.getAttribute("aria-pressed")) === "false", "the owner away");
      const later = await (await newContext()).newPage();
      const them = driverFor(later, pass);
      await later.goto(`${siteOrigin}/`);
      const laterChat = later.locator("#switchboard-widget");
      await them.press(laterChat.getByRole("button", { name: "Open chat" }));
      await them.say(laterChat, "I need a person");
      await laterChat.locator(".msg", { hasText: NOBODY }).waitFor();
      await page.locator(".toast", { hasText: "nobody available" }).waitFor();
      assert.deepEqual(errors, [], "no script errors in the dashboard");
    } finally {
      for (const context of contexts) await context.close();
      site.close();
      shop.close();
      await sb.stop();
    }
  });
}
