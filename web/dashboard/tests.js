// Test suites: the account's scripted conversations, run in the sandbox with one click; a case
// that fails says after which turn, what was expected and what was seen, with its transcript.
import { h, call, field, submitting, confirmAction, fill } from "./ui.js";

const EXAMPLE = {
  turns: [{ text: "Where is order 4521?", expect: [{ reply_contains: "shipped" }, { called: "get_order", with: { order_id: "4521" } }] }],
  fakes: [{ endpoint: "get_order", when: { order_id: "4521" }, body: { data: { status: "shipped" } } }],
  expect: [{ handed_over: false }, { no_invented_values: true }],
};

/** An expectation in words: `reply_contains "shipped"`. */
function expectation(e) {
  if (typeof e === "string") return e;
  const [key, value] = Object.entries(e)[0];
  const rest = Object.entries(e).slice(1).map(([k, v]) => ` ${k} ${JSON.stringify(v)}`).join("");
  return `${key.replace(/_/g, " ")} ${JSON.stringify(value)}${rest}`;
}

const quote = (replies) => (replies.length ? replies.map((r) => `“${r}”`).join(" ") : "no reply");

function caseResult(c) {
  const head = h("summary", {}, h("span", { class: c.passed ? "good" : "bad" }, c.passed ? "✓ passed" : "✗ failed"), ` ${c.name} `, h("span", { class: "muted" }, `${c.duration_ms} ms`));
  const failures = c.failures.length
    ? h("ul", { class: "failures" }, c.failures.map((f) => h("li", {},
      h("strong", {}, f.turn === undefined || f.turn === null ? "Overall: " : `After turn ${f.turn + 1}: `),
      `expected ${expectation(f.expectation)} — `, h("span", { class: "observed" }, f.observed))))
    : null;
  const since = c.since_last_pass ? h("div", { class: "since" }, h("strong", {}, "Since it last passed: "),
    c.since_last_pass.changes.length
      ? h("ul", {}, c.since_last_pass.changes.map((ch) => h("li", {}, `turn ${ch.turn + 1} was `, quote(ch.was), ", now ", quote(ch.now))))
      : "the replies are the same; what changed is elsewhere (calls, variables, hand-over).") : null;
  const transcript = h("details", {}, h("summary", {}, "Transcript"),
    h("ol", { class: "transcript" }, c.transcript.map((m) => h("li", { class: `msg ${m.author}` }, h("span", { class: "muted" }, `${m.author}: `), m.text))));
  const calls = c.calls.length ? h("details", {}, h("summary", {}, `Calls (${c.calls.length})`),
    h("ul", {}, c.calls.map((call) => h("li", { class: "mono" }, `${call.endpoint} ${JSON.stringify(call.variables)} → ${call.faked ? call.status ?? "failed" : "no fake"}`)))) : null;
  return h("li", {}, h("details", { class: `case-result ${c.passed ? "" : "failed"}`, open: !c.passed }, head, failures, since, transcript, calls));
}

/** Starts a run and shows it, polling until it is done. */
async function runAndShow(out, body) {
  fill(out, h("p", { class: "muted" }, "Running…"));
  let run = (await call("POST", "/test-runs", body)).data;
  while (run.state === "running") {
    await new Promise((r) => setTimeout(r, 250));
    run = (await call("GET", `/test-runs/${run.id}`)).data;
  }
  const failed = run.cases.filter((c) => !c.passed).length;
  fill(out,
    h("p", { class: `result ${failed ? "bad" : "good"}`, role: "status" },
      h("strong", {}, failed ? `${failed} of ${run.cases.length} failed` : `All ${run.cases.length} passed`)),
    h("ol", { class: "case-results" }, run.cases.map(caseResult)));
}

export async function showTests(main) {
  const cases = (await call("GET", "/test-cases")).data;
  const suites = [...new Set(cases.map((c) => c.suite).filter(Boolean))];
  const out = h("div", { class: "run-results", "aria-live": "polite" });
  const runButton = (label, body) => h("button", { type: "button", onclick: async (e) => {
    e.target.disabled = true;
    try { await runAndShow(out, body); } catch (err) { fill(out, h("p", { class: "error", role: "alert" }, err.message)); } finally { e.target.disabled = false; }
  } }, label);
  const imported = h("p", { class: "saved import-result", role: "status" });
  const picker = h("input", { type: "file", accept: ".yaml,.yml,.json,application/json,application/yaml", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true", onchange: async () => {
    const chosen = picker.files[0];
    if (!chosen) return;
    try {
      const done = (await call("POST", "/test-cases/import", { file: await chosen.text() })).data;
      await showTests(main);
      main.querySelector(".import-result").textContent = `${chosen.name}: ${done.created} created, ${done.updated} updated, ${done.unchanged} unchanged.`;
    } catch (err) {
      imported.textContent = "";
      fill(out, h("p", { class: "error", role: "alert" }, `${chosen.name} was not imported: ${err.message}${err.field ? ` (${err.field})` : ""}`));
    } finally { picker.value = ""; }
  } });
  const exportLink = (suite) => h("a", { class: "button", download: "", href: `/api/v1/test-cases/export?format=yaml${suite ? `&suite=${encodeURIComponent(suite)}` : ""}` },
    suite ? `Export “${suite}”` : "Export cases without a suite");
  const unsuited = cases.some((c) => !c.suite);
  fill(main,
    h("div", { class: "screen-head" }, h("h1", {}, "Test suites"),
      h("div", { class: "row wrap" }, picker, h("button", { type: "button", onclick: () => picker.click() }, "Import a suite file…"),
      h("a", { class: "button primary", href: "#tests/new" }, "New test case"))),
    h("p", { class: "lead" }, "Scripted conversations with your assistant. They run on your real rules, knowledge and AI, but every endpoint answers from the case's fakes: nothing reaches your systems, the inbox or your statistics. Save any conversation in the inbox as a test to start one."),
    cases.length
      ? h("div", {},
        h("div", { class: "row wrap" }, runButton("Run all", {}), suites.map((s) => runButton(`Run “${s}”`, { suite: s }))),
        h("div", { class: "row wrap" }, suites.map(exportLink), unsuited ? exportLink(null) : null),
        h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "Case"), h("th", {}, "Suite"), h("th", {}, "Turns"), h("th", {}, "Fakes"))),
          h("tbody", {}, cases.map((c) => h("tr", {}, h("td", {}, h("a", { href: `#tests/${c.id}` }, c.name)), h("td", {}, c.suite || "—"),
            h("td", {}, c.turns.length), h("td", {}, c.fakes.length))))))
      : h("p", { class: "empty" }, "No test cases yet. Create one, import a suite file, or open a conversation in the inbox and save it as a test."),
    imported, out);
}

export async function showTest(main, me, id) {
  const isNew = id === "new";
  const widgets = (await call("GET", "/widgets?limit=200")).data;
  const tc = isNew ? { name: "", suite: "", widget_id: widgets[0]?.id, visitor: {}, ...EXAMPLE } : (await call("GET", `/test-cases/${id}`)).data;
  const name = h("input", { "data-field": "name", value: tc.name, required: true, maxlength: 200 });
  const suite = h("input", { "data-field": "suite", value: tc.suite || "", maxlength: 100 });
  const widget = h("select", { "data-field": "widget_id" }, widgets.map((w) => h("option", { value: w.id, selected: w.id === tc.widget_id }, w.name)));
  const json = (key, rows) => h("textarea", { "data-field": key, "data-json": "", rows, class: "mono", spellcheck: "false" }, JSON.stringify(tc[key] ?? {}, null, 2));
  const visitor = json("visitor", 4), turns = json("turns", 12), fakes = json("fakes", 8), expect = json("expect", 4);
  const simulate = h("textarea", { "data-field": "simulate", rows: 3, class: "mono", spellcheck: "false", placeholder: '{"persona": "a customer in a hurry", "goal": "find out where order 4521 is", "max_turns": 6}' },
    tc.simulate ? JSON.stringify(tc.simulate, null, 2) : "");
  const saved = h("p", { class: "saved", role: "status" });
  const out = h("div", { class: "run-results", "aria-live": "polite" });
  const form = h("form", { class: "panel", "aria-labelledby": "case-title" }, h("h2", { id: "case-title" }, "Case"),
    field("Name", name), h("div", { class: "row wrap" }, field("Suite (optional)", suite), field("Widget", widget)),
    field("Visitor (JSON)", visitor, "language, verified, user_id, email, name, variables"),
    field("Turns (JSON)", turns, "What the visitor writes, each with expectations: reply_contains, reply_matches, called (with), not_called, handed_over, variable/equals, reply_language, action_proposed, no_invented_values."),
    field("Fakes (JSON)", fakes, "How each endpoint answers: endpoint, when, status, body, delay_ms, fail, set_state, when_state."),
    field("Expectations for the whole case (JSON)", expect),
    field("Simulated visitor (JSON, optional)", simulate, "The AI plays this visitor after the turns, until its goal is met (needs an AI provider)."),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, isNew ? "Create test case" : "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    const parsed = (el) => { try { return JSON.parse(el.value); } catch (e) { throw Object.assign(new Error(`Not JSON: ${e.message}`), { field: el.dataset.field }); } };
    const body = { name: name.value.trim(), suite: suite.value.trim() || null, widget_id: widget.value, visitor: parsed(visitor), turns: parsed(turns), fakes: parsed(fakes), expect: parsed(expect),
      simulate: simulate.value.trim() ? parsed(simulate) : null };
    if (isNew) { location.hash = `#tests/${(await call("POST", "/test-cases", body)).data.id}`; return; }
    await call("PATCH", `/test-cases/${id}`, body);
    saved.textContent = "Saved.";
  });
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the test case “${tc.name}”?`))) return;
    await call("DELETE", `/test-cases/${id}`);
    location.hash = "#tests";
  } }, "Delete test case");
  const run = h("button", { type: "button", onclick: async () => {
    run.disabled = true;
    try { await runAndShow(out, { case_ids: [id] }); } catch (err) { fill(out, h("p", { class: "error", role: "alert" }, err.message)); } finally { run.disabled = false; }
  } }, "Run this case");
  fill(main,
    h("p", { class: "crumbs" }, h("a", { href: "#tests" }, "Test suites"), " / "),
    h("h1", {}, isNew ? "New test case" : tc.name),
    form,
    isNew ? null : h("section", { class: "panel" }, h("h2", {}, "Run"), run, out),
    isNew ? null : h("section", { class: "panel danger-zone" }, h("h2", {}, "Danger zone"), remove));
}
