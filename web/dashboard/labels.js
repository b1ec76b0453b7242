// Labels: the account's tags for conversations. Admins create and delete them (Team page);
// operators put them on conversations from the inbox; rules add them with ADD_LABEL.
import { h, call, field, submitting, confirmAction } from "./ui.js";

/** A label as a coloured chip; a name the account no longer has shows grey. */
export function chip(name, labels) {
  const label = labels.find((l) => l.name === name);
  const el = h("span", { class: "label-chip" }, name);
  // Through the CSSOM: the page's content security policy allows no inline style attributes.
  el.style.setProperty("--chip", label ? label.color : "#8a8f98");
  return el;
}

export function labelsSection(labels, admin, reload) {
  const name = h("input", { "data-field": "name", required: true, maxlength: 50, placeholder: "refund-request", pattern: "[\\p{L}\\p{N}_\\- ]+" });
  const color = h("input", { "data-field": "color", type: "color", value: "#2563eb" });
  const form = h("form", { class: "inline-form", "aria-label": "Create a label" }, h("h3", {}, "New label"),
    field("Name", name, "Letters, digits, - and _; stored in lowercase."), field("Colour", color),
    h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Create label"));
  submitting(form, async () => { await call("POST", "/labels", { name: name.value.trim(), color: color.value }); reload(); });
  const rows = labels.map((l) => h("li", { class: "row" }, chip(l.name, labels),
    admin ? h("button", { type: "button", class: "danger", onclick: async () => {
      if (!(await confirmAction(`Delete the label “${l.name}”? It comes off every conversation, and rules that add it skip it.`))) return;
      await call("DELETE", `/labels/${l.id}`);
      reload();
    } }, `Delete ${l.name}`) : null));
  return h("section", { class: "panel", "aria-labelledby": "labels-title" }, h("h2", { id: "labels-title" }, "Labels"),
    h("p", { class: "hint" }, "Tags for conversations: operators set them in the inbox, rules add them (Add a label), and the inbox filters by them."),
    labels.length ? h("ul", { class: "label-list" }, rows) : h("p", { class: "empty" }, "No labels yet."), admin ? form : null);
}

/** The open conversation's labels: chips, and a list of the account's to tick on and off. */
export function labelPicker(conversation, labels, onChange) {
  const current = new Set(conversation.labels || []);
  const error = h("span", { class: "error", role: "alert" });
  const boxes = labels.map((l) => h("label", { class: "check" },
    h("input", { type: "checkbox", value: l.name, checked: current.has(l.name), onchange: async (event) => {
      const names = [...picker.querySelectorAll("input:checked")].map((c) => c.value);
      error.textContent = "";
      try { await onChange(names); } catch (err) { event.target.checked = !event.target.checked; error.textContent = err.message; }
    } }), " ", chip(l.name, labels)));
  const picker = h("details", { class: "label-picker" },
    h("summary", {}, "Labels"),
    labels.length ? h("div", { class: "choices" }, boxes) : h("p", { class: "hint" }, "No labels yet: admins create them on the Team page."), error);
  return h("div", { class: "labels" }, [...current].map((n) => chip(n, labels)), picker);
}
