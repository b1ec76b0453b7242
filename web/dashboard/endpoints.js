// The endpoint editor: a request template filled from session variables, its declared
// variables, the response mapping with a live preview, and the test button.
import { h, call, field, submitting, confirmAction, pairRows, verdict, callError, ago, fill, requestView } from "./ui.js";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
// Tests of these are sent only after the user confirms.
const CHANGES_DATA = ["POST", "PUT", "PATCH", "DELETE"];
const APPROVALS = [
  ["none", "Nobody: call right away"],
  ["visitor", "The visitor confirms in the chat"],
  ["operator", "A person of the team approves"],
  ["visitor_and_operator", "The visitor confirms and a person approves"],
];
// What Switchboard itself provides to every conversation (docs/rules.md).
const BUILT_IN = ["visitor.name", "visitor.email", "visitor.language", "visitor.user_id", "visitor.verified", "conversation.id",
  "message.text", "widget.name", "now.date", "now.time", "now.weekday"];

/** The `{name}` placeholders of a template (`{{` is a literal brace). */
export function placeholders(text) {
  const found = new Set();
  for (const m of String(text).replace(/\{\{|\}\}/g, "").matchAll(/\{([A-Za-z0-9_.]+)\}/g)) found.add(m[1]);
  return found;
}

function variableRows(variables) {
  const list = h("div", { class: "items", "data-field": "variables", tabindex: "-1" });
  const add = (v = { name: "", description: "", required: true, pattern: "" }) => {
    const i = list.children.length;
    const row = h("div", { class: "item var-row" },
      field("Name", h("input", { "data-field": `variables[${i}].name`, value: v.name, required: true, pattern: "[A-Za-z0-9_.]+", spellcheck: "false" })),
      field("Description (for the AI)", h("input", { "data-field": `variables[${i}].description`, value: v.description || "" })),
      field("Pattern (whole value)", h("input", { "data-field": `variables[${i}].pattern`, value: v.pattern || "", placeholder: "[0-9]{3,10}", spellcheck: "false" })),
      h("label", { class: "check" }, h("input", { type: "checkbox", checked: v.required }), " required"),
      h("button", { type: "button", "aria-label": "Remove variable", onclick: () => { row.remove(); renumber(); } }, "✕"));
    list.append(row);
  };
  const renumber = () => [...list.children].forEach((row, i) => {
    for (const el of row.querySelectorAll("[data-field]")) el.dataset.field = el.dataset.field.replace(/^variables\[\d+\]/, `variables[${i}]`);
  });
  variables.forEach(add);
  const box = h("div", {}, list, h("button", { type: "button", onclick: () => add() }, "Declare a variable"));
  box.read = () => [...list.children].map((row) => {
    const [name, description, pattern] = [...row.querySelectorAll("input:not([type=checkbox])")].map((i) => i.value.trim());
    return { name, description, required: row.querySelector("input[type=checkbox]").checked, pattern: pattern || null };
  });
  return box;
}

export async function showEndpoint(main, me, id) {
  const isNew = id.startsWith("new:");
  const endpoint = isNew
    ? { connection_id: id.slice(4), name: "", description: "", method: "GET", path: "/", query: {}, headers: {}, body: null, variables: [], response_mapping: {}, ai_tool: false, idempotent: false, requires_verified_visitor: false, timeout_ms: null }
    : (await call("GET", `/endpoints/${id}`)).data;
  const connection = (await call("GET", `/connections/${endpoint.connection_id}`)).data;
  const siblings = (await call("GET", `/connections/${endpoint.connection_id}/endpoints?limit=200`)).data;

  const name = h("input", { "data-field": "name", value: endpoint.name, required: true, pattern: "[A-Za-z0-9_\\-]{1,64}", spellcheck: "false" });
  const description = h("textarea", { "data-field": "description", rows: 2 }, endpoint.description);
  const method = h("select", { "data-field": "method" }, METHODS.map((m) => h("option", { selected: m === endpoint.method }, m)));
  const path = h("input", { "data-field": "path", value: endpoint.path, required: true, pattern: "/.*", spellcheck: "false", class: "mono" });
  const body = h("textarea", { "data-field": "body", "data-json": "", rows: 5, class: "mono", spellcheck: "false" }, endpoint.body == null ? "" : JSON.stringify(endpoint.body, null, 2));
  const timeout = h("input", { "data-field": "timeout_ms", type: "number", min: 1, max: connection.timeout_ms, value: endpoint.timeout_ms ?? "" });
  const cacheTtl = h("input", { "data-field": "cache_ttl_s", type: "number", min: 1, max: 86400, value: endpoint.cache_ttl_s ?? "" });
  // Who agrees before a call is sent: writes wait for the visitor unless the owner says otherwise.
  const defaultApproval = (m) => (CHANGES_DATA.includes(m) ? "visitor" : "none");
  const approval = h("select", { "data-field": "approval" }, APPROVALS.map(([value, label]) =>
    h("option", { value, selected: value === (endpoint.approval ?? defaultApproval(endpoint.method)) }, label)));
  let approvalChosen = !isNew;
  approval.addEventListener("change", () => { approvalChosen = true; });
  method.addEventListener("change", () => { if (!approvalChosen) approval.value = defaultApproval(method.value); });
  // Normal answers besides 2xx ("no such order"): found = false, not a failure.
  const defaultExpected = (m) => (CHANGES_DATA.includes(m) ? [] : [404]);
  const expected = h("input", { "data-field": "expected_statuses", value: (endpoint.expected_statuses ?? defaultExpected(endpoint.method)).join(", "),
    inputmode: "numeric", pattern: "\\s*(\\d{3}\\s*(,\\s*\\d{3}\\s*)*)?", placeholder: "404" });
  method.addEventListener("change", () => { if (isNew) expected.value = defaultExpected(method.value).join(", "); });
  const summary = h("input", { "data-field": "approval_summary", value: endpoint.approval_summary ?? "", placeholder: "Cancel order {order_id}?" });
  const toggle = (key, label) => h("label", { class: "check" }, h("input", { type: "checkbox", "data-field": key, checked: endpoint[key] }), ` ${label}`);
  const query = pairRows({ field: "query", keyLabel: "Parameter", valueLabel: "Value template", entries: endpoint.query, onchange: () => refreshSamples() });
  const headers = pairRows({ field: "headers", keyLabel: "Header", valueLabel: "Value template", entries: endpoint.headers, onchange: () => refreshSamples() });
  const variables = variableRows(endpoint.variables);
  const previews = new Map();
  const mapping = pairRows({ field: "response_mapping", keyLabel: "Variable", valueLabel: "Path in the answer", entries: endpoint.response_mapping,
    onchange: () => schedulePreview(), extra: (k) => { const out = h("output", { class: "preview" }); previews.set(k, out); return out; } });

  // Clicking a variable inserts it where the user was typing a template.
  let lastTemplate = path;
  for (const el of [path, body, query, headers, summary]) el.addEventListener("focusin", (e) => { if (e.target.matches("input, textarea")) lastTemplate = e.target; });
  const insert = (v) => {
    const t = lastTemplate, at = t.selectionStart ?? t.value.length;
    t.value = `${t.value.slice(0, at)}{${v}}${t.value.slice(t.selectionEnd ?? at)}`;
    t.focus(); t.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const mappedElsewhere = siblings.filter((e) => e.id !== endpoint.id).flatMap((e) => Object.keys(e.response_mapping));
  const chips = (names) => names.map((v) => h("button", { type: "button", class: "chip", onclick: () => insert(v) }, `{${v}}`));
  const available = h("div", { class: "variables-panel", "aria-label": "Available variables" });
  const renderAvailable = () => fill(available, 
    h("h3", {}, "Available variables"), h("p", { class: "hint" }, "Click to insert into the template you were editing."),
    h("p", {}, h("strong", {}, "Declared here: "), ...chips(variables.read().map((v) => v.name).filter(Boolean))),
    mappedElsewhere.length ? h("p", {}, h("strong", {}, "From other endpoints: "), ...chips([...new Set(mappedElsewhere)])) : null,
    h("p", {}, h("strong", {}, "Built in: "), ...chips(BUILT_IN)));
  variables.addEventListener("input", renderAvailable);
  variables.addEventListener("click", () => setTimeout(renderAvailable));
  renderAvailable();

  // Live preview of each mapping row against the last test's answer, mapped by the server's own code.
  let lastAnswer = null, timer = null;
  const schedulePreview = () => { clearTimeout(timer); timer = setTimeout(preview, 250); };
  async function preview() {
    for (const [k, out] of previews) if (!k.isConnected) previews.delete(k);
    if (lastAnswer === null) { for (const out of previews.values()) out.textContent = "test the endpoint to preview"; return; }
    const rows = mapping.read();
    try {
      const result = (await call("POST", "/endpoints/preview-mapping", { response_mapping: rows, sample: lastAnswer })).data;
      for (const [k, out] of previews) {
        const v = k.value.trim();
        out.className = `preview ${v in result.mapped ? "good" : "bad"}`;
        out.textContent = !v ? "" : v in result.mapped ? `= ${JSON.stringify(result.mapped[v])}` : "not in the answer";
      }
    } catch (err) {
      for (const [k, out] of previews) { out.className = "preview bad"; out.textContent = err.field === `response_mapping.${k.value.trim()}` ? err.message : ""; }
    }
  }

  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "endpoint-title" },
    h("h2", { id: "endpoint-title" }, "Request"),
    field("Name", name, "Letters, digits, _ and -. Also the tool name the AI sees."),
    field("Description", description, "What it does, in plain words — shown to the AI when it may call this endpoint."),
    h("div", { class: "row wrap" }, field("Method", method), field(`Path (after ${connection.base_url})`, path, "Use {variables}, e.g. /orders/{order_id}. Each value is encoded as one path segment.")),
    h("fieldset", {}, h("legend", {}, "Query parameters"), query),
    h("fieldset", {}, h("legend", {}, "Headers"), headers),
    field("JSON body (not for GET/HEAD)", body, "A string that is exactly \"{name}\" takes the variable's typed value."),
    h("fieldset", {}, h("legend", {}, "Declared variables"), variables),
    available,
    h("fieldset", {}, h("legend", {}, "Response mapping: variable ← path"), mapping,
      h("p", { class: "hint" }, "Paths like data.shipping.eta, items[0].name, items[*].sku or data[\"key.with.dots\"]."),
      field("Normal answers besides 2xx (statuses, comma-separated)", expected, `E.g. 404 for "no such order": the call found nothing (api.${endpoint.name || "name"}.found is false, a rule's on-error actions run), and the endpoint's health does not count it as a failure.`)),
    h("fieldset", {}, h("legend", {}, "Before it is called"),
      field("Who agrees first", approval, "Calls that change data should wait: the visitor gets Confirm and Cancel buttons, a person approves in the inbox. Typed answers never count."),
      field("What the visitor is asked", summary, "A template, e.g. Cancel order {order_id}? — empty: a sentence made from the description.")),
    h("div", { class: "row wrap" }, toggle("ai_tool", "Available to the AI as a tool"), toggle("idempotent", "Safe to retry"), toggle("requires_verified_visitor", "Only for verified visitors")),
    field("Timeout (ms, optional)", timeout, `Lower than the connection's ${connection.timeout_ms} ms.`),
    field("Reuse answers for (seconds, optional)", cacheTtl, "GET lookups only, never for verified visitors: the same request within this time is answered from the cache, per account."),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, isNew ? "Create endpoint" : "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    const checked = (key) => form.querySelector(`[data-field="${key}"]`).checked;
    const payload = { name: name.value.trim(), description: description.value.trim(), method: method.value, path: path.value.trim(),
      query: query.read(), headers: headers.read(), body: body.value.trim() ? JSON.parse(body.value) : null, variables: variables.read(),
      response_mapping: mapping.read(), ai_tool: checked("ai_tool"), idempotent: checked("idempotent"),
      requires_verified_visitor: checked("requires_verified_visitor"), timeout_ms: timeout.value ? Number(timeout.value) : null,
      cache_ttl_s: cacheTtl.value ? Number(cacheTtl.value) : null, approval: approval.value,
      approval_summary: summary.value.trim(),
      expected_statuses: expected.value.split(",").map((v) => v.trim()).filter(Boolean).map(Number) };
    if (isNew) {
      const created = await call("POST", `/connections/${endpoint.connection_id}/endpoints`, payload);
      location.hash = `#endpoints/${created.data.id}`;
      return;
    }
    Object.assign(endpoint, (await call("PATCH", `/endpoints/${id}`, payload)).data);
    confirmBox.hidden = !CHANGES_DATA.includes(endpoint.method);
    saved.textContent = "Saved.";
  });

  // The test: sample values for every variable the templates use.
  const samples = h("div", { class: "samples" });
  const sampleInputs = new Map();
  function refreshSamples() {
    const names = new Set([...variables.read().map((v) => v.name).filter(Boolean)]);
    for (const t of [path.value, body.value, ...Object.values(query.read()), ...Object.values(headers.read()), ...Object.values(connection.headers)]) for (const p of placeholders(t)) names.add(p);
    for (const n of names) if (!sampleInputs.has(n)) sampleInputs.set(n, h("input", { "data-sample": n, spellcheck: "false" }));
    fill(samples, ...[...names].map((n) => field(n, sampleInputs.get(n))));
    if (!names.size) samples.append(h("p", { class: "hint" }, "This request uses no variables."));
  }
  path.addEventListener("input", refreshSamples);
  body.addEventListener("input", refreshSamples);
  refreshSamples();
  const confirmBox = h("label", { class: "check", hidden: !CHANGES_DATA.includes(endpoint.method) }, h("input", { type: "checkbox", id: "confirm-change" }), " I understand this request may change data in the backend");
  const testOut = h("div", { "aria-live": "polite" }, endpoint.last_test ? h("p", { class: "muted" }, `Last test: ${verdict(endpoint.last_test)}`) : null);
  const testButton = h("button", { type: "button", onclick: runTest }, "Test endpoint");
  async function runTest() {
    const vars = {};
    for (const [n, input] of sampleInputs) if (input.isConnected && input.value !== "") vars[n] = input.value;
    testButton.disabled = true;
    fill(testOut, h("p", { class: "muted" }, "Calling…"));
    try {
      const result = (await call("POST", `/endpoints/${id}/test`, { variables: vars, confirm: confirmBox.querySelector("input").checked })).data;
      fill(testOut, outcome(result));
      lastAnswer = result.body_json === undefined ? null : result.body_json;
      preview();
    } catch (err) {
      fill(testOut, h("p", { class: "error", role: "alert" }, err.code === "confirmation_required" ? "This request changes data: tick the box above to send it." : err.message));
    } finally { testButton.disabled = false; }
  }
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the endpoint “${endpoint.name}”? Rules that call it will fail.`))) return;
    await call("DELETE", `/endpoints/${id}`);
    location.hash = `#connections/${endpoint.connection_id}`;
  } }, "Delete endpoint");

  fill(main, 
    h("p", { class: "crumbs" }, h("a", { href: "#connections" }, "API connections"), " / ", h("a", { href: `#connections/${connection.id}` }, connection.name), " / "),
    h("h1", {}, isNew ? "New endpoint" : endpoint.name),
    h("div", { class: "two-col" }, form,
      isNew ? h("section", { class: "panel" }, h("h2", {}, "Test"), h("p", { class: "hint" }, "Create the endpoint, then test it here with sample values."))
        : h("section", { class: "panel sticky", "aria-labelledby": "test-title" }, h("h2", { id: "test-title" }, "Test"),
          h("p", { class: "hint" }, "Calls the backend as a rule would, with these sample values. Credentials never appear in what is shown."),
          samples, confirmBox, testButton, testOut,
          await healthPanel(id))),
    isNew ? null : h("section", { class: "panel danger-zone" }, h("h2", {}, "Danger zone"), remove));
  preview();
  name.focus();
}

/** Calls made for conversations over the last hour, day and week, and the last error. */
async function healthPanel(id) {
  let stats;
  try { stats = (await call("GET", `/endpoints/${id}/stats`)).data; } catch (err) { return h("p", { class: "error" }, `Health unavailable: ${err.message}`); }
  const pct = (rate) => (rate === null ? "—" : `${Math.round(rate * 1000) / 10} %`);
  const ms = (v) => (v === null ? "—" : `≤ ${v} ms`);
  const rows = [["1h", "This hour and the last"], ["24h", "Last 24 hours"], ["7d", "Last 7 days"]].map(([key, label]) => {
    const w = stats.windows[key];
    return h("tr", { class: w.error_rate >= 0.2 ? "bad" : "" }, h("th", {}, label), h("td", {}, w.calls), h("td", {}, pct(w.error_rate)), h("td", {}, ms(w.p50_ms)), h("td", {}, ms(w.p95_ms)));
  });
  return h("div", { class: "endpoint-health", "aria-label": "Health" },
    h("h3", {}, "Calls for conversations"),
    h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Calls"), h("th", {}, "Failed"), h("th", {}, "p50"), h("th", {}, "p95"))), h("tbody", {}, rows)),
    h("p", { class: "muted" }, `Last call: ${verdict(stats.last_call)}`),
    stats.last_error ? h("p", { class: "bad" }, `Last error ${ago(stats.last_error.at)}: ${stats.last_error.code} — ${stats.last_error.message}`) : null);
}

function outcome(r) {
  const table = (obj) => h("table", { class: "kv" }, h("tbody", {}, Object.entries(obj).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "mono" }, JSON.stringify(v))))));
  const nothing = r.ok && r.found === false;
  return h("div", { class: `result ${nothing ? "warn" : r.ok ? "good" : "bad"}`, role: "status" },
    h("strong", {}, nothing ? "Answered: nothing found" : r.ok ? "Success" : "Failed"),
    h("span", {}, [r.status ? `HTTP ${r.status}` : null, `${r.latency_ms} ms`, r.attempts > 1 ? `${r.attempts} attempts` : null, r.token_refreshed ? "token refreshed" : null].filter(Boolean).join(" · ")),
    r.error ? h("span", { class: "why" }, callError(r.error)) : null,
    requestView(r.request),
    h("h3", {}, "Mapped variables"), Object.keys(r.mapped).length ? table(r.mapped) : h("p", { class: "muted" }, "None."),
    r.missing.length ? h("p", { class: "bad" }, `Not in the answer: ${r.missing.join(", ")}`) : null,
    r.notes.length ? h("ul", {}, r.notes.map((n) => h("li", {}, n))) : null,
    r.body_preview ? h("details", { open: true }, h("summary", {}, "Answer (first 2 KiB)"), h("pre", {}, r.body_preview)) : null);
}
