// Settings → Knowledge base: add text, import a page, see each document's processing state,
// open one to read, edit or refresh it, delete, and search the way the bot does.
import { h, call, field, submitting, confirmAction, ago, fill } from "./ui.js";

export async function showKnowledge(main) {
  const list = h("div", { "aria-live": "polite" });
  let timer = null, left = false;
  async function load() {
    const docs = (await call("GET", "/kb/documents?limit=200")).data;
    fill(list, docs.length
      ? h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", {}, "State"), h("th", {}, "Passages"), h("th", {}, "Updated"), h("th", {}, ""))),
        h("tbody", {}, docs.map((d) => h("tr", {},
          h("td", {}, d.title, d.url ? h("div", { class: "muted mono" }, d.url) : null),
          h("td", { class: d.status === "failed" ? "bad" : "" }, d.status === "failed" ? `failed: ${d.error}` : d.status),
          h("td", {}, d.chunks), h("td", {}, ago(d.updated_at)),
          h("td", { class: "row" }, h("button", { type: "button", "aria-expanded": "false", onclick: (e) => toggle(e.target, d) }, "Open"),
            h("button", { type: "button", class: "danger", onclick: async () => {
              if (!(await confirmAction(`Delete “${d.title}” from the knowledge base?`))) return;
              await call("DELETE", `/kb/documents/${d.id}`);
              load();
            } }, "Delete"))))))
      : h("p", { class: "empty" }, "No documents yet. Add your return policy, shipping times, opening hours…"));
    // Imports and embeddings finish in the background: look again while any is processing.
    clearTimeout(timer);
    if (!left && docs.some((d) => d.status === "processing")) timer = setTimeout(load, 1500);
  }

  // A document opened under its row: its text to read and change, or its page to fetch again.
  const editor = h("div");
  async function toggle(button, doc) {
    const open = button.getAttribute("aria-expanded") === "true";
    list.querySelectorAll("[aria-expanded=true]").forEach((b) => b.setAttribute("aria-expanded", "false"));
    if (open) { editor.replaceChildren(); return; }
    button.setAttribute("aria-expanded", "true");
    const full = (await call("GET", `/kb/documents/${doc.id}`)).data;
    const title = h("input", { "data-field": "title", value: full.title, required: true, maxlength: 300 });
    const content = h("textarea", { "data-field": "content", rows: 10 }, full.content || "");
    const form = h("form", { class: "panel", "aria-label": `Edit ${full.title}` }, h("h2", {}, full.title),
      field("Title", title), field("Content", content, full.url ? `Imported from ${full.url}; refreshing it fetches the page again.` : ""),
      h("p", { class: "error", role: "alert" }),
      h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Save document"),
        full.url ? h("button", { type: "button", onclick: async () => { await call("POST", `/kb/documents/${doc.id}/refresh`); editor.replaceChildren(); await load(); } }, "Refresh from the page") : null,
        h("button", { type: "button", onclick: () => { editor.replaceChildren(); button.setAttribute("aria-expanded", "false"); button.focus(); } }, "Close")));
    submitting(form, async () => {
      await call("PATCH", `/kb/documents/${doc.id}`, { title: title.value.trim(), content: content.value });
      editor.replaceChildren();
      await load();
    });
    editor.replaceChildren(form);
    title.focus();
  }

  const title = h("input", { "data-field": "title", required: true, maxlength: 300 });
  const content = h("textarea", { "data-field": "content", rows: 6, required: true });
  const addForm = h("form", { class: "panel", "aria-labelledby": "add-title" }, h("h2", { id: "add-title" }, "Add text"),
    field("Title", title), field("Content (Markdown)", content), h("p", { class: "error", role: "alert" }), h("button", { class: "primary", type: "submit" }, "Add document"));
  submitting(addForm, async () => {
    await call("POST", "/kb/documents", { title: title.value.trim(), content: content.value, format: "markdown" });
    title.value = ""; content.value = "";
    await load();
  });
  const url = h("input", { "data-field": "url", type: "url", required: true, placeholder: "https://example.com/help/returns" });
  const importForm = h("form", { class: "panel", "aria-labelledby": "import-title" }, h("h2", { id: "import-title" }, "Import a page"),
    field("URL", url, "Fetched through the same safe client as API calls; open the document to refresh it when the page changes."),
    h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Import"));
  submitting(importForm, async () => { await call("POST", "/kb/documents", { url: url.value.trim() }); url.value = ""; await load(); });

  const query = h("input", { "data-field": "q", type: "search", required: true, placeholder: "What is your return policy?" });
  const hits = h("div", { "aria-live": "polite" });
  const searchForm = h("form", { class: "panel", role: "search", "aria-labelledby": "search-title" }, h("h2", { id: "search-title" }, "Search as the bot does"),
    field("Question", query), h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Search"), hits);
  submitting(searchForm, async () => {
    const found = (await call("GET", `/kb/search?q=${encodeURIComponent(query.value)}&limit=5`)).data;
    fill(hits, found.length ? h("ol", { class: "hits" }, found.map((hit) => h("li", {},
      h("strong", {}, hit.title), hit.headings.length ? h("span", { class: "muted" }, ` — ${hit.headings.join(" › ")}`) : null,
      h("p", {}, hit.text.length > 300 ? `${hit.text.slice(0, 300)}…` : hit.text)))) : h("p", { class: "muted" }, "Nothing found."));
  });

  fill(main, h("h1", {}, "Knowledge base"),
    h("p", { class: "lead" }, "General questions — returns, shipping, hours — are answered from these documents, in the visitor's language."),
    h("section", { class: "panel", "aria-label": "Documents" }, h("h2", {}, "Documents"), list, editor),
    h("div", { class: "two-col" }, addForm, h("div", {}, importForm, searchForm)));
  await load();
  return () => { left = true; clearTimeout(timer); };
}
