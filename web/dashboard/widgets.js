// Settings → Widgets: appearance with a live preview, allowed sites, AI on/off, the identity
// secret (write-only) and the snippet to paste into the tenant's site.
import { officeHoursFields } from "./office_hours.js";
import { h, call, field, submitting, confirmAction, secretField, fill } from "./ui.js";

export async function showWidgets(main) {
  const widgets = (await call("GET", "/widgets?limit=200")).data;
  fill(main, 
    h("div", { class: "screen-head" }, h("h1", {}, "Widgets"), h("a", { class: "button primary", href: "#widgets/new" }, "New widget")),
    h("p", { class: "lead" }, "A widget is the chat bubble on your site. Each has its own look, greeting and allowed sites."),
    widgets.length
      ? h("ul", { class: "cards", "aria-label": "Widgets" }, widgets.map((w) => h("li", { class: "card" },
        h("h2", {}, h("span", { class: "swatch", "data-color": w.primary_color }), h("a", { href: `#widgets/${w.id}` }, w.name)),
        h("p", { class: "muted" }, [w.active ? "active" : "inactive", w.ai_enabled ? "AI on" : "AI off", w.allowed_origins.length ? w.allowed_origins.join(", ") : "any site"].join(" · ")))))
      : h("p", { class: "empty" }, "No widgets yet. Create one and paste its snippet into your site."));
  paintSwatches(main);
}

// Colours are applied through the CSSOM: the dashboard's CSP forbids inline style attributes.
function paintSwatches(root) {
  for (const el of root.querySelectorAll("[data-color]")) el.style.setProperty("--swatch", el.dataset.color);
}

export function snippet(widgetId) {
  return `<script src="${location.origin}/widget.js" data-widget="${widgetId}" async></script>`;
}

// A speech bubble drawn as SVG: emoji fonts are not on every machine.
function chatIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "24");
  svg.setAttribute("height", "24");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function preview() {
  const bubble = h("div", { class: "wp-bubble", "aria-hidden": "true" }, chatIcon());
  const header = h("div", { class: "wp-header" });
  const greeting = h("div", { class: "wp-msg" });
  const panel = h("div", { class: "wp-panel" }, header, h("div", { class: "wp-body" }, greeting), h("div", { class: "wp-input" }, "Type a message…"));
  const box = h("div", { class: "widget-preview", role: "img", "aria-label": "Preview of the widget" }, panel, bubble);
  box.update = ({ name, color, position, greetingText }) => {
    box.style.setProperty("--wp-color", /^#[0-9a-fA-F]{6}$/.test(color) ? color : "#2563eb");
    box.dataset.position = position;
    header.textContent = name || "Chat";
    greeting.textContent = greetingText || "Hi! How can we help?";
  };
  return box;
}

export async function showWidget(main, me, id) {
  const isNew = id === "new";
  // Whether any AI provider answers for this account: without one, a new widget starts with AI
  // off, and the switch says why.
  const ai = await call("GET", "/ai-settings").then((r) => r.data).catch(() => null);
  const aiOff = ai !== null && ai.enabled === false;
  const widget = isNew
    ? { name: "", greeting: "", active: true, ai_enabled: !aiOff, translation_enabled: true, primary_color: "#2563eb", position: "bottom-right", allowed_origins: [], identity_secret_set: false }
    : (await call("GET", `/widgets/${id}`)).data;
  const name = h("input", { "data-field": "name", value: widget.name, required: true, maxlength: 100 });
  const greeting = h("textarea", { "data-field": "greeting", rows: 2 }, widget.greeting || "");
  const color = h("input", { "data-field": "primary_color", type: "color", value: widget.primary_color });
  const position = h("select", { "data-field": "position" }, ["bottom-right", "bottom-left"].map((p) => h("option", { value: p, selected: p === widget.position }, p.replace("-", " "))));
  const origins = h("textarea", { "data-field": "allowed_origins", rows: 3, spellcheck: "false", class: "mono", placeholder: "https://shop.example.com" }, widget.allowed_origins.join("\n"));
  const check = (key, label, hint) => h("label", { class: "check" }, h("input", { type: "checkbox", "data-field": key, checked: widget[key] }), ` ${label}`, hint ? h("span", { class: "hint" }, ` — ${hint}`) : null);
  const secret = secretField("Identity secret (optional)", "identity_secret", widget.identity_secret_set, { optional: true });
  const hours = officeHoursFields(widget.office_hours);
  const look = preview();
  const refresh = () => look.update({ name: name.value, color: color.value, position: position.value, greetingText: greeting.value });
  for (const el of [name, greeting, color, position]) el.addEventListener("input", refresh);
  refresh();
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "widget-title" },
    h("h2", { id: "widget-title" }, "Widget"),
    field("Name (shown in the header)", name), field("Greeting", greeting, "The first message visitors see."),
    h("div", { class: "row wrap" }, field("Colour", color), field("Position", position)),
    field("Allowed sites (one per line)", origins, "Only pages on these origins may use the widget. Empty: any site."),
    check("active", "Active", "inactive widgets refuse new conversations"),
    check("ai_enabled", "AI answers", aiOff ? "no AI provider is set up (see AI in the menu), so only rules and the knowledge base answer" : "when no rule replied"),
    check("translation_enabled", "Translate between visitor and operator"),
    hours.box,
    secret.box,
    h("p", { class: "hint" }, "With an identity secret, your site signs the visitor's identity (HMAC-SHA256) so rules and endpoints can trust it."),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, isNew ? "Create widget" : "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    const flag = (key) => form.querySelector(`[data-field="${key}"]`).checked;
    const body = { name: name.value.trim(), greeting: greeting.value.trim() || null, primary_color: color.value, position: position.value,
      allowed_origins: origins.value.split(/\s+/).filter(Boolean), active: flag("active"), ai_enabled: flag("ai_enabled"), translation_enabled: flag("translation_enabled"), office_hours: hours.read() };
    if (secret.value() !== undefined) body.identity_secret = secret.value();
    if (isNew) { location.hash = `#widgets/${(await call("POST", "/widgets", body)).data.id}`; return; }
    await call("PATCH", `/widgets/${id}`, body);
    saved.textContent = "Saved. Visitors see the change on their next page load.";
  });

  const code = h("code", { id: "embed-snippet" }, isNew ? "" : snippet(id));
  const copied = h("span", { role: "status" });
  const copy = h("button", { type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(code.textContent); copied.textContent = "Copied."; }
    catch { getSelection().selectAllChildren(code); copied.textContent = "Press Ctrl+C to copy the selected snippet."; }
  } }, "Copy snippet");
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the widget “${widget.name}”? Sites that embed it stop showing the chat.`))) return;
    await call("DELETE", `/widgets/${id}`);
    location.hash = "#widgets";
  } }, "Delete widget");
  fill(main, 
    h("p", { class: "crumbs" }, h("a", { href: "#widgets" }, "Widgets"), " / "),
    h("h1", {}, isNew ? "New widget" : widget.name),
    h("div", { class: "two-col" }, form, h("section", { class: "panel sticky", "aria-labelledby": "preview-title" },
      h("h2", { id: "preview-title" }, "Preview"), look,
      isNew ? null : h("div", { class: "embed" }, h("h3", {}, "Put it on your site"),
        h("p", { class: "hint" }, "Paste this before </body> on every page that should show the chat."),
        h("pre", {}, code), h("div", { class: "row" }, copy, copied)))),
    isNew ? null : h("section", { class: "panel danger-zone" }, h("h2", {}, "Danger zone"), remove));
  name.focus();
}
