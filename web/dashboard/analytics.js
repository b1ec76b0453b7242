// Analytics: is the assistant working (figures over a range of days, charts with their
// tables, a CSV download), and what should it learn next (knowledge gaps, each with "Write an
// answer" that puts a new knowledge-base document together from the questions).
import { h, call, explain, field } from "./ui.js";
import { columnChart } from "./charts.js";

const percent = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 1000) / 10}%`);
const seconds = (ms) => (ms === null || ms === undefined ? "—" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
export async function showAnalytics(main, me) {
  // Empty: the 30 days up to today in the account's time zone (the server's default).
  const from = h("input", { type: "date" });
  const to = h("input", { type: "date" });
  const admin = me.role === "admin" || me.role === "owner";
  const widget = h("select", {}, h("option", { value: "" }, "All widgets"));
  const interval = h("select", {}, h("option", { value: "day" }, "By day"), h("option", { value: "week" }, "By week"));
  const csv = h("a", { class: "button", download: "" }, "Download CSV");
  const error = h("p", { class: "error", role: "alert" });
  // Said when figures arrive, briefly: the figures themselves are not read out again.
  const status = h("p", { class: "visually-hidden", role: "status" });
  const body = h("div", { class: "analytics" });
  main.replaceChildren(h("h1", {}, "Analytics"),
    h("form", { class: "row wrap analytics-range", onsubmit: (e) => { e.preventDefault(); load(); } },
      field("From", from), field("To", to), field("Widget", widget), field("Chart", interval),
      h("button", { class: "primary", type: "submit" }, "Show"), csv),
    error, status, body);
  try {
    for (const w of (await call("GET", "/widgets?limit=200")).data) widget.append(h("option", { value: w.id }, w.name));
  } catch { /* operators may not list widgets: all widgets then */ }

  async function load() {
    error.textContent = "";
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    if (widget.value) q.set("widget_id", widget.value);
    const series = new URLSearchParams(q);
    series.set("interval", interval.value);
    csv.href = `/api/v1/analytics/export.csv?${series}`;
    try {
      const metric = (m) => call("GET", `/analytics/timeseries?${series}&metric=${m}`);
      const [summary, conversations, resolution] = await Promise.all([
        call("GET", `/analytics/summary?${q}`), metric("conversations"), metric("assistant_resolution_rate")]);
      const gaps = h("section", { "aria-labelledby": "gaps-title" }, h("h2", { id: "gaps-title" }, "Knowledge gaps"), h("p", { class: "hint" }, "Loading…"));
      render(summary.data, conversations.data, resolution.data, gaps);
      status.textContent = from.value || to.value ? `Figures for ${from.value || "…"} to ${to.value || "today"} shown.` : "Figures for the last 30 days shown.";
      // The gaps are checked again against the knowledge base: they come on their own.
      try { gaps.replaceWith(gapsSection((await call("GET", `/analytics/knowledge-gaps?${q}`)).data)); }
      catch (err) { gaps.replaceWith(h("p", { class: "error" }, `Knowledge gaps: ${explain(err)}`)); }
    } catch (err) { error.textContent = explain(err); }
  }

  function render(s, conversations, resolution, gaps) {
    const tile = (label, value, hint) => h("div", { class: "tile" }, h("span", { class: "tile-label" }, label), h("strong", {}, value), hint ? h("span", { class: "hint" }, hint) : null);
    const points = (list) => list.map((p) => ({ label: p.start, value: p.value }));
    const rows = (head, list) => h("table", {}, h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, list));
    const fr = s.first_response_ms;
    body.replaceChildren(
      h("div", { class: "tiles" },
        tile("Conversations", String(s.conversations)),
        tile("Visitor messages", String(s.visitor_messages)),
        tile("Assistant involved", percent(s.involvement_rate)),
        tile("Resolved by the assistant", percent(s.assistant_resolution_rate), `of ${s.closed} closed`),
        tile("Handed over", percent(s.handover_rate)),
        tile("Reopened", percent(s.reopen_rate)),
        tile("First reply, assistant", seconds(fr.assistant.p50), `p90 ${seconds(fr.assistant.p90)}`),
        tile("First reply, people", seconds(fr.people.p50), `p90 ${seconds(fr.people.p90)}`),
        tile("Rating", s.rating.average === null ? "—" : `${s.rating.average.toFixed(1)} of 5`, `${s.rating.count} ratings`)),
      columnChart(h, "Conversations", points(conversations)),
      columnChart(h, "Resolved by the assistant", points(resolution), percent),
      h("h2", {}, "How conversations ended"),
      rows(["Outcome", "Conversations"], Object.entries(s.outcomes).map(([k, v]) => h("tr", {}, h("td", {}, k.replaceAll("_", " ")), h("td", {}, String(v))))),
      h("h2", {}, "Replies by source"),
      rows(["Source", "Replies", "Helpful", "Not helpful"], Object.entries(s.replies).map(([k, v]) => {
        const marks = s.helpful.by_source[k] || { helpful: 0, not_helpful: 0 };
        return h("tr", {}, h("td", {}, k), h("td", {}, String(v)), h("td", {}, String(marks.helpful)), h("td", {}, String(marks.not_helpful)));
      })),
      h("h2", {}, "API calls"),
      s.endpoints.length ? rows(["Endpoint", "Calls", "Failures", "Failure rate"], s.endpoints.map((e) => h("tr", {}, h("td", {}, h("a", { href: `#endpoints/${e.endpoint_id}` }, e.endpoint_id)), h("td", {}, String(e.calls)), h("td", {}, String(e.failures)), h("td", {}, percent(e.failure_rate))))) : h("p", { class: "empty" }, "No calls in this range."),
      h("h2", {}, "Rules"),
      s.rules.length ? rows(["Rule", "Fired"], s.rules.map((r) => h("tr", { class: r.fired ? "" : "never" }, h("td", {}, h("a", { href: `#rules/${r.rule_id}` }, r.rule_id)), h("td", {}, r.fired ? String(r.fired) : "never")))) : h("p", { class: "empty" }, "No rules yet."),
      h("p", { class: "hint" }, `AI: ${s.ai.requests} requests, ${s.ai.input_tokens} tokens in, ${s.ai.output_tokens} out.`),
      gaps);
  }

  function gapsSection(gaps) {
    const section = h("section", { "aria-labelledby": "gaps-title" }, h("h2", { id: "gaps-title" }, "Knowledge gaps"),
      h("p", { class: "hint" }, "Questions the assistant left unanswered, answered with a fallback, or whose answer was marked not helpful — most asked first."));
    if (!gaps.length) { section.append(h("p", { class: "empty" }, "No gaps in this range.")); return section; }
    section.append(h("ol", { class: "gaps" }, gaps.map((g) => {
      const editor = h("div");
      const write = h("button", { type: "button", onclick: () => editor.replaceChildren(answerForm(g, editor)) }, "Write an answer");
      return h("li", { class: "gap" },
        h("p", {}, h("strong", {}, `“${g.examples[0]}”`), ` — asked in ${g.questions} conversation${g.questions === 1 ? "" : "s"}`,
          g.covered ? h("span", { class: "badge ok" }, "covered") : null),
        g.examples.length > 1 ? h("ul", { class: "examples" }, g.examples.slice(1).map((e) => h("li", {}, e))) : null,
        h("p", { class: "links" }, g.conversation_ids.slice(0, 5).map((id, i) => h("a", { href: `#inbox/${id}` }, `conversation ${i + 1}`))),
        // Documents are written by admins; the team sees what to ask them for.
        g.covered || !admin ? null : write, editor);
    })));
    return section;
  }

  /** A new knowledge-base document, its title and text started from the gap's questions. */
  function answerForm(gap, editor) {
    const title = h("input", { value: gap.examples[0].slice(0, 200), required: true });
    const questions = gap.examples.map((e) => `- ${e}`).join("\n");
    const content = h("textarea", { rows: 8 }, `# ${gap.examples[0]}\n\nVisitors asked:\n${questions}\n\nThe answer: `);
    const status = h("p", { role: "status" });
    const form = h("form", { class: "answer", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await call("POST", "/kb/documents", { title: title.value.trim(), content: content.value });
        status.textContent = "Saved to the knowledge base. It counts as covered once processed.";
        setTimeout(load, 1500);
      } catch (err) { status.textContent = explain(err); }
    } }, field("Title", title), field("Answer", content),
      h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Save to the knowledge base"),
        h("button", { type: "button", onclick: () => editor.replaceChildren() }, "Cancel")), status);
    setTimeout(() => content.focus(), 0);
    return form;
  }

  await load();
}
