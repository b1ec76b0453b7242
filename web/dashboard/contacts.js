// Contacts: the people behind the conversations — a visitor seen again (the same signed user,
// or the same browser) is one contact, with a profile, the account's own attributes and a
// history. Reached from the header, and from a conversation's details in the inbox.
import { h, call, field, submitting, ago, fill, explain, confirmAction, isAdmin } from "./ui.js";

const who = (c) => c.name || c.email || c.user_id || "Anonymous visitor";

export async function showContacts(main) {
  const search = h("input", { type: "search", "aria-label": "Search contacts", placeholder: "Name, e-mail or user id" });
  const rows = h("tbody");
  const more = h("button", { type: "button", hidden: true }, "More");
  let next = null;
  const load = async (append) => {
    const q = new URLSearchParams({ limit: "50" });
    if (search.value.trim()) q.set("q", search.value.trim());
    if (append && next) q.set("cursor", next);
    const page = await call("GET", `/contacts?${q}`);
    next = page.next;
    more.hidden = !next;
    const shown = page.data.map((c) => h("tr", {},
      h("td", {}, h("a", { href: `#contacts/${c.id}` }, who(c))), h("td", {}, c.email || "—"),
      h("td", {}, c.verified ? "verified" : "—"), h("td", {}, ago(c.last_seen_at))));
    if (append) rows.append(...shown); else rows.replaceChildren(...shown);
    if (!append && !page.data.length) rows.replaceChildren(h("tr", {}, h("td", { colspan: 4, class: "empty" }, search.value ? "No contact matches." : "No contacts yet.")));
  };
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => load(false), 200); });
  more.addEventListener("click", () => load(true));
  fill(main, h("h1", {}, "Contacts"),
    h("p", { class: "lead" }, "Everyone who has written: a visitor seen again — the same signed-in customer, or the same browser — is one contact."),
    search,
    h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "Contact"), h("th", {}, "E-mail"), h("th", {}, "Identity"), h("th", {}, "Last seen"))), rows),
    more);
  await load(false);
}

export async function showContact(main, me, id) {
  const [contact, history] = await Promise.all([call("GET", `/contacts/${id}`), call("GET", `/contacts/${id}/conversations`)]);
  const c = contact.data;
  const name = h("input", { "data-field": "name", value: c.name || "", maxlength: 100 });
  const email = h("input", { "data-field": "email", type: "email", value: c.email || "" });
  const attributes = h("textarea", { "data-field": "attributes", rows: 5, class: "mono", spellcheck: "false" }, JSON.stringify(c.attributes, null, 2));
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "profile-title" }, h("h2", { id: "profile-title" }, "Profile"),
    c.verified ? h("p", { class: "hint" }, `Signed in on your site as ${c.user_id}: the site's signature says who this is.`) : null,
    field("Name", name), field("E-mail", email),
    field("Attributes (JSON)", attributes, "Your own facts about the contact, e.g. {\"plan\": \"gold\"}; a key set to null is removed."),
    h("p", { class: "error", role: "alert" }), h("div", { class: "row" }, h("button", { type: "submit" }, "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    let parsed;
    try { parsed = JSON.parse(attributes.value || "{}"); } catch (err) { throw Object.assign(new Error(`Not JSON: ${err.message}`), { field: "attributes" }); }
    // Keys removed from the box are removed from the contact.
    for (const key of Object.keys(c.attributes)) if (!(key in parsed)) parsed[key] = null;
    const updated = (await call("PATCH", `/contacts/${id}`, { name: name.value.trim() || null, email: email.value.trim() || null, attributes: parsed })).data;
    c.attributes = updated.attributes;
    saved.textContent = "Saved.";
  });
  // Privacy: everything held about the contact as one file, or erased everywhere (admins).
  const erase = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Erase ${who(c)} and everything held about them — ${history.data.length} conversation(s), their messages, notes and variables? This cannot be undone.`, "Erase"))) return;
    await call("DELETE", `/contacts/${id}`);
    location.hash = "#contacts";
  } }, "Erase contact");
  const privacy = isAdmin(me) ? h("section", { class: "panel danger-zone", "aria-labelledby": "privacy-title" }, h("h2", { id: "privacy-title" }, "Privacy"),
    h("p", { class: "hint" }, "Answer “what do you hold about me” with the export; “delete me” with the erasure. Both are recorded in the audit log."),
    h("div", { class: "row wrap" }, h("a", { class: "button", download: `contact-${id}.json`, href: `/api/v1/contacts/${id}/export` }, "Export everything (JSON)"), erase)) : null;
  fill(main,
    h("p", { class: "crumbs" }, h("a", { href: "#contacts" }, "Contacts"), " / "),
    h("h1", {}, who(c)),
    h("p", { class: "muted" }, `First seen ${ago(c.first_seen_at)} · last seen ${ago(c.last_seen_at)}${c.language ? ` · language ${c.language}` : ""}`),
    form,
    h("section", { class: "panel", "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, `Conversations (${history.data.length})`),
      history.data.length ? h("ul", {}, history.data.map((v) => h("li", {}, h("a", { href: `#inbox/${v.id}` }, `${new Date(v.created_at).toLocaleString()} · ${v.status}`),
        v.labels.length ? ` · ${v.labels.join(", ")}` : ""))) : h("p", { class: "empty" }, "None.")),
    privacy);
}

/** The contact beside an open conversation: who they are and their other conversations. */
export async function contactDetails(conversation, onOpen) {
  if (!conversation.contact_id) return [];
  try {
    const [contact, history] = await Promise.all([call("GET", `/contacts/${conversation.contact_id}`), call("GET", `/contacts/${conversation.contact_id}/conversations`)]);
    const c = contact.data;
    const others = history.data.filter((v) => v.id !== conversation.id);
    return [
      h("h3", {}, "Contact"),
      h("p", {}, h("a", { href: `#contacts/${c.id}` }, who(c)), c.verified ? " · verified" : "", c.email ? h("br") : null, c.email || ""),
      Object.keys(c.attributes).length ? h("table", {}, h("tbody", {}, Object.entries(c.attributes).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, typeof v === "string" ? v : JSON.stringify(v)))))) : null,
      h("h3", {}, `Earlier conversations (${others.length})`),
      others.length ? h("ul", { class: "history" }, others.slice(0, 10).map((v) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => onOpen(v.id) },
        `${new Date(v.created_at).toLocaleDateString()} · ${v.status}`)))) : h("p", { class: "empty" }, "None."),
    ];
  } catch (err) { return [h("p", { class: "error" }, explain(err))]; }
}
