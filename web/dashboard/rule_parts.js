// Editors for the parts of a rule: its trigger, its conditions and its ordered actions (with
// the on_error branch of CALL_API). Each editor returns an element with a `read()` method that
// gives the part back in the API's shape; `data-field` paths match the API's error fields.
import { h, field, fill } from "./ui.js";

const TRIGGERS = [
  ["keywords", "The message contains a word"],
  ["regex", "The message matches a pattern"],
  ["any", "Any message"],
  ["first_message", "The visitor's first message"],
  ["intent", "The AI recognises an intent"],
  ["variable", "A variable was set"],
];

export function triggerEditor(trigger) {
  const type = h("select", { "data-field": "trigger.type" }, TRIGGERS.map(([v, l]) => h("option", { value: v, selected: v === trigger.type }, l)));
  const params = h("div", {});
  const box = h("div", { class: "trigger" }, field("When", type), params);
  const render = (t) => {
    const input = (label, key, value, attrs = {}, hint) => field(label, h("input", { "data-field": `trigger.${key}`, value: value || "", required: true, spellcheck: "false", ...attrs }), hint);
    const parts = {
      keywords: () => [input("Words (comma-separated)", "any", (t.any || []).join(", "), {}, "Ignoring case; a word must stand apart (“order” does not match “reorder”).")],
      regex: () => [input("Pattern", "pattern", t.pattern, { class: "mono" }, "A regular expression, e.g. order\\s*#?\\d+"),
        h("label", { class: "check" }, h("input", { type: "checkbox", "data-field": "trigger.flags", checked: t.flags === undefined || (t.flags || "").includes("i") }), " ignore case")],
      intent: () => [input("Intent, in plain words", "description", t.description, {}, "e.g. the visitor wants to cancel an order (needs AI)")],
      variable: () => [input("Variable", "name", t.name, { class: "mono" })],
      any: () => [], first_message: () => [],
    };
    fill(params, ...parts[t.type]());
  };
  type.addEventListener("change", () => render({ type: type.value }));
  render(trigger);
  box.read = () => {
    const value = (k) => params.querySelector(`[data-field="trigger.${k}"]`);
    switch (type.value) {
      case "keywords": return { type: "keywords", any: value("any").value.split(",").map((w) => w.trim()).filter(Boolean) };
      case "regex": return { type: "regex", pattern: value("pattern").value, flags: value("flags").checked ? "i" : null };
      case "intent": return { type: "intent", description: value("description").value.trim() };
      case "variable": return { type: "variable", name: value("name").value.trim() };
      default: return { type: type.value };
    }
  };
  return box;
}

const OPS = [["eq", "equals"], ["ne", "does not equal"], ["set", "has a value"], ["unset", "has no value"], ["in", "is one of"],
  ["contains", "contains"], ["matches", "matches the pattern"], ["gt", "is greater than"], ["lt", "is less than"]];

/** A typed value from what was typed: numbers and booleans stay typed, the rest is text. */
function typed(text) {
  const t = text.trim();
  if (t === "true" || t === "false") return t === "true";
  // Only numbers that survive the round trip: "007" and 20-digit ids stay text.
  if (t !== "" && String(Number(t)) === t) return Number(t);
  return text;
}

export function conditionsEditor(conditions) {
  const list = h("div", { class: "items", "data-field": "conditions", tabindex: "-1" });
  const add = (c = { variable: "", op: "eq", value: "" }) => {
    const i = list.children.length;
    const online = "operator_online" in c;
    const variable = h("input", { "aria-label": "Variable", "data-field": `conditions[${i}].variable`, value: online ? "" : c.variable, spellcheck: "false", class: "mono", placeholder: "order_status" });
    const op = h("select", { "aria-label": "Test", "data-field": `conditions[${i}].op` },
      OPS.map(([v, l]) => h("option", { value: v, selected: !online && v === c.op }, l)),
      h("option", { value: "online", selected: online && c.operator_online }, "— an operator is online"),
      h("option", { value: "offline", selected: online && !c.operator_online }, "— no operator is online"));
    const shown = c.value === undefined ? "" : Array.isArray(c.value) ? c.value.join(", ") : typeof c.value === "string" ? c.value : JSON.stringify(c.value);
    const value = h("input", { "aria-label": "Value", "data-field": `conditions[${i}].value`, value: shown, spellcheck: "false" });
    const sync = () => { const noVar = op.value === "online" || op.value === "offline"; variable.hidden = noVar; value.hidden = noVar || op.value === "set" || op.value === "unset"; };
    op.addEventListener("change", sync);
    const row = h("div", { class: "item condition" }, variable, op, value, h("button", { type: "button", "aria-label": "Remove condition", onclick: () => { row.remove(); renumber(); } }, "✕"));
    row.read = () => {
      if (op.value === "online" || op.value === "offline") return { operator_online: op.value === "online" };
      const out = { variable: variable.value.trim(), op: op.value };
      if (op.value === "in") out.value = value.value.split(",").map((v) => typed(v.trim()));
      else if (op.value !== "set" && op.value !== "unset") out.value = typed(value.value);
      return out;
    };
    list.append(row);
    sync();
  };
  // Field names follow each row's place, so the API's `conditions[1].value` finds its control.
  const renumber = () => [...list.children].forEach((row, i) => {
    for (const el of row.querySelectorAll("[data-field]")) el.dataset.field = el.dataset.field.replace(/^conditions\[\d+\]/, `conditions[${i}]`);
  });
  conditions.forEach(add);
  const box = h("div", {}, list, h("button", { type: "button", onclick: () => add() }, "Add condition"));
  box.read = () => [...list.children].map((row) => row.read());
  return box;
}

const ACTIONS = [
  ["REPLY_TEXT", "Reply with text"],
  ["CALL_API", "Call an endpoint"],
  ["CALL_TOOL", "Call an MCP tool"],
  ["SET_VARIABLE", "Set a variable"],
  ["REPLY_AI", "Reply with AI"],
  ["REPLY_KB", "Reply from the knowledge base"],
  ["ASSIGN_TO_OPERATOR", "Hand over to a person"],
  ["ADD_LABEL", "Add a label"],
];

/** Ordered actions: each can move up or down (buttons, so the keyboard works) or be removed. */
export function actionsEditor(actions, context, prefix = "actions", depth = 0) {
  const list = h("ol", { class: "items actions", "data-field": prefix, tabindex: "-1" });
  const renumber = () => { list.dataset.field = prefix; [...list.children].forEach((item, i) => item.renumber(`${prefix}[${i}]`)); };
  const add = (action) => {
    const item = actionItem(action, context, depth, () => { renumber(); });
    list.append(item);
    renumber();
    return item;
  };
  actions.forEach(add);
  const kind = h("select", { "aria-label": depth ? "Add an on-error action" : "Add an action" }, ACTIONS.map(([v, l]) => h("option", { value: v }, l)));
  const box = h("div", { class: "actions-box" }, list,
    h("div", { class: "row" }, kind, h("button", { type: "button", onclick: () => add({ type: kind.value }).querySelector("input, select, textarea").focus() }, depth ? "Add on-error action" : "Add action")));
  box.read = () => [...list.children].map((item) => item.read());
  // A nested list (on_error) learns its place from the action that holds it.
  box.renumber = (path) => { prefix = path; renumber(); };
  return box;
}

function actionItem(action, context, depth, changed) {
  const label = ACTIONS.find(([v]) => v === action.type)[1];
  const body = h("div", { class: "action-body" });
  const move = (dir) => {
    const sibling = dir < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    if (dir < 0) sibling.before(item); else sibling.after(item);
    changed();
    item.querySelector(`button[data-move="${dir}"]`).focus();
  };
  const item = h("li", { class: "item action" },
    h("div", { class: "action-head" }, h("strong", {}, label),
      h("button", { type: "button", "data-move": "-1", "aria-label": `Move “${label}” up`, onclick: () => move(-1) }, "↑"),
      h("button", { type: "button", "data-move": "1", "aria-label": `Move “${label}” down`, onclick: () => move(1) }, "↓"),
      h("button", { type: "button", "aria-label": `Remove “${label}”`, onclick: () => { item.remove(); changed(); } }, "✕")),
    body);
  const parts = actionFields(action, context, depth);
  body.append(...parts.elements);
  item.read = () => ({ type: action.type, ...parts.read() });
  // Field names follow the item's place, so the API's `actions[2].text` finds its control.
  item.renumber = (path) => {
    item.dataset.path = path;
    for (const el of body.querySelectorAll("[data-key]")) if (el.closest(".item.action") === item) el.dataset.field = `${path}.${el.dataset.key}`;
    if (parts.nested) parts.nested.renumber(`${path}.on_error`);
  };
  return item;
}

function actionFields(a, context, depth) {
  const input = (label, key, value, attrs = {}, hint) => field(label, h("input", { "data-key": key, value: value ?? "", spellcheck: "false", ...attrs }), hint);
  const area = (label, key, value, attrs = {}, hint) => field(label, h("textarea", { "data-key": key, rows: 3, ...attrs }, value ?? ""), hint);
  const els = [];
  const get = (key) => els.map((e) => e.querySelector ? (e.matches?.(`[data-key="${key}"]`) ? e : e.querySelector(`[data-key="${key}"]`)) : null).find(Boolean);
  const optional = (v) => (v.trim() ? v : null);
  switch (a.type) {
    case "REPLY_TEXT":
      els.push(area("Text", "text", a.text, { required: true }, "Use {variables}, e.g. Order {order_id} is {order_status}."));
      return { elements: els, read: () => ({ text: get("text").value }) };
    case "REPLY_AI":
      els.push(area("Instructions (optional)", "instructions", a.instructions), input("Fallback when AI is off or fails (optional)", "fallback", a.fallback));
      return { elements: els, read: () => ({ instructions: optional(get("instructions").value), fallback: optional(get("fallback").value) }) };
    case "REPLY_KB":
      els.push(input("Fallback when nothing answers (optional)", "fallback", a.fallback));
      return { elements: els, read: () => ({ fallback: optional(get("fallback").value) }) };
    case "SET_VARIABLE": {
      const mode = a.from_regex ? "regex" : a.from_ai ? "ai" : "value";
      const how = h("select", {}, [["value", "to a value"], ["regex", "to what a pattern captures in the message"], ["ai", "to what the AI extracts"]].map(([v, l]) => h("option", { value: v, selected: v === mode }, l)));
      els.push(input("Variable", "name", a.name, { required: true, class: "mono" }), field("Set it", how),
        input("Value", "value", typeof a.value === "string" ? a.value : a.value === undefined ? "" : JSON.stringify(a.value), {}, "A template, e.g. {visitor.name}"),
        input("Pattern", "from_regex.pattern", a.from_regex?.pattern, { class: "mono" }, "The first group is taken, e.g. #?(\\d{3,})"),
        input("What to extract", "from_ai", a.from_ai, {}, "e.g. the order number"));
      const sync = () => { for (const [k, m] of [["value", "value"], ["from_regex.pattern", "regex"], ["from_ai", "ai"]]) { const f = get(k); f.closest(".field").hidden = how.value !== m; f.required = how.value === m && m !== "value"; } };
      how.addEventListener("change", sync);
      setTimeout(sync);
      return { elements: els, read: () => {
        const out = { name: get("name").value.trim() };
        // Group and flags are not edited here; ones set over the API are kept.
        if (how.value === "regex") out.from_regex = { ...(a.from_regex || {}), pattern: get("from_regex.pattern").value };
        else if (how.value === "ai") out.from_ai = get("from_ai").value.trim();
        else out.value = typed(get("value").value);
        return out;
      } };
    }
    case "CALL_API": {
      // Grouped by connection, named briefly (phones are narrow); the request shows below.
      const groups = [...new Set(context.endpoints.map((e) => e.connection))];
      const select = h("select", { "data-key": "endpoint_id", required: true }, h("option", { value: "" }, "Choose an endpoint…"),
        groups.map((connection) => h("optgroup", { label: connection }, context.endpoints.filter((e) => e.connection === connection)
          .map((e) => h("option", { value: e.id, selected: e.id === a.endpoint_id }, e.name)))));
      const request = h("p", { class: "hint mono" });
      const call = callParts(a, context, depth, select, (v) => context.endpoints.find((e) => e.id === v), (v) => v === a.endpoint_id,
        (endpoint) => { request.textContent = endpoint ? `${endpoint.method} ${endpoint.path}` : ""; });
      els.push(field("Endpoint", select, "Its mapped values become variables for the actions after it."), request, call.inputs,
        ...[call.branch("If the call fails or finds nothing (instead of the rest of the rule)")].filter(Boolean));
      return { elements: els, nested: call.nested, read: () => call.add({ endpoint_id: select.value }) };
    }
    case "ASSIGN_TO_OPERATOR": {
      const current = a.user_id ? `user:${a.user_id}` : a.team_id ? `team:${a.team_id}` : "";
      const to = h("select", { "data-key": "user_id" }, h("option", { value: "" }, "whoever is available"),
        context.users.map((u) => h("option", { value: `user:${u.id}`, selected: current === `user:${u.id}` }, u.email)),
        context.teams.map((t) => h("option", { value: `team:${t.id}`, selected: current === `team:${t.id}` }, `team ${t.name}`)));
      els.push(field("Hand to", to), input("Note for the operator (optional)", "note", a.note));
      return { elements: els, read: () => {
        const [kind, id] = to.value.split(":");
        return { user_id: kind === "user" ? id : null, team_id: kind === "team" ? id : null, note: optional(get("note").value) };
      } };
    }
    case "CALL_TOOL": {
      // The tools of the account's MCP connections: each is one of the connection's endpoints.
      const tools = context.endpoints.filter((e) => e.tool);
      const key = (e) => `${e.connection_id}/${e.tool.name}`;
      const own = `${a.connection_id}/${a.tool}`;
      const select = h("select", { "data-key": "tool", required: true }, h("option", { value: "" }, tools.length ? "Choose a tool…" : "no MCP tools yet: read them on the connection"),
        [...new Set(tools.map((e) => e.connection))].map((connection) => h("optgroup", { label: connection }, tools.filter((e) => e.connection === connection)
          .map((e) => h("option", { value: key(e), selected: key(e) === own }, e.tool.name)))));
      const mapping = area("Map its result (one per line: variable = path)", "response_mapping",
        Object.entries(a.response_mapping || {}).map(([k, v]) => `${k} = ${v}`).join("\n"), { class: "mono" }, "e.g. order_state = status");
      const call = callParts(a, context, depth, select, (v) => tools.find((e) => key(e) === v), (v) => v === own);
      els.push(field("Tool", select, "Called as an endpoint is: its approval and errors are the tool's."), call.inputs, mapping,
        ...[call.branch("If the call fails (instead of the rest of the rule)")].filter(Boolean));
      return { elements: els, nested: call.nested, read: () => {
        const chosen = tools.find((e) => key(e) === select.value);
        const out = { connection_id: chosen ? chosen.connection_id : a.connection_id, tool: chosen ? chosen.tool.name : a.tool };
        // "name = path": the first "=" splits (a path may hold one).
        const lines = get("response_mapping").value.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")).trim(), l.slice(l.indexOf("=") + 1).trim()]).filter(([k, v]) => k && v);
        if (lines.length) out.response_mapping = Object.fromEntries(lines);
        return call.add(out);
      } };
    }
    case "ADD_LABEL": {
      const labels = context.labels || [];
      const pick = h("select", { "data-key": "label" },
        labels.length ? null : h("option", { value: "" }, "no labels yet: create them under Team"),
        labels.map((l) => h("option", { value: l.name, selected: l.name === a.label }, l.name)));
      els.push(field("Label", pick));
      return { elements: els, read: () => ({ label: pick.value }) };
    }
    default: return { elements: [], read: () => ({}) };
  }
}

/**
 * What calling an endpoint and calling a tool share: the callee's inputs under the picker
 * (`find` gives the callee chosen, `isOwn` whether it is the action's own, `shown` hears of each
 * choice) and the on-error branch; `add(out)` puts the arguments and the branch on the action.
 */
function callParts(a, context, depth, select, find, isOwn, shown = () => {}) {
  const nested = depth < 1 ? actionsEditor(a.on_error || [], context, "on_error", depth + 1) : null;
  const inputs = h("div", { class: "inputs" });
  let readInputs = () => ({});
  const showInputs = () => {
    const callee = find(select.value);
    shown(callee);
    readInputs = inputsEditor(inputs, callee, isOwn(select.value) ? a.arguments || {} : {});
    // The new rows' fields take the action's place.
    inputs.closest(".item.action")?.renumber?.(inputs.closest(".item.action").dataset.path);
  };
  select.addEventListener("change", showInputs);
  setTimeout(showInputs);
  return {
    inputs,
    nested,
    branch: (legend) => (nested ? h("fieldset", { class: "on-error" }, h("legend", {}, legend), nested) : null),
    add: (out) => {
      const args = readInputs();
      if (Object.keys(args).length) out.arguments = args;
      const branch = nested ? nested.read() : [];
      if (branch.length) out.on_error = branch;
      return out;
    },
  };
}

/** A first question for an input, to edit: "Which order number?" from its description. */
function question(name, spec) {
  const described = (spec && spec.description ? spec.description : "").trim().replace(/\.$/, "").replace(/^(the|a|an)\s+/i, "");
  const what = described && described.length <= 40 ? described : name.replace(/[_.]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return `Which ${what.charAt(0).toLowerCase()}${what.slice(1)}?`;
}

/** A default capture pattern for an input: its declared pattern as a group, else none. */
function capturePattern(spec) {
  const p = spec && spec.pattern ? spec.pattern.replace(/^\^/, "").replace(/\$$/, "") : "";
  return p ? `\\b(${p})\\b` : "";
}

/**
 * The endpoint's inputs as fields on the action: each filled from what a pattern captures in the
 * message (and what happens when the message has none), or from a variable or template. Returns
 * the reader of the `arguments` object; an input left at `{its own name}` is no argument at all.
 */
function inputsEditor(box, endpoint, current) {
  if (!endpoint || !(endpoint.inputs || []).length) { fill(box); return () => ({}); }
  const rows = endpoint.inputs.map((name) => {
    const spec = (endpoint.variables || []).find((v) => v.name === name);
    const given = current[name];
    const arg = typeof given === "string" ? { value: given } : given || { from_message: capturePattern(spec), ask: question(name, spec) };
    // `from_message` is a pattern, or {pattern, group, flags} (kept as given).
    const from = typeof arg.from_message === "string" ? { pattern: arg.from_message } : arg.from_message;
    const key = (k) => `arguments.${name}.${k}`;
    const source = h("select", { "aria-label": `Fill ${name} from` },
      h("option", { value: "message", selected: !!from }, "the message (a pattern)"),
      h("option", { value: "value", selected: !from }, "a variable or template"));
    const pattern = h("input", { "data-key": key("from_message.pattern"), "aria-label": `Pattern for ${name}`, class: "mono", spellcheck: "false", value: from?.pattern || "", placeholder: "#?(\\d{4,})" });
    const value = h("input", { "data-key": key("value"), "aria-label": `Template for ${name}`, class: "mono", spellcheck: "false", value: arg.value ?? `{${name}}` });
    const lacking = arg.ask !== undefined && arg.ask !== null ? "ask" : arg.reuse ? "reuse" : "fail";
    const when = h("select", { "aria-label": `When the message has no ${name}` },
      h("option", { value: "ask", selected: lacking === "ask" }, "ask, then go on"),
      h("option", { value: "reuse", selected: lacking === "reuse" }, "reuse the earlier value"),
      h("option", { value: "fail", selected: lacking === "fail" }, "skip the call (on-error)"));
    const ask = h("input", { "data-key": key("ask"), "aria-label": `Question asking for ${name}`, value: arg.ask || "", placeholder: "Which order number?" });
    const messageParts = h("div", { class: "input-message" }, field("Pattern", pattern, "What its first group captures in the visitor's message."),
      field(`When the message has no ${name}`, when), field("Question", ask));
    const sync = () => {
      const fromMessage = source.value === "message";
      messageParts.hidden = !fromMessage; value.closest(".field").hidden = fromMessage;
      pattern.required = fromMessage;
      ask.closest(".field").hidden = when.value !== "ask"; ask.required = fromMessage && when.value === "ask";
    };
    const row = h("fieldset", { class: "input-row" }, h("legend", {}, h("span", { class: "mono" }, name), spec && spec.description ? ` — ${spec.description}` : ""),
      field("Fill from", source), field("Template", value, "e.g. {order_id}, or ORD-{number}"), messageParts);
    source.addEventListener("change", sync); when.addEventListener("change", sync);
    sync();
    row.read = () => {
      if (source.value === "value") return value.value.trim() === `{${name}}` ? undefined : value.value;
      const out = { from_message: from && (from.group || from.flags) ? { ...from, pattern: pattern.value } : pattern.value };
      if (when.value === "ask") out.ask = ask.value;
      if (when.value === "reuse") out.reuse = true;
      return out;
    };
    return [name, row];
  });
  fill(box, h("p", { class: "hint" }, "What the call needs, and where each value comes from:"), ...rows.map(([, row]) => row));
  return () => Object.fromEntries(rows.map(([name, row]) => [name, row.read()]).filter(([, v]) => v !== undefined));
}

export { typed };
