// Owners' view of the account: how long closed conversations are kept, and the audit log of
// what the account's people did (sign-ins, settings, exports, erasures, approvals).
import { h, call, field, submitting, ago } from "./ui.js";

export function retentionForm(me) {
  const days = h("input", { "data-field": "retention_days", type: "number", min: 1, max: 36500, value: me.tenant.retention_days ?? "", placeholder: "keep" });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "retention-title" }, h("h2", { id: "retention-title" }, "Retention"),
    field("Delete closed conversations after (days)", days, "Empty keeps them. Checked every hour: a closed conversation with nothing new for this long is deleted, with its messages, notes and variables."),
    h("p", { class: "error", role: "alert" }), h("div", { class: "row" }, h("button", { type: "submit" }, "Save retention"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    await call("PATCH", "/tenant", { retention_days: days.value ? Number(days.value) : null });
    saved.textContent = "Saved.";
  });
  return form;
}

export function auditSection() {
  const rows = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "Older entries");
  let next = null;
  const load = async () => {
    const page = await call("GET", `/audit-log?limit=50${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
    next = page.next;
    more.hidden = !next;
    rows.append(...page.data.map((e) => h("tr", {},
      h("td", {}, h("time", { datetime: e.at, title: new Date(e.at).toLocaleString() }, ago(e.at))),
      h("td", {}, e.actor_email || (e.actor_api_key_id ? `API key ${e.actor_api_key_id}` : e.actor_user_id || "—")),
      h("td", { class: "mono" }, e.action), h("td", { class: "mono" }, e.target || ""),
      h("td", { class: "mono" }, Object.keys(e.details).length ? JSON.stringify(e.details) : ""))));
  };
  more.addEventListener("click", load);
  load();
  return h("section", { class: "panel", "aria-labelledby": "audit-title" }, h("h2", { id: "audit-title" }, "Audit log"),
    h("p", { class: "hint" }, "What the account's people did, newest first. Entries say what changed, never the personal data itself."),
    h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Who"), h("th", {}, "What"), h("th", {}, "On"), h("th", {}, "Details"))), rows),
    more);
}
