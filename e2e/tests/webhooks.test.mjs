// Outbound webhooks, checked from the outside: a real switchboard process sends conversation
// events to a receiver on 127.0.0.1, and the receiver verifies every delivery with the Standard
// Webhooks reference library for JavaScript (the `standardwebhooks` npm package) — not with
// Switchboard's own code. Also: a tampered body and a wrong secret are rejected by it, deliveries
// after a secret rotation verify with the new secret and, during the grace period, the old one,
// and a receiver that answers 500 first gets the delivery again, as the delivery log shows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { Switchboard, BIN, eventually } from "../harness.mjs";

let sb, receiver, widget, webhook, secret;

/** A receiver that records raw bodies and headers; `flaky` answers 500 to each message's first attempt. */
async function startReceiver() {
  const state = { received: [], flaky: false };
  const attempts = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      state.received.push({ headers: { ...req.headers }, raw });
      const id = req.headers["webhook-id"];
      const n = (attempts.get(id) || 0) + 1;
      attempts.set(id, n);
      if (state.flaky && n === 1) {
        res.writeHead(500, { "content-type": "text/plain" }).end("busy, try again");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  state.port = server.address().port;
  state.url = `http://127.0.0.1:${state.port}/hooks`;
  state.close = () => server.close();
  state.ofType = (type) => state.received.filter((r) => JSON.parse(r.raw).type === type);
  return state;
}

/** The visitor side, through the public widget API. */
async function visitorSays(conversation, token, text) {
  const response = await fetch(`${sb.base}/api/v1/widget/conversations/${conversation}/messages?wait_ms=5000`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).data.replies.map((r) => r.text);
}

before(async () => {
  receiver = await startReceiver();
  // Short retries, so the test does not wait minutes for the second attempt.
  const config = join(process.env.TMPDIR || "/tmp", `sb-webhooks-${process.pid}.toml`);
  writeFileSync(config, "[webhooks]\npoll_interval_ms = 50\nretry_delays_ms = [200, 400]\ntimeout_ms = 2000\n");
  sb = await Switchboard.blank(["--ssrf-allow", `127.0.0.1:${receiver.port}`, "--config", config]);
  const out = execFileSync(BIN, ["tenant", "create", "--name", "Acme Lamps", "--email", "owner@acme.test", "--password-stdin", "--database", sb.database], { input: "correct horse battery\n" }).toString();
  sb.apiKey = out.match(/api_key: (\S+)/)[1];
  await sb.start();
  widget = (await sb.api("POST", "/widgets", { name: "Shop" })).id;
  await sb.api("POST", "/rules", { name: "Greet", trigger: { type: "any" }, actions: [{ type: "REPLY_TEXT", text: "Happy to help!" }] });
  const created = await sb.api("POST", "/webhooks", {
    url: receiver.url,
    events: ["conversation.created", "message.created", "conversation.assigned", "conversation.closed", "conversation.reopened"],
    description: "e2e receiver",
  });
  webhook = created.id;
  secret = created.secret;
});

after(async () => {
  receiver?.close();
  await sb?.stop();
});

test("every delivery verifies with the standardwebhooks library, and a tampered one does not", async () => {
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  const shown = await sb.api("GET", `/webhooks/${webhook}`);
  assert.equal(shown.secret, undefined, "the secret is shown only once");

  const started = await fetch(`${sb.base}/api/v1/widget/${widget}/conversations`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ visitor: { name: "Vera" } }),
  }).then((r) => r.json());
  const { conversation_id: conversation, visitor_token: token } = started.data;
  assert.deepEqual(await visitorSays(conversation, token, "Is lamp 7 in stock?"), ["Happy to help!"]);
  await sb.api("POST", `/conversations/${conversation}/close`, {});

  await eventually(() => receiver.ofType("message.created").length >= 3 && receiver.ofType("conversation.closed").length === 1, "the conversation's deliveries");
  const library = new Webhook(secret);
  for (const { headers, raw } of receiver.received) {
    const event = library.verify(raw, headers);
    assert.deepEqual(event, JSON.parse(raw));
    assert.match(headers["webhook-id"], /^dlv_/);
    assert.match(headers["webhook-signature"], /^v1,[A-Za-z0-9+/]+=*$/);
    assert.equal(event.data.conversation.id, conversation);
  }
  const kinds = receiver.received.map((r) => JSON.parse(r.raw).type).sort();
  assert.deepEqual(kinds, ["conversation.closed", "conversation.created", "message.created", "message.created", "message.created"]);
  const question = receiver.ofType("message.created").map((r) => JSON.parse(r.raw)).find((e) => e.data.message.author === "visitor");
  assert.equal(question.data.message.text, "Is lamp 7 in stock?");
  assert.equal(question.data.conversation.visitor.name, "Vera");

  // The check is real: a changed body, a wrong secret and a stale timestamp are refused.
  const sample = receiver.ofType("message.created")[0];
  const tampered = sample.raw.replace("Is lamp 7 in stock?", "Is lamp 8 in stock?").replace("Happy to help!", "Happy to help?");
  assert.notEqual(tampered, sample.raw);
  assert.throws(() => library.verify(tampered, sample.headers), WebhookVerificationError);
  assert.throws(() => new Webhook(`whsec_${randomBytes(32).toString("base64")}`).verify(sample.raw, sample.headers), WebhookVerificationError);
  const stale = { ...sample.headers, "webhook-timestamp": String(Number(sample.headers["webhook-timestamp"]) - 3600) };
  assert.throws(() => library.verify(sample.raw, stale), WebhookVerificationError);
});

test("after a rotation deliveries verify with the new secret and, during the grace period, the old one", async () => {
  const rotated = await sb.api("POST", `/webhooks/${webhook}/rotate-secret`);
  const newSecret = rotated.secret;
  assert.notEqual(newSecret, secret);
  assert.ok(Date.parse(rotated.previous_secret_expires_at) - Date.now() > 23.9 * 3600 * 1000, "24 hours of grace");

  const started = await fetch(`${sb.base}/api/v1/widget/${widget}/conversations`, { method: "POST" }).then((r) => r.json());
  const { conversation_id: conversation, visitor_token: token } = started.data;
  await visitorSays(conversation, token, "Another question");
  const deliveries = () => receiver.received.filter((r) => JSON.parse(r.raw).data.conversation?.id === conversation);
  await eventually(() => deliveries().length >= 3, "the new conversation's deliveries");
  for (const { headers, raw } of deliveries()) {
    assert.equal(headers["webhook-signature"].split(" ").length, 2, headers["webhook-signature"]);
    assert.deepEqual(new Webhook(newSecret).verify(raw, headers), JSON.parse(raw), "a receiver given the new secret");
    assert.deepEqual(new Webhook(secret).verify(raw, headers), JSON.parse(raw), "a receiver still on the old secret");
    assert.throws(() => new Webhook(`whsec_${randomBytes(24).toString("base64")}`).verify(raw, headers), WebhookVerificationError);
  }
  secret = newSecret;
});

test("a receiver that answers 500 first gets the delivery again, and the log shows both attempts", async () => {
  receiver.flaky = true;
  const queued = await sb.api("POST", `/webhooks/${webhook}/test`);
  assert.equal(queued.type, "webhook.test");
  const logged = await eventually(async () => {
    const log = await sb.api("GET", `/webhooks/${webhook}/deliveries`);
    const delivery = log.find((d) => d.id === queued.delivery_id);
    return delivery?.state === "delivered" && delivery;
  }, "the test event to be delivered on its second attempt");
  assert.equal(logged.attempt_count, 2);
  assert.deepEqual(logged.attempts.map((a) => a.status), [500, 200]);
  assert.equal(logged.attempts[0].error.code, "http_error");
  assert.equal(logged.attempts[0].response_excerpt, "busy, try again");
  assert.ok(logged.attempts.every((a) => Number.isInteger(a.latency_ms)));

  const sent = receiver.received.filter((r) => r.headers["webhook-id"] === queued.delivery_id);
  assert.equal(sent.length, 2, "the same webhook-id both times");
  for (const { headers, raw } of sent) {
    const event = new Webhook(secret).verify(raw, headers);
    assert.equal(event.type, "webhook.test");
    assert.equal(event.data.webhook_id, webhook);
  }
  receiver.flaky = false;
});
