// Shared building blocks of the dashboard: the API helper, DOM building (text is always text,
// never HTML), form fields whose errors sit next to them, and confirmation dialogs.

const csrf = () => (document.cookie.match(/(?:^|; )sb_csrf=([^;]+)/) || [])[1] || "";

/** Calls the API; throws an Error carrying the API's code, message and field. */
export async function call(method, path, body) {
  const headers = {};
  // A form (files) goes as it is: the browser sets its multipart type and boundary.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrf();
  const sent = body === undefined || form ? body : JSON.stringify(body);
  const response = await fetch(`/api/v1${path}`, { method, headers, body: sent, credentials: "same-origin" });
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { /* not JSON: a proxy's error page */ }
  if (!response.ok) {
    const error = new Error(data.error ? data.error.message : `HTTP ${response.status}`);
    Object.assign(error, { status: response.status, code: data.error && data.error.code, field: data.error && data.error.field });
    throw error;
  }
  return data;
}

/** Builds DOM from a tag, attributes and children (strings become text, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value.constructor.name === "AsyncFunction" ? guarded(value) : value);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An async handler (delete, revoke, rotate, test…): the control is disabled while it runs, so a
 * double click does not do it twice, and a failure is shown next to it instead of vanishing. */
function guarded(handler) {
  return async (event) => {
    const el = event.currentTarget;
    const slot = el.nextElementSibling && el.nextElementSibling.classList.contains("action-error") ? el.nextElementSibling : null;
    if (slot) slot.remove();
    el.disabled = true;
    try {
      await handler(event);
    } catch (err) {
      if (el.isConnected) el.after(h("span", { class: "action-error error", role: "alert" }, explain(err)));
    } finally {
      el.disabled = false;
    }
  };
}

/** Replaces an element's children, skipping the null/false left by optional parts. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** Explains an API error in plain words, naming the field when there is one. */
export function explain(error) {
  if (error.status === 0 || error instanceof TypeError) return "The server cannot be reached. Check your connection and try again.";
  return error.field ? `${error.field}: ${error.message}` : error.message;
}

let ids = 0;

/** A labelled field: the control, an optional hint, and a slot for its error. The control's
 * `data-field` names the API field, so the API's errors land next to it. */
export function field(label, control, hint) {
  const id = control.id || `f${++ids}`;
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintEl && hintEl.id, error.id].filter(Boolean).join(" "));
  const box = h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl, error);
  return box;
}

/** Shows `message` next to the control, or clears it. */
function setFieldError(control, message) {
  if (!control.id) control.id = `f${++ids}`;
  let slot = document.getElementById(`${control.id}-error`);
  if (!slot && message) {
    // Controls inside rows (a header's value, an action's text) get their slot on demand.
    slot = h("p", { class: "field-error", id: `${control.id}-error`, role: "alert" });
    (control.closest(".pair, .item") || control).after(slot);
  }
  if (slot) slot.textContent = message;
  if (message) control.setAttribute("aria-invalid", "true");
  else control.removeAttribute("aria-invalid");
}

/** Puts an API error next to the control its `field` names (`auth.token`, `actions[1].text`), or
 * the closest enclosing one (`headers.X-Shop` lands on `headers`); else in the form's alert. */
export function showError(form, err) {
  const controls = [...form.querySelectorAll("[data-field]")];
  let name = err.field || "";
  while (name) {
    const control = controls.find((c) => c.dataset.field === name);
    if (control) {
      setFieldError(control, err.message);
      control.focus();
      return;
    }
    const cut = Math.max(name.lastIndexOf("."), name.lastIndexOf("["));
    name = cut > 0 ? name.slice(0, cut) : "";
  }
  const alert = form.querySelector(":scope > .error");
  if (alert) alert.textContent = explain(err);
}

/** Checks the browser's own constraints (required, pattern, type) and shows the first problems
 * next to their fields. Returns whether the form may be sent. */
export function validate(form) {
  let first = null;
  for (const control of form.querySelectorAll("input, select, textarea")) {
    // minlength is checked here: browsers only enforce it on values typed by hand.
    const short = control.minLength > 0 && control.value.length > 0 && control.value.length < control.minLength;
    const custom = short ? `At least ${control.minLength} characters.` : control.dataset.json !== undefined ? jsonProblem(control.value) : "";
    control.setCustomValidity(custom);
    const ok = control.checkValidity();
    setFieldError(control, ok ? "" : control.validationMessage);
    if (!ok && !first) first = control;
  }
  if (first) first.focus();
  return !first;
}

function jsonProblem(text) {
  if (!text.trim()) return "";
  try { JSON.parse(text); return ""; } catch (e) { return `Not valid JSON: ${e.message}`; }
}

/** Wires a form: validates, disables the submit button while `send` runs, clears old errors,
 * and on failure shows the API's error next to its field — what the user typed stays. */
export function submitting(form, send) {
  form.noValidate = true;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const alert = form.querySelector(":scope > .error");
    if (alert) alert.textContent = "";
    for (const control of form.querySelectorAll("[aria-invalid]")) setFieldError(control, "");
    if (!validate(form)) return;
    const button = event.submitter || form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try { await send(event.submitter); } catch (err) { showError(form, err); } finally { if (button) button.disabled = false; }
  });
  return form;
}

/**
 * Focus goes back to whatever opened a dialog, when it is still on the page. A button that is
 * busy (disabled while its handler waits for the answer) takes it once it is enabled again.
 */
function returnFocus(opener) {
  if (!opener || !opener.isConnected || typeof opener.focus !== "function") return;
  if (!opener.disabled) { opener.focus(); return; }
  const watch = new MutationObserver(() => {
    if (opener.disabled) return;
    watch.disconnect();
    if (opener.isConnected) opener.focus();
  });
  watch.observe(opener, { attributes: true, attributeFilter: ["disabled"] });
  setTimeout(() => watch.disconnect(), 10000);
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmAction(question, action = "Delete") {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
      h("p", { id: "confirm-title" }, question),
      h("div", { class: "row" },
        h("button", { type: "button", onclick: () => dialog.close("no") }, "Cancel"),
        h("button", { type: "button", class: "danger", onclick: () => dialog.close("yes") }, action)));
    const opener = document.activeElement;
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
      returnFocus(opener);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A write-only secret: when one is stored it shows "set" and a Replace button; the stored value
 * is never on the page. `value()` is undefined unless the user typed a new one. */
export function secretField(label, name, isSet, { optional = false } = {}) {
  const input = h("input", { type: "password", autocomplete: "new-password", "data-field": name, name, required: !isSet && !optional, spellcheck: "false" });
  const box = field(label, input, isSet ? "Stored encrypted. Leave as it is to keep it." : "Stored encrypted; never shown again.");
  if (isSet) {
    input.hidden = true;
    const replace = h("button", { type: "button", onclick: () => { input.hidden = false; input.required = true; replace.remove(); state.remove(); input.focus(); } }, "Replace");
    const state = h("span", { class: "secret-set" }, "✓ set");
    input.before(state, replace);
  }
  return { box, value: () => (input.hidden || input.value === "" ? undefined : input.value), input };
}

/** Editable name → value rows (headers, query parameters, response mapping). */
export function pairRows({ field: fieldName, keyLabel, valueLabel, entries = {}, onchange = () => {}, extra }) {
  const list = h("div", { class: "pairs", "data-field": fieldName, tabindex: "-1" });
  const add = (key = "", value = "") => {
    const k = h("input", { "aria-label": keyLabel, value: key, oninput: onchange, spellcheck: "false" });
    const v = h("input", { "aria-label": valueLabel, value, oninput: onchange, spellcheck: "false" });
    const row = h("div", { class: "pair" }, k, v, extra ? extra(k, v) : null,
      h("button", { type: "button", "aria-label": `Remove ${keyLabel.toLowerCase()}`, onclick: () => { row.remove(); onchange(); } }, "✕"));
    row.dataset.pair = "";
    list.append(row);
    k.addEventListener("input", () => { v.dataset.field = `${fieldName}.${k.value}`; });
    v.dataset.field = `${fieldName}.${key}`;
    return row;
  };
  for (const [k, v] of Object.entries(entries)) add(k, v);
  const box = h("div", { class: "pairs-box" }, list, h("button", { type: "button", onclick: () => { add().querySelector("input").focus(); } }, `Add ${keyLabel.toLowerCase()}`));
  box.read = () => Object.fromEntries([...list.querySelectorAll("[data-pair]")]
    .map((row) => [...row.querySelectorAll("input")].map((i) => i.value.trim()))
    .filter(([k]) => k));
  box.rows = () => [...list.querySelectorAll("[data-pair]")];
  return box;
}

/** "3 minutes ago", for times the user scans rather than reads. */
export function ago(when) {
  if (!when) return "never";
  const seconds = Math.round((Date.now() - new Date(when).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(when).toLocaleDateString();
}

/** Plain words for the API's outbound-call error codes. */
const PLAIN = {
  ssrf_blocked: "blocked: private address",
  invalid_url: "invalid address",
  dns_failed: "host name not found",
  connect_failed: "connection refused or unreachable",
  tls_failed: "TLS (https) handshake failed",
  timeout: "no answer in time",
  too_many_redirects: "too many redirects",
  response_too_large: "answer too large",
  auth_failed: "credentials refused",
  token_request_failed: "token request failed",
  http_error: "the backend answered with an error",
  invalid_response: "the answer is not JSON",
  missing_variable: "a variable has no value",
  invalid_variable: "a variable does not fit",
  budget_exceeded: "call budget used up",
};

/** "token request failed: the token endpoint answered 401: invalid_client". */
export function callError(error) {
  if (!error) return "";
  const plain = PLAIN[error.code];
  return plain ? `${plain} — ${error.message}` : `${error.code}: ${error.message}`;
}

/** A one-line verdict on a stored test or call summary. */
export function verdict(summary) {
  if (!summary) return "not yet";
  const status = summary.status ? `${summary.status}, ` : "";
  // An ok answer outside 2xx (reachable, or "nothing found") is no plain OK.
  const plainOk = !summary.status || (summary.status >= 200 && summary.status < 300);
  const outcome = summary.ok ? (plainOk ? "OK" : "answered") : `failed (${PLAIN[summary.error_code] || summary.error_code || "error"})`;
  return `${outcome} · ${status}${summary.latency_ms} ms · ${ago(summary.at)}`;
}

export const isAdmin = (me) => me.role === "admin" || me.role === "owner";

/** A request as sent (method, URL, headers with credentials as ***, body), from a test or dry run. */
export function requestView(request) {
  if (!request) return null;
  const lines = [`${request.method} ${request.url || request.path}`];
  for (const [name, value] of Object.entries(request.headers || {})) lines.push(`${name}: ${value}`);
  if (request.body) lines.push("", request.body);
  return h("pre", { class: "request" }, lines.join("\n"));
}
