// Settings → Team: the account, its people, teams and API keys (a new key is shown once).
import { h, call, field, submitting, confirmAction, isAdmin, ago, fill } from "./ui.js";
import { yourPasswordSection, memberPasswordForm, invitationsSection } from "./passwords.js";
import { labelsSection } from "./labels.js";
import { cannedSection } from "./canned.js";
import { retentionForm, auditSection } from "./audit.js";

export async function showTeam(main, me) {
  const admin = isAdmin(me);
  const none = Promise.resolve({ data: [] });
  const [users, teams, keys, invitations, labels, canned] = await Promise.all([call("GET", "/users?limit=200"), call("GET", "/teams?limit=200"),
    admin ? call("GET", "/api-keys?limit=200") : none, admin ? call("GET", "/invitations") : none, call("GET", "/labels"), call("GET", "/canned-replies")]);
  const reload = () => showTeam(main, me);
  const sections = [h("h1", {}, "Team"), peopleSection(users.data, admin, reload, me)];
  if (admin) sections.push(invitationsSection(invitations.data, reload));
  sections.push(teamsSection(teams.data, users.data, admin, reload), labelsSection(labels.data, admin, reload), cannedSection(canned.data, admin, reload));
  if (admin) sections.push(keysSection(keys.data, reload), accountSection(me));
  if (me.role === "owner") sections.push(retentionForm(me), auditSection());
  if (me.user) sections.push(yourPasswordSection());
  fill(main, ...sections);
}

function peopleSection(users, admin, reload, me) {
  const email = h("input", { "data-field": "email", type: "email", required: true, autocomplete: "off" });
  const password = h("input", { "data-field": "password", type: "password", required: true, minlength: 8, autocomplete: "new-password" });
  const role = h("select", { "data-field": "role" }, ["operator", "admin", "owner"].map((r) => h("option", { value: r }, r)));
  const form = h("form", { class: "inline-form", "aria-label": "Add a person" }, h("h3", {}, "Add a person"), field("E-mail", email), field("First password", password, "At least 8 characters; tell them to keep it safe."), field("Role", role),
    h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Add person"));
  submitting(form, async () => { await call("POST", "/users", { email: email.value.trim(), password: password.value, role: role.value }); reload(); });
  return h("section", { class: "panel", "aria-labelledby": "people-title" }, h("h2", { id: "people-title" }, "People"),
    h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "E-mail"), h("th", {}, "Role"), h("th", {}, "Available"))),
      h("tbody", {}, users.map((u) => h("tr", {}, h("td", {}, u.email), h("td", {}, u.role), h("td", {}, u.available ? "yes" : "no"))))),
    admin ? form : null, admin ? memberPasswordForm(users, me) : null);
}

function teamsSection(teams, users, admin, reload) {
  const emailOf = (id) => (users.find((u) => u.id === id) || { email: id }).email;
  const members = (chosen, prefix) => h("fieldset", { class: "members", "data-field": "member_ids" }, h("legend", {}, "Members"),
    users.map((u) => h("label", { class: "check" }, h("input", { type: "checkbox", value: u.id, name: `${prefix}-members`, checked: chosen.includes(u.id) }), ` ${u.email}`)));
  const chosenIn = (el) => [...el.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value);
  const rows = teams.map((t) => {
    const box = members(t.member_ids, t.id);
    const form = h("form", { class: "team-edit" }, box, h("p", { class: "error", role: "alert" }), h("div", { class: "row" },
      h("button", { type: "submit" }, "Save members"),
      h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmAction(`Delete the team “${t.name}”? Conversations waiting in its queue go to the general queue.`))) return;
        await call("DELETE", `/teams/${t.id}`);
        reload();
      } }, "Delete team")));
    submitting(form, async () => { await call("PATCH", `/teams/${t.id}`, { member_ids: chosenIn(box) }); reload(); });
    return h("li", { class: "card" }, h("h3", {}, t.name), admin ? form : h("p", {}, t.member_ids.map(emailOf).join(", ") || "No members."));
  });
  const name = h("input", { "data-field": "name", required: true, maxlength: 100 });
  const newMembers = members([], "new");
  const create = h("form", { class: "inline-form", "aria-label": "Create a team" }, h("h3", {}, "New team"), field("Team name", name), newMembers, h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Create team"));
  submitting(create, async () => { await call("POST", "/teams", { name: name.value.trim(), member_ids: chosenIn(newMembers) }); reload(); });
  return h("section", { class: "panel", "aria-labelledby": "teams-title" }, h("h2", { id: "teams-title" }, "Teams"),
    h("p", { class: "hint" }, "Rules can hand conversations to a team: its available member with the fewest pending conversations gets it."),
    teams.length ? h("ul", { class: "cards" }, rows) : h("p", { class: "empty" }, "No teams yet."), create);
}

/** What a key may reach: the HTTP API, and the MCP server's tools (docs/mcp.md). */
const SCOPES = [
  ["api", "The HTTP API, with your role"],
  ["mcp:read", "MCP: search the knowledge base, read conversations, ask the assistant in the sandbox"],
  ["mcp:write", "MCP: reply to conversations and assign them"],
  ["mcp:assistant", "MCP: ask the assistant live (real conversations and lookups)"],
];
const SCOPE_NAMES = { api: "HTTP API", "mcp:read": "MCP read", "mcp:write": "MCP write", "mcp:assistant": "MCP assistant" };

function keysSection(keys, reload) {
  const name = h("input", { "data-field": "name", required: true, maxlength: 100, placeholder: "CRM sync" });
  const boxes = SCOPES.map(([scope, label]) => h("label", { class: "check block" }, h("input", { type: "checkbox", value: scope, checked: scope === "api" }), ` ${label}`));
  const inputs = boxes.map((b) => b.querySelector("input"));
  // A key for an agent should reach only its MCP tools: ticking one unticks the HTTP API (which
  // can be ticked again on purpose).
  for (const input of inputs.slice(1)) input.addEventListener("change", () => { if (input.checked) inputs[0].checked = false; });
  const scopes = h("fieldset", { "data-field": "scopes" }, h("legend", {}, "What it reaches"), ...boxes);
  const shown = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline-form", "aria-label": "Create an API key" }, h("h3", {}, "New API key"), field("Name", name), scopes, h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Create key"));
  submitting(form, async () => {
    const chosen = inputs.filter((i) => i.checked).map((i) => i.value);
    const key = (await call("POST", "/api-keys", { name: name.value.trim(), scopes: chosen })).data;
    name.value = "";
    const value = h("code", { id: "new-api-key" }, key.key);
    fill(shown, h("div", { class: "result good", role: "status" }, h("strong", {}, `Key “${key.name}” — copy it now, it is never shown again:`), value,
      h("button", { type: "button", onclick: () => navigator.clipboard.writeText(key.key).catch(() => getSelection().selectAllChildren(value)) }, "Copy")));
    list.replaceWith(list = keyList([key, ...keys], reload));
  });
  let list = keyList(keys, reload);
  return h("section", { class: "panel", "aria-labelledby": "keys-title" }, h("h2", { id: "keys-title" }, "API keys"),
    h("p", { class: "hint" }, "For your own systems calling the Switchboard API (header X-Api-Key), and for AI agents using its MCP server at /api/v1/mcp. A key acts with your role, and reaches only what you tick."), list, form, shown);
}

function keyList(keys, reload) {
  if (!keys.length) return h("p", { class: "empty" }, "No API keys.");
  return h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Key"), h("th", {}, "Role"), h("th", {}, "Reaches"), h("th", {}, "Last used"), h("th", {}, ""))),
    h("tbody", {}, keys.map((k) => h("tr", {}, h("td", {}, k.name), h("td", { class: "mono" }, `${k.prefix}…`), h("td", {}, k.role),
      h("td", {}, (k.scopes || []).map((s) => SCOPE_NAMES[s] || s).join(", ")), h("td", {}, ago(k.last_used_at)),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmAction(`Revoke the key “${k.name}”? Systems using it stop working at once.`, "Revoke"))) return;
        await call("DELETE", `/api-keys/${k.id}`);
        reload();
      } }, "Revoke"))))));
}

function accountSection(me) {
  const name = h("input", { "data-field": "name", required: true, value: me.tenant.name });
  const zone = h("input", { "data-field": "time_zone", required: true, value: me.tenant.time_zone, spellcheck: "false", placeholder: "Europe/Berlin" });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "account-title" }, h("h2", { id: "account-title" }, "Account"),
    field("Company name", name), field("Time zone", zone, "IANA name, for the now.* variables rules use (opening hours)."),
    h("p", { class: "error", role: "alert" }), h("div", { class: "row" }, h("button", { type: "submit" }, "Save"), saved));
  submitting(form, async () => { saved.textContent = ""; await call("PATCH", "/tenant", { name: name.value.trim(), time_zone: zone.value.trim() }); saved.textContent = "Saved."; });
  return form;
}
