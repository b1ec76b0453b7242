// Channels: e-mail addresses, Telegram bots and WhatsApp numbers answering through a widget's
// rules, AI and people (docs/channels.md). Secrets are write-only; "Test" checks the channel
// with its provider (logs in to the mail servers, connects a Telegram bot's webhook).
import { h, call, field, submitting, confirmAction, fill, secretField } from "./ui.js";

const KINDS = { email: "E-mail address", telegram: "Telegram bot", whatsapp: "WhatsApp number" };
const SECURITY = { starttls: "STARTTLS", tls: "TLS", none: "None (an allowlisted relay only)" };

// One mail server's fields: host, port, how the connection is protected, who logs in.
function serverFields(prefix, port) {
  const host = h("input", { "data-field": `settings.${prefix}.host`, placeholder: `${prefix}.example.com`, spellcheck: "false" });
  const portBox = h("input", { "data-field": `settings.${prefix}.port`, type: "number", min: 1, max: 65535, placeholder: String(port) });
  const security = h("select", { "data-field": `settings.${prefix}.tls` },
    h("option", { value: "" }, "As the port says"), Object.entries(SECURITY).map(([value, label]) => h("option", { value }, label)));
  const user = h("input", { "data-field": `settings.${prefix}.username`, placeholder: "the address", spellcheck: "false" });
  const ca = h("textarea", { "data-field": `settings.${prefix}.ca_certificate`, rows: 2, spellcheck: "false", placeholder: "-----BEGIN CERTIFICATE-----" });
  const password = secretField(`${prefix.toUpperCase()} password`, `secrets.${prefix}_password`, false, { optional: true });
  const read = () => {
    const server = { host: host.value.trim() };
    if (portBox.value) server.port = Number(portBox.value);
    if (security.value) server.tls = security.value;
    if (user.value.trim()) server.username = user.value.trim();
    if (ca.value.trim()) server.ca_certificate = ca.value.trim();
    return server;
  };
  const boxes = [field(`${prefix.toUpperCase()} server`, host), field("Port", portBox), field("Encryption", security), field("Username", user), password.box,
    field("CA certificate (optional)", ca, "Only for a server whose certificate your own CA issued (PEM).")];
  return { host, boxes, read, password };
}

function emailFields() {
  const address = h("input", { "data-field": "settings.address", type: "email", required: true, placeholder: "help@shop.example", spellcheck: "false" });
  const fromName = h("input", { "data-field": "settings.from_name", placeholder: "Shop Support" });
  const smtp = serverFields("smtp", 587);
  const imap = serverFields("imap", 993);
  const hook = secretField("Inbound webhook secret (optional: for a provider posting mail)", "secrets.webhook_secret", false, { optional: true });
  return {
    boxes: [field("Support address", address), field("Name on replies (optional)", fromName),
      h("fieldset", {}, h("legend", {}, "Replies go out (SMTP)"), ...smtp.boxes),
      h("fieldset", {}, h("legend", {}, "Mail comes in (IMAP, optional)"), ...imap.boxes), hook.box],
    read: () => {
      const settings = { address: address.value.trim(), smtp: smtp.read() };
      if (fromName.value.trim()) settings.from_name = fromName.value.trim();
      if (imap.host.value.trim()) settings.imap = imap.read();
      const secrets = {};
      for (const [name, value] of [["smtp_password", smtp.password.value()], ["imap_password", imap.password.value()], ["webhook_secret", hook.value()]]) {
        if (value) secrets[name] = value;
      }
      return { settings, secrets };
    },
  };
}

// What the card says of what a node watches (an e-mail channel's mailbox, a polling bot's
// updates): when it was last reached, what went wrong.
function inboundLine(channel) {
  const box = channel.inbound;
  if (!box) return null;
  const what = channel.kind === "email" ? "Mailbox" : "Updates";
  if (box.error) return h("p", { class: "error", role: "status" }, `${what}: ${box.error}`);
  const reached = box.reached_at ? `${what} watched, last reached ${new Date(box.reached_at).toLocaleString()}` : `${what}: connecting…`;
  return h("p", { class: "muted" }, box.left_behind ? `${reached}. Note: ${box.left_behind}.` : reached);
}

function kindFields(kind) {
  if (kind === "email") return emailFields();
  if (kind === "telegram") {
    const token = secretField("Bot token (from @BotFather)", "secrets.bot_token", false);
    const base = h("input", { "data-field": "settings.api_base_url", type: "url", placeholder: "https://api.telegram.org", spellcheck: "false" });
    const updates = h("select", { "data-field": "settings.updates" },
      h("option", { value: "webhook" }, "Telegram sends them to this server (webhook)"), h("option", { value: "polling" }, "This server fetches them (long polling)"));
    return {
      boxes: [token.box, field("Updates", updates, "Long polling needs no public address."), field("Bot API address (optional)", base, "Only for a proxy in front of Telegram.")],
      read: () => {
        const settings = { updates: updates.value };
        if (base.value.trim()) settings.api_base_url = base.value.trim();
        return { settings, secrets: { bot_token: token.value() } };
      },
    };
  }
  const number = h("input", { "data-field": "settings.phone_number_id", required: true, inputmode: "numeric", spellcheck: "false" });
  const access = secretField("Access token", "secrets.access_token", false);
  const appSecret = secretField("App secret (signs Meta's webhook calls)", "secrets.app_secret", false);
  const verify = secretField("Verify token (you choose it; Meta's webhook check sends it)", "secrets.verify_token", false);
  const template = h("input", { "data-field": "settings.template.name", placeholder: "back_in_touch", spellcheck: "false" });
  const language = h("input", { "data-field": "settings.template.language", placeholder: "en", spellcheck: "false" });
  return {
    boxes: [field("Phone number id", number, "In Meta's WhatsApp manager, beside the number."), access.box, appSecret.box, verify.box,
      field("Template outside the 24-hour window (optional)", template, "An approved template inviting the customer back; replies wait until they write."),
      field("Template language", language)],
    read: () => {
      const settings = { phone_number_id: number.value.trim() };
      if (template.value.trim()) settings.template = { name: template.value.trim(), language: language.value.trim() || "en" };
      return { settings, secrets: { access_token: access.value(), app_secret: appSecret.value(), verify_token: verify.value() } };
    },
  };
}

function testResult(test) {
  return h("div", { class: test.ok ? "result good" : "result bad", role: "status" },
    h("strong", {}, test.ok ? "Connected." : "Not connected yet."), h("ul", {}, test.notes.map((n) => h("li", {}, n))));
}

function channelRow(channel, widgets, reload) {
  const widget = widgets.find((w) => w.id === channel.widget_id);
  const shown = h("div", { "aria-live": "polite" });
  const placeholders = { whatsapp: "4915112345678", email: "you@shop.example", telegram: "123456789" };
  const toLabels = { whatsapp: "Send a test message to the number (optional)", email: "Send a test message to the address (optional)", telegram: "Send a test message to the chat id (optional)" };
  const to = h("input", { "data-field": "to", spellcheck: "false", placeholder: placeholders[channel.kind] || "" });
  const test = h("button", { type: "button", onclick: async () => {
    test.disabled = true;
    const body = to.value.trim() ? { to: to.value.trim() } : {};
    try { fill(shown, testResult((await call("POST", `/channels/${channel.id}/test`, body)).data)); } finally { test.disabled = false; }
  } }, "Test");
  const pause = h("button", { type: "button", onclick: async () => {
    await call("PATCH", `/channels/${channel.id}`, { active: !channel.active });
    reload();
  } }, channel.active ? "Pause" : "Resume");
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the channel “${channel.name}”? Its conversations stay in the inbox.`))) return;
    await call("DELETE", `/channels/${channel.id}`);
    reload();
  } }, "Delete");
  return h("li", { class: "card" }, h("h3", {}, channel.name),
    h("p", { class: "muted" }, `${KINDS[channel.kind] || channel.kind}${channel.kind === "email" ? ` ${channel.settings.address}` : ""} · answers as ${widget ? widget.name : "a deleted widget"} · ${channel.active ? "active" : "paused"}`),
    inboundLine(channel),
    channel.delivery ? h("p", { class: "error", role: "status" },
      `Replies are waiting in ${channel.delivery.waiting_conversations} conversation(s)${channel.delivery.last_error ? `: ${channel.delivery.last_error}` : ""}. They go out, in order, once the channel works again.`) : null,
    field(toLabels[channel.kind] || "Send a test message to (optional)", to),
    h("div", { class: "row" }, test, pause, remove), shown);
}

export async function showChannels(main) {
  const [channels, widgets] = await Promise.all([call("GET", "/channels"), call("GET", "/widgets?limit=200")]).then((r) => r.map((x) => x.data));
  const reload = () => showChannels(main);
  const kind = h("select", { "data-field": "kind" }, Object.entries(KINDS).map(([value, label]) => h("option", { value }, label)));
  const name = h("input", { "data-field": "name", required: true, maxlength: 100, placeholder: "Shop bot" });
  const widget = h("select", { "data-field": "widget_id", required: true }, widgets.map((w) => h("option", { value: w.id }, w.name)));
  const specific = h("div", {});
  let fields = kindFields(kind.value);
  const redraw = () => { fields = kindFields(kind.value); fill(specific, ...fields.boxes); };
  kind.addEventListener("change", redraw);
  redraw();
  const form = h("form", { class: "panel", "aria-labelledby": "new-channel" }, h("h2", { id: "new-channel" }, "Add a channel"),
    field("Kind", kind), field("Name", name), field("Answers as", widget, "The widget whose rules, AI and people answer this channel."), specific,
    h("p", { class: "error", role: "alert" }), h("button", { class: "primary", type: "submit" }, "Add channel"));
  submitting(form, async () => {
    await call("POST", "/channels", { kind: kind.value, name: name.value.trim(), widget_id: widget.value, ...fields.read() });
    reload();
  });
  fill(main,
    h("h1", {}, "Channels"),
    h("p", { class: "lead" }, "Answer customers by e-mail, on Telegram and on WhatsApp with the same rules, API connections, AI and people as your widget. Replies from the inbox go back the same way."),
    channels.length ? h("ul", { class: "cards" }, channels.map((c) => channelRow(c, widgets, reload))) : h("p", { class: "empty" }, "No channels yet."),
    widgets.length ? form : h("p", { class: "empty" }, "Make a widget first: a channel answers as one."));
}
