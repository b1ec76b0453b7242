// "Import from OpenAPI" on a connection: paste a document (JSON or YAML) or give its URL, see
// what would be created and what would be skipped and why, then import.
import { h, call, field, submitting, fill } from "./ui.js";

function summary(result, dryRun) {
  const created = result.created.length, skipped = result.skipped.length;
  return h("div", { class: `result ${created ? "good" : "bad"}`, role: "status" },
    h("strong", {}, dryRun ? `Would create ${created} endpoint(s), skip ${skipped}.` : `Created ${created} endpoint(s), skipped ${skipped}.`),
    result.servers && result.servers.length ? h("span", { class: "muted" }, `The document's servers: ${result.servers.join(", ")}`) : null,
    created ? h("details", { open: dryRun }, h("summary", {}, dryRun ? "Endpoints to create" : "Created"),
      h("ul", { class: "import-list" }, result.created.map((e) => h("li", {},
        h("code", {}, `${e.method} ${e.path}`), " ", h("strong", {}, e.name),
        e.variables.length ? h("span", { class: "muted" }, ` — ${e.variables.map((v) => v.name).join(", ")}`) : null)))) : null,
    skipped ? h("details", { open: skipped <= 10 }, h("summary", {}, "Skipped, and why"),
      h("ul", { class: "import-list" }, result.skipped.map((s) => h("li", {}, h("code", {}, s.operation), ` — ${s.reason}`)))) : null);
}

/** `onImported(result)` after an import; `last`: the result of the import just made, shown again. */
export function importPanel(connectionId, onImported, last = null) {
  const source = h("textarea", { "data-field": "spec", rows: 6, class: "mono", spellcheck: "false", placeholder: "openapi: 3.1.0\ninfo: …\npaths: …" });
  const url = h("input", { "data-field": "url", type: "url", spellcheck: "false", placeholder: "https://api.example.com/openapi.json" });
  const out = h("div", { "aria-live": "polite" }, last ? summary(last, false) : null);
  const forAi = h("input", { type: "checkbox", "data-field": "ai_tool" });
  const importButton = h("button", { type: "submit", class: "primary", name: "import", disabled: true }, "Import");
  const form = h("form", { class: "panel", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "Import from OpenAPI"),
    h("p", { class: "hint" }, "OpenAPI 3.0/3.1 or Swagger 2.0, JSON or YAML. Each operation becomes an endpoint with its parameters as declared variables; endpoints that already exist are left alone."),
    field("Paste the document", source), field("…or fetch it from", url, "Fetched through the same safe client as API calls."),
    h("label", { class: "check" }, forAi, " Let the AI call them as tools (their descriptions come from the document)"),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { type: "submit", name: "preview" }, "Preview"), importButton), out);
  // Any change asks for a new preview before importing.
  for (const el of [source, url]) el.addEventListener("input", () => { importButton.disabled = true; });
  submitting(form, async (submitter) => {
    const dryRun = !submitter || submitter.name !== "import";
    const body = url.value.trim() ? { url: url.value.trim() } : { spec: source.value };
    if (!url.value.trim() && !source.value.trim()) {
      const err = new Error("Paste a document or give its URL.");
      err.field = "spec";
      throw err;
    }
    const result = (await call("POST", `/connections/${connectionId}/import-openapi`, { ...body, dry_run: dryRun, ai_tool: forAi.checked })).data;
    fill(out, summary(result, dryRun));
    importButton.disabled = !(dryRun && result.created.length);
    if (!dryRun) onImported(result);
  });
  return form;
}
