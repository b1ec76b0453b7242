// Settings → API connections: the list with each backend's health, and the connection form
// (authentication with write-only secrets, the test button, the connection's endpoints).
import { importPanel } from "./openapi_import.js";
import { toolsPanel } from "./mcp_tools.js";
import { h, call, field, submitting, confirmAction, secretField, pairRows, verdict, callError, ago, fill, requestView } from "./ui.js";

const AUTH_TYPES = [
  ["none", "None"],
  ["api_key", "API key (header or query parameter)"],
  ["bearer", "Bearer token"],
  ["basic", "Basic (username and password)"],
  ["oauth2_client_credentials", "OAuth 2.0 client credentials"],
];

function health(connection) {
  const last = connection.health && connection.health.last_call;
  const stats = connection.health || {};
  const failing = (last && !last.ok) || (stats.error_rate_24h || 0) >= 0.2;
  const calls = stats.calls_24h ? `${stats.calls_24h} call${stats.calls_24h === 1 ? "" : "s"} in 24 h, ${Math.round((stats.error_rate_24h || 0) * 100)} % failed` : "no calls in 24 h";
  return h("div", { class: `health ${failing ? "bad" : last ? "good" : ""}` },
    h("span", {}, `Last test: ${verdict(connection.last_test)}`),
    h("span", {}, `Last call: ${verdict(last)}`),
    h("span", { class: "muted" }, calls));
}

export async function showConnections(main) {
  const connections = (await call("GET", "/connections?limit=200")).data;
  fill(main, 
    h("div", { class: "screen-head" }, h("h1", {}, "API connections"), h("a", { class: "button primary", href: "#connections/new" }, "Add connection")),
    h("p", { class: "lead" }, "Your backends — a shop, a CRM, a booking system — configured once. Rules and the AI call their endpoints to answer with live data."),
    connections.length
      ? h("ul", { class: "cards", "aria-label": "Connections" }, connections.map((c) => h("li", { class: "card" },
        h("h2", {}, h("a", { href: `#connections/${c.id}` }, c.name)),
        h("p", { class: "muted mono" }, c.base_url, " · ", AUTH_TYPES.find(([t]) => t === c.auth.type)[1]),
        health(c))))
      : h("p", { class: "empty" }, "No connections yet. Add one to look up orders, bookings or accounts during conversations."));
}

function authFields(auth, box) {
  const type = auth.type;
  const text = (label, name, value = "", attrs = {}) => field(label, h("input", { "data-field": `auth.${name}`, value, spellcheck: "false", ...attrs }));
  const secrets = {};
  const secret = (label, name) => { const s = secretField(label, `auth.${name}`, auth[`${name}_set`]); secrets[name] = s; return s.box; };
  const select = (label, name, options, value) => field(label, h("select", { "data-field": `auth.${name}` }, options.map(([v, l]) => h("option", { value: v, selected: v === value }, l))));
  const parts = {
    none: () => [h("p", { class: "hint" }, "Nothing is sent: for public APIs or backends that trust the network.")],
    api_key: () => [select("Send the key in", "placement", [["header", "a header"], ["query", "a query parameter"]], auth.placement || "header"),
      text("Header or parameter name", "name", auth.name || "X-Api-Key", { required: true }), secret("API key", "key")],
    bearer: () => [secret("Token", "token")],
    basic: () => [text("Username", "username", auth.username || "", { required: true, autocomplete: "off" }), secret("Password", "password")],
    oauth2_client_credentials: () => [
      text("Token URL", "token_url", auth.token_url || "", { type: "url", required: true, placeholder: "https://auth.example.com/oauth/token" }),
      text("Client ID", "client_id", auth.client_id || "", { required: true, autocomplete: "off" }),
      secret("Client secret", "client_secret"),
      text("Scope (optional)", "scope", auth.scope || ""),
      text("Audience (optional)", "audience", auth.audience || ""),
      select("Send the client credentials", "client_auth", [["basic", "in an Authorization: Basic header"], ["post", "in the form body"]], auth.client_auth || "basic"),
      h("p", { class: "hint" }, "The token is fetched on the first call, cached until shortly before it expires, and fetched again when the API says it expired.")],
  };
  fill(box, ...parts[type]());
  // Reads the method back as the API takes it: secrets only when typed.
  return () => {
    const value = (name) => { const el = box.querySelector(`[data-field="auth.${name}"]`); return el ? el.value.trim() : undefined; };
    const out = { type };
    for (const name of ["placement", "name", "username", "token_url", "client_id", "client_auth"]) if (value(name) !== undefined) out[name] = value(name);
    for (const name of ["scope", "audience"]) if (value(name) !== undefined) out[name] = value(name) || null;
    for (const [name, s] of Object.entries(secrets)) if (s.value() !== undefined) out[name] = s.value();
    return out;
  };
}

function testResult(result) {
  // Reachable but not 2xx (many APIs answer 404 at their root): connected, and said why.
  const partly = result.ok && result.status && (result.status < 200 || result.status > 299);
  return h("div", { class: `result ${partly ? "warn" : result.ok ? "good" : "bad"}`, role: "status" },
    h("strong", {}, partly ? `Reachable · HTTP ${result.status}` : result.ok ? "Connected" : "Failed"),
    h("span", {}, [result.status ? `HTTP ${result.status}` : null, `${result.latency_ms} ms`].filter(Boolean).join(" · ")),
    result.error ? h("span", { class: "why" }, callError(result.error)) : null,
    (result.notes || []).map((note) => h("span", { class: "why" }, note)),
    requestView(result.request));
}

/** Sample values for the variables the connection's headers use, asked for beside the test button. */
function sampleInputs(box, names, values) {
  fill(box, names.length ? h("fieldset", { class: "samples" }, h("legend", {}, "Sample values for the headers"),
    names.map((name) => field(`{${name}}`, h("input", { "data-sample": name, value: values[name] || "", spellcheck: "false" })))) : null);
}

export async function showConnection(main, me, id, imported = null) {
  const isNew = id === "new";
  const connection = isNew ? { name: "", base_url: "https://", auth: { type: "none" }, headers: {}, timeout_ms: 5000, kind: "http" } : (await call("GET", `/connections/${id}`)).data;
  const endpoints = isNew ? [] : (await call("GET", `/connections/${id}/endpoints?limit=200`)).data;
  // What it speaks is chosen once: an MCP server's endpoints are its tools.
  const kind = h("select", { "data-field": "kind", disabled: !isNew },
    [["http", "an HTTP API (endpoints you describe)"], ["mcp", "an MCP server (tools it lists)"]].map(([v, l]) => h("option", { value: v, selected: v === connection.kind }, l)));
  const identity = h("input", { "data-field": "identity_header", value: connection.identity_header || "", spellcheck: "false", placeholder: "X-Customer-Id" });
  const identityField = field("Identity header (optional)", identity, "A verified visitor's user_id is sent in it with each tool call, so the server answers for that customer only. Unverified visitors send nothing.");
  const syncKind = () => { identityField.hidden = kind.value !== "mcp"; };
  kind.addEventListener("change", syncKind);
  syncKind();
  // Health is a bonus here: without it the form still works.
  const stats = isNew ? { endpoints: [] } : (await call("GET", `/connections/${id}/stats`).catch(() => ({ data: { endpoints: [] } }))).data;
  const dayOf = (endpointId) => ((stats.endpoints.find((s) => s.endpoint_id === endpointId) || {}).windows || {})["24h"];
  const name = h("input", { "data-field": "name", value: connection.name, required: true, maxlength: 100 });
  const baseUrl = h("input", { "data-field": "base_url", value: connection.base_url, type: "url", required: true, spellcheck: "false" });
  const timeout = h("input", { "data-field": "timeout_ms", value: connection.timeout_ms, type: "number", min: 1, max: 5000, required: true });
  const authType = h("select", { "data-field": "auth.type" }, AUTH_TYPES.map(([v, l]) => h("option", { value: v, selected: v === connection.auth.type }, l)));
  const authBox = h("div", { class: "auth-fields" });
  let readAuth = authFields(connection.auth, authBox);
  authType.addEventListener("change", () => {
    // Switching the method needs that method's secret: nothing stored carries over.
    readAuth = authFields(authType.value === connection.auth.type ? connection.auth : { type: authType.value }, authBox);
  });
  const headers = pairRows({ field: "headers", keyLabel: "Header", valueLabel: "Value", entries: connection.headers });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "connection-title" },
    h("h2", { id: "connection-title" }, "Connection"),
    field("Name", name),
    field("It is", kind),
    field("Base URL", baseUrl, "Endpoint paths are appended to it (an MCP server's own URL, often ending in /mcp). Private and loopback addresses are refused unless the server operator allows them."),
    identityField,
    h("fieldset", {}, h("legend", {}, "Authentication"), field("Method", authType), authBox),
    h("fieldset", {}, h("legend", {}, "Headers sent with every call"), headers, h("p", { class: "hint" }, "Values may use {variables}. Credentials belong in Authentication, where they are encrypted.")),
    field("Timeout (ms)", timeout, "The whole call must finish within it; at most 5000."),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, isNew ? "Create connection" : "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    const body = { name: name.value.trim(), base_url: baseUrl.value.trim(), timeout_ms: Number(timeout.value), headers: headers.read(), auth: readAuth() };
    if (isNew) body.kind = kind.value;
    if (kind.value === "mcp") body.identity_header = identity.value.trim();
    const result = isNew ? await call("POST", "/connections", body) : await call("PATCH", `/connections/${id}`, body);
    if (isNew) { location.hash = `#connections/${result.data.id}`; return; }
    Object.assign(connection, result.data);
    readAuth = authFields(connection.auth, authBox);
    saved.textContent = "Saved.";
  });

  const testOut = h("div", { "aria-live": "polite" }, connection.last_test ? h("p", { class: "muted" }, `Last test: ${verdict(connection.last_test)}`) : null);
  // Header templates need sample values: asked for once the test names them.
  const samples = h("div", {});
  const sampleValues = () => Object.fromEntries([...samples.querySelectorAll("[data-sample]")].filter((el) => el.value.trim()).map((el) => [el.dataset.sample, el.value.trim()]));
  const testButton = h("button", { type: "button", onclick: async () => {
    testButton.disabled = true;
    fill(testOut, h("p", { class: "muted" }, "Testing…"));
    try {
      const values = sampleValues();
      const result = (await call("POST", `/connections/${id}/test`, { variables: values })).data;
      sampleInputs(samples, result.needs, values);
      fill(testOut, testResult(result));
    }
    catch (err) { fill(testOut, h("p", { class: "error", role: "alert" }, err.message)); }
    finally { testButton.disabled = false; }
  } }, "Test connection");
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the connection “${connection.name}” and its ${endpoints.length} endpoint(s)? Rules that call them will fail.`))) return;
    await call("DELETE", `/connections/${id}`);
    location.hash = "#connections";
  } }, "Delete connection");

  fill(main, 
    h("p", { class: "crumbs" }, h("a", { href: "#connections" }, "API connections"), " / "),
    h("h1", {}, isNew ? "New connection" : connection.name),
    form,
    isNew ? null : h("section", { class: "panel", "aria-labelledby": "test-title" }, h("h2", { id: "test-title" }, "Test"),
      h("p", { class: "hint" }, connection.kind === "mcp"
        ? "Opens a session with the MCP server and reads its tool list, with the credentials (for OAuth 2.0 after fetching a fresh token)."
        : "Sends GET to the base URL with the credentials (for OAuth 2.0 after fetching a fresh token). Any answer but 401/403 or 5xx counts as reachable."),
      samples, testButton, testOut),
    isNew || connection.kind !== "mcp" ? null : toolsPanel(id, dayOf),
    isNew || connection.kind === "mcp" ? null : h("section", { class: "panel", "aria-labelledby": "endpoints-title" },
      h("div", { class: "screen-head" }, h("h2", { id: "endpoints-title" }, "Endpoints"),
        h("a", { class: "button", href: `#endpoints/new:${id}` }, "Add endpoint")),
      endpoints.length
        ? h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Request"), h("th", {}, "Last test"),
          h("th", {}, "Calls, 24 h"), h("th", {}, "Failed"), h("th", {}, "p95"), h("th", {}, "AI"))),
          h("tbody", {}, endpoints.map((e) => {
            const day = dayOf(e.id) || { calls: 0, error_rate: null, p95_ms: null };
            return h("tr", { class: day.error_rate >= 0.2 ? "bad" : "" },
              h("td", {}, h("a", { href: `#endpoints/${e.id}` }, e.name)),
              h("td", { class: "mono" }, `${e.method} ${e.path}`),
              h("td", {}, verdict(e.last_test)),
              h("td", {}, day.calls),
              h("td", {}, day.error_rate === null ? "—" : `${Math.round(day.error_rate * 100)} %`),
              h("td", {}, day.p95_ms === null ? "—" : `≤ ${day.p95_ms} ms`),
              h("td", {}, e.ai_tool ? "tool" : "—"));
          })))
        : h("p", { class: "empty" }, "No endpoints yet. An endpoint is one request, like GET /orders/{order_id}.")),
    isNew || connection.kind === "mcp" ? null : importPanel(id, (result) => showConnection(main, me, id, result), imported),
    isNew ? null : h("section", { class: "panel danger-zone" }, h("h2", {}, "Danger zone"), remove, h("p", { class: "muted" }, `Created ${ago(connection.created_at)}.`)));
  name.focus();
}
