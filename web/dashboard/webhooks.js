// Settings → Webhooks: conversation events sent to the tenant's own systems, signed per the
// Standard Webhooks spec. The signing secret is shown once (at creation and rotation); the
// delivery log shows every attempt.
import { h, call, field, submitting, confirmAction, fill, ago } from "./ui.js";

const EVENTS = [
  ["conversation.created", "A conversation starts"],
  ["message.created", "A message is written (visitor, bot or operator)"],
  ["conversation.assigned", "A conversation is handed to a person or team"],
  ["conversation.closed", "A conversation is closed"],
  ["conversation.reopened", "A closed conversation is opened again"],
  ["conversation.unattended", "A visitor asked for a person, and nobody available has the conversation"],
  ["action.proposed", "A call waits for the visitor's confirmation or a person's approval"],
  ["action.confirmed", "Everyone agreed: the call is being made"],
  ["action.executed", "The agreed call was made (or failed, or went stale)"],
  ["action.denied", "The visitor cancelled it or a person denied it"],
  ["action.expired", "Nobody agreed in time"],
];

function secretShown(secret, what) {
  const value = h("code", { id: "webhook-secret" }, secret);
  return h("div", { class: "result good", role: "status" },
    h("strong", {}, `${what} — copy it now, it is never shown again:`), value,
    h("button", { type: "button", onclick: () => navigator.clipboard.writeText(secret).catch(() => getSelection().selectAllChildren(value)) }, "Copy"));
}

function eventBoxes(chosen) {
  return h("fieldset", { "data-field": "events", tabindex: "-1" }, h("legend", {}, "Events"),
    EVENTS.map(([name, label]) => h("label", { class: "check block" }, h("input", { type: "checkbox", value: name, checked: chosen.includes(name) }), ` ${label} `, h("code", {}, name))));
}
const chosenEvents = (box) => [...box.querySelectorAll("input:checked")].map((c) => c.value);

export async function showWebhooks(main) {
  const hooks = (await call("GET", "/webhooks?limit=200")).data;
  const url = h("input", { "data-field": "url", type: "url", required: true, placeholder: "https://crm.example.com/hooks/switchboard", spellcheck: "false" });
  const description = h("input", { "data-field": "description", maxlength: 200 });
  const events = eventBoxes(EVENTS.map(([e]) => e));
  const shown = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "panel", "aria-labelledby": "new-webhook" }, h("h2", { id: "new-webhook" }, "Add a webhook"),
    field("URL", url, "Must be reachable from the internet: private addresses are refused, like API connections."),
    field("Description (optional)", description), events,
    h("p", { class: "error", role: "alert" }), h("button", { class: "primary", type: "submit" }, "Add webhook"), shown);
  submitting(form, async () => {
    const picked = chosenEvents(events);
    if (!picked.length) throw Object.assign(new Error("Choose at least one event."), { field: "events" });
    const created = (await call("POST", "/webhooks", { url: url.value.trim(), events: picked, description: description.value.trim() || null })).data;
    await showWebhooks(main);
    main.querySelector('form[aria-labelledby="new-webhook"] [aria-live]').append(secretShown(created.secret, `Signing secret of ${created.url}`));
  });
  fill(main,
    h("h1", {}, "Webhooks"),
    h("p", { class: "lead" }, "Tell your own systems what happens in conversations. Each delivery is signed (Standard Webhooks), retried for 24 hours when your receiver fails, and logged."),
    hooks.length
      ? h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "URL"), h("th", {}, "Events"), h("th", {}, "State"))),
        h("tbody", {}, hooks.map((w) => h("tr", {},
          h("td", {}, h("a", { href: `#webhooks/${w.id}` }, w.url), w.description ? h("div", { class: "muted" }, w.description) : null),
          h("td", {}, w.events.join(", ")), h("td", { class: w.disabled_reason ? "bad" : "" }, w.active ? "active" : w.disabled_reason ? `switched off: ${w.disabled_reason}` : "paused")))))
      : h("p", { class: "empty" }, "No webhooks yet."),
    form);
}

function deliveryRows(deliveries) {
  if (!deliveries.length) return h("p", { class: "empty" }, "Nothing sent yet.");
  return h("table", { class: "list-table deliveries" },
    h("thead", {}, h("tr", {}, h("th", {}, "Event"), h("th", {}, "State"), h("th", {}, "Attempts"), h("th", {}, "Last answer"), h("th", {}, "When"))),
    h("tbody", {}, deliveries.map((d) => {
      const last = d.attempts.length ? d.attempts[d.attempts.length - 1] : null;
      const answer = !last ? (d.state === "pending" ? "waiting" : "—")
        : [last.status ? `HTTP ${last.status}` : null, last.error ? last.error.code : null, `${last.latency_ms} ms`].filter(Boolean).join(" · ");
      const next = d.state === "pending" && d.next_attempt_at && d.attempts.length ? ` · next try ${new Date(d.next_attempt_at).toLocaleTimeString()}` : "";
      return h("tr", { class: d.state === "failed" ? "bad" : "" },
        h("td", {}, h("code", {}, d.type)), h("td", {}, `${d.state}${next}`), h("td", {}, d.attempt_count),
        h("td", {}, answer), h("td", {}, ago(d.created_at)));
    })));
}

export async function showWebhook(main, me, id) {
  const hook = (await call("GET", `/webhooks/${id}`)).data;
  const url = h("input", { "data-field": "url", type: "url", required: true, value: hook.url, spellcheck: "false" });
  const description = h("input", { "data-field": "description", value: hook.description || "" });
  const active = h("input", { type: "checkbox", "data-field": "active", checked: hook.active });
  const events = eventBoxes(hook.events);
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "webhook-title" }, h("h2", { id: "webhook-title" }, "Webhook"),
    field("URL", url), field("Description (optional)", description), events,
    h("label", { class: "check" }, active, " Active (paused webhooks send nothing)"),
    h("p", { class: "error", role: "alert" }), h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    await call("PATCH", `/webhooks/${id}`, { url: url.value.trim(), events: chosenEvents(events), description: description.value.trim() || null, active: active.checked });
    saved.textContent = "Saved.";
  });
  const log = h("div", { "aria-live": "polite" });
  let timer = null, left = false;
  async function refresh() {
    const deliveries = (await call("GET", `/webhooks/${id}/deliveries?limit=50`)).data;
    fill(log, deliveryRows(deliveries));
    clearTimeout(timer);
    if (!left && deliveries.some((d) => d.state === "pending")) timer = setTimeout(refresh, 1500);
  }
  const notice = h("div", { "aria-live": "polite" });
  const test = h("button", { type: "button", onclick: async () => { await call("POST", `/webhooks/${id}/test`, {}); await refresh(); } }, "Send test event");
  const rotate = h("button", { type: "button", onclick: async () => {
    if (!(await confirmAction("Make a new signing secret? For 24 hours deliveries are signed with both, so your receiver can switch without losing events.", "Rotate"))) return;
    const rotated = (await call("POST", `/webhooks/${id}/rotate-secret`, {})).data;
    fill(notice, secretShown(rotated.secret, "New signing secret"));
  } }, "Rotate secret");
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the webhook to ${hook.url}? Pending deliveries are dropped.`))) return;
    await call("DELETE", `/webhooks/${id}`);
    location.hash = "#webhooks";
  } }, "Delete webhook");
  fill(main,
    h("p", { class: "crumbs" }, h("a", { href: "#webhooks" }, "Webhooks"), " / "),
    h("h1", {}, hook.description || hook.url),
    h("div", { class: "two-col" }, form, h("section", { class: "panel", "aria-labelledby": "secret-title" },
      h("h2", { id: "secret-title" }, "Signing secret"),
      h("p", { class: "hint" }, "Receivers verify the webhook-signature header with it (any Standard Webhooks library does)."),
      h("div", { class: "row" }, test, rotate), notice)),
    h("section", { class: "panel", "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Deliveries"), log),
    h("section", { class: "panel danger-zone" }, h("h2", {}, "Danger zone"), remove));
  await refresh();
  return () => { left = true; clearTimeout(timer); };
}
