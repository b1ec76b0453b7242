// Channels in the dashboard: a WhatsApp number added through the form (its secrets typed once,
// never shown again), tested against a fake of the Graph API on loopback, paused and deleted;
// an e-mail address added with its SMTP server, whose test says why it cannot send.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { Switchboard, launch } from "../harness.mjs";

let sb, browser, graph, hangUp, closedPort;
const ACCESS_TOKEN = "EAAG-dashboard-token";

/** The Graph API's number lookup: the number's record for the right token. */
async function graphApi() {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(req.url);
    const authorized = req.headers.authorization === `Bearer ${ACCESS_TOKEN}`;
    const body = authorized ? { id: "1055", display_phone_number: "+49 30 901820", verified_name: "Acme" } : { error: { message: "Invalid OAuth access token" } };
    res.writeHead(authorized ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${server.address().port}/v21.0`, port: server.address().port, seen, close: () => server.close() };
}

before(async () => {
  graph = await graphApi();
  // The e-mail channel's "SMTP server": it hangs up on every connection, before any greeting.
  hangUp = createNetServer((socket) => socket.destroy());
  await new Promise((r) => hangUp.listen(0, "127.0.0.1", r));
  closedPort = hangUp.address().port;
  sb = await Switchboard.create(["--ssrf-allow", `127.0.0.1:${graph.port}`, "--ssrf-allow", `127.0.0.1:${closedPort}`]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  graph?.close();
  hangUp?.close();
  await sb?.stop();
});

/** A fresh browser page, and the errors its scripts throw. */
async function newPage() {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

/** Signs the owner in and opens the Channels screen. */
async function openChannels(page) {
  await page.goto(sb.base);
  await page.getByLabel("E-mail").fill("owner@acme.test");
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("header nav").getByRole("link", { name: "Channels", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Channels" }).waitFor();
}

test("a WhatsApp number is added, tested, paused and deleted in the dashboard", async () => {
  const { page, errors } = await newPage();
  await fetch(`${sb.base}/api/v1/widgets`, { method: "POST", headers: { "x-api-key": sb.apiKey, "content-type": "application/json" }, body: JSON.stringify({ name: "Lamp shop" }) });
  await openChannels(page);

  const form = page.locator('form[aria-labelledby="new-channel"]');
  await form.getByLabel("Kind").selectOption("whatsapp");
  await form.getByLabel("Name").fill("WhatsApp");
  await form.getByLabel("Phone number id").fill("1055");
  await form.getByLabel("Access token").fill(ACCESS_TOKEN);
  await form.getByLabel("App secret (signs Meta's webhook calls)").fill("app-secret");
  await form.getByLabel(/Verify token/).fill("verify-me");
  await form.getByRole("button", { name: "Add channel" }).click();
  // The screen redraws once the channel is stored: only then is it in the API's list.
  await page.locator("li.card", { hasText: "WhatsApp number" }).waitFor();
  // The Graph API's address is a setting the form leaves to its default; point it at the fake.
  const channels = await (await fetch(`${sb.base}/api/v1/channels`, { headers: { "x-api-key": sb.apiKey } })).json();
  assert.equal(channels.data.length, 1);
  const channel = channels.data[0];
  assert.equal(channel.secrets_set, true);
  assert.ok(!JSON.stringify(channels).includes(ACCESS_TOKEN), "secrets are never shown");
  await fetch(`${sb.base}/api/v1/channels/${channel.id}`, { method: "PATCH", headers: { "x-api-key": sb.apiKey, "content-type": "application/json" },
    body: JSON.stringify({ settings: { ...channel.settings, api_base_url: graph.base } }) });

  const card = page.locator("li.card", { hasText: "WhatsApp" });
  await card.getByText("WhatsApp number · answers as Lamp shop · active").waitFor();
  await card.getByRole("button", { name: "Test" }).click();
  await card.getByRole("status").getByText("Connected.").waitFor();
  await card.getByText("the access token reaches the number +49 30 901820").waitFor();
  assert.deepEqual(graph.seen, ["/v21.0/1055"]);

  await card.getByRole("button", { name: "Pause" }).click();
  await page.locator("li.card", { hasText: "paused" }).waitFor();
  await page.locator("li.card").getByRole("button", { name: "Delete" }).click();
  await page.locator("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("No channels yet.").waitFor();
  assert.deepEqual(errors, []);
});

test("an e-mail address is added with its SMTP server and its test says why it cannot send", async () => {
  const { page, errors } = await newPage();
  await openChannels(page);

  const form = page.locator('form[aria-labelledby="new-channel"]');
  await form.getByLabel("Kind").selectOption("email");
  await form.getByLabel("Name", { exact: true }).fill("Support mail");
  await form.getByLabel("Support address").fill("help@shop.example");
  const smtp = form.getByRole("group", { name: "Replies go out (SMTP)" });
  await smtp.getByLabel("SMTP server").fill("127.0.0.1");
  await smtp.getByLabel("Port").fill(String(closedPort));
  await smtp.getByLabel("Encryption").selectOption("none");
  await smtp.getByLabel("SMTP password").fill("smtp-secret-1");
  await form.getByRole("button", { name: "Add channel" }).click();
  const card = page.locator("li.card", { hasText: "Support mail" });
  await card.getByText("E-mail address help@shop.example · answers as Lamp shop · active").waitFor();

  const channels = await (await fetch(`${sb.base}/api/v1/channels`, { headers: { "x-api-key": sb.apiKey } })).json();
  const mail = channels.data.find((c) => c.kind === "email");
  assert.deepEqual(mail.settings.smtp, { host: "127.0.0.1", port: closedPort, tls: "none", username: "help@shop.example" });
  assert.equal(mail.settings.imap, null);
  assert.ok(!JSON.stringify(channels).includes("smtp-secret-1"), "the password is never shown");

  await card.getByRole("button", { name: "Test" }).click();
  await card.getByRole("status").getByText("Not connected yet.").waitFor();
  await card.getByText(/^replies cannot go out: the SMTP server's greeting/).waitFor();
  assert.deepEqual(errors, []);
});
