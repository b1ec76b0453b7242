// Settings → Rules: the list in evaluation order, the rule editor, and the dry-run panel that
// shows which rules would fire on a message and what they would do — without doing it.
import { h, call, field, submitting, confirmAction, fill, callError, requestView } from "./ui.js";
import { triggerEditor, conditionsEditor, actionsEditor } from "./rule_parts.js";

function describeTrigger(t) {
  switch (t.type) {
    case "keywords": return `words: ${t.any.join(", ")}`;
    case "regex": return `pattern /${t.pattern}/${t.flags || ""}`;
    case "intent": return `intent: ${t.description}`;
    case "variable": return `variable ${t.name} set`;
    case "first_message": return "first message";
    default: return "any message";
  }
}

/** An action in words, for lists: "Set order_id", "Look up get_order", "Reply". */
function describeAction(a, context) {
  const endpoint = (context.endpoints || []).find((e) => e.id === a.endpoint_id);
  switch (a.type) {
    case "SET_VARIABLE": return `Set ${a.name}`;
    case "CALL_API": {
      const name = endpoint ? endpoint.name : "an endpoint";
      if (endpoint && endpoint.approval && endpoint.approval !== "none") return `Ask, then call ${name}`;
      return endpoint && ["POST", "PUT", "PATCH", "DELETE"].includes(endpoint.method) ? `Call ${name}` : `Look up ${name}`;
    }
    case "REPLY_TEXT": return "Reply";
    case "REPLY_AI": return "AI reply";
    case "REPLY_KB": return "Answer from knowledge";
    case "ASSIGN_TO_OPERATOR": return "Hand over";
    case "ADD_LABEL": return `Label ${a.label}`;
    case "CALL_TOOL": return `Call tool ${a.tool}`;
    default: return a.type;
  }
}

/** What rules can refer to: endpoints (with their connection's name), widgets, users, teams, labels. */
async function loadContext() {
  const [connections, widgets, users, teams, labels] = await Promise.all(["/connections", "/widgets", "/users", "/teams", "/labels"].map((p) => call("GET", `${p}?limit=200`)));
  const lists = await Promise.all(connections.data.map((c) => call("GET", `/connections/${c.id}/endpoints?limit=200`)));
  const endpoints = lists.flatMap((l, i) => l.data.map((e) => ({ ...e, connection: connections.data[i].name })));
  return { endpoints, widgets: widgets.data, users: users.data, teams: teams.data, labels: labels.data };
}

export async function showRules(main) {
  const [rules, context] = await Promise.all([call("GET", "/rules"), loadContext()]);
  const widgetName = (id) => (id ? (context.widgets.find((w) => w.id === id) || { name: id }).name : "all widgets");
  fill(main, 
    h("div", { class: "screen-head" }, h("h1", {}, "Rules"), h("a", { class: "button primary", href: "#rules/new" }, "New rule")),
    h("p", { class: "lead" }, "Every visitor message walks these rules from the lowest priority number up. A rule that fires runs its actions in order."),
    rules.data.length
      ? h("table", { class: "list-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Priority"), h("th", {}, "Rule"), h("th", {}, "When"), h("th", {}, "Widget"), h("th", {}, "Actions"), h("th", {}, "State"))),
        h("tbody", {}, rules.data.map((r) => h("tr", { class: r.enabled ? "" : "off" },
          h("td", {}, r.priority), h("td", {}, h("a", { href: `#rules/${r.id}` }, r.name)), h("td", {}, describeTrigger(r.trigger)),
          h("td", {}, widgetName(r.widget_id)), h("td", {}, r.actions.map((a) => describeAction(a, context)).join(" → ")),
          h("td", {}, r.enabled ? (r.stop ? "on · stops" : "on") : "off")))))
      : h("p", { class: "empty" }, "No rules yet. Without rules, the AI (when on) answers every message."),
    dryRunPanel(context));
}

export async function showRule(main, me, id) {
  const isNew = id === "new";
  const context = await loadContext();
  const rule = isNew
    ? { name: "", widget_id: null, priority: 100, enabled: true, trigger: { type: "keywords", any: [] }, conditions: [], match: "all", actions: [{ type: "REPLY_TEXT", text: "" }], stop: true, suppress_ai_reply: false }
    : (await call("GET", `/rules/${id}`)).data;
  const name = h("input", { "data-field": "name", value: rule.name, required: true, maxlength: 200 });
  const widget = h("select", { "data-field": "widget_id" }, h("option", { value: "" }, "All widgets"),
    context.widgets.map((w) => h("option", { value: w.id, selected: w.id === rule.widget_id }, w.name)));
  const priority = h("input", { "data-field": "priority", type: "number", value: rule.priority, required: true, step: 1 });
  const check = (key, label) => h("label", { class: "check" }, h("input", { type: "checkbox", "data-field": key, checked: rule[key] }), ` ${label}`);
  const trigger = triggerEditor(rule.trigger);
  const conditions = conditionsEditor(Array.isArray(rule.conditions) ? rule.conditions : [rule.conditions]);
  const match = h("select", { "data-field": "match" }, h("option", { value: "all", selected: rule.match === "all" }, "all of these hold"), h("option", { value: "any", selected: rule.match === "any" }, "any of these holds"));
  const actions = actionsEditor(rule.actions, context);
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "rule-title" },
    h("h2", { id: "rule-title" }, "Rule"),
    field("Name", name),
    h("div", { class: "row wrap" }, field("Widget", widget), field("Priority (lower runs first)", priority)),
    h("fieldset", {}, h("legend", {}, "Trigger"), trigger),
    h("fieldset", {}, h("legend", {}, "Conditions on variables"), field("Fire only when", match), conditions),
    h("fieldset", {}, h("legend", {}, "Actions, in order"), actions),
    h("div", { class: "row wrap" }, check("enabled", "Enabled"), check("stop", "Stop here: later rules do not run"), check("suppress_ai_reply", "No AI answer after this rule")),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, isNew ? "Create rule" : "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    const flag = (key) => form.querySelector(`[data-field="${key}"]`).checked;
    const body = { name: name.value.trim(), widget_id: widget.value || null, priority: Number(priority.value), enabled: flag("enabled"),
      trigger: trigger.read(), conditions: conditions.read(), match: match.value, actions: actions.read(), stop: flag("stop"), suppress_ai_reply: flag("suppress_ai_reply") };
    if (isNew) { location.hash = `#rules/${(await call("POST", "/rules", body)).data.id}`; return; }
    await call("PATCH", `/rules/${id}`, body);
    saved.textContent = "Saved. The next message uses it.";
  });
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction(`Delete the rule “${rule.name}”?`))) return;
    await call("DELETE", `/rules/${id}`);
    location.hash = "#rules";
  } }, "Delete rule");
  fill(main, 
    h("p", { class: "crumbs" }, h("a", { href: "#rules" }, "Rules"), " / "),
    h("h1", {}, isNew ? "New rule" : rule.name),
    h("div", { class: "two-col" }, form, dryRunPanel(context, rule.widget_id)),
    isNew ? null : h("section", { class: "panel danger-zone" }, h("h2", {}, "Danger zone"), remove));
  name.focus();
}

/** Type a message (and variables), see what the saved rules would do with it. */
function dryRunPanel(context, widgetId) {
  const widget = h("select", { "data-field": "widget_id", required: true },
    context.widgets.map((w) => h("option", { value: w.id, selected: w.id === widgetId }, w.name)));
  const message = h("input", { "data-field": "message", required: true, placeholder: "Where is my order #4521?" });
  const variables = h("textarea", { "data-field": "variables", "data-json": "", rows: 3, class: "mono", placeholder: "{\"visitor.verified\": true}" });
  const out = h("div", { class: "dry-run-result", "aria-live": "polite" });
  const form = h("form", { class: "panel sticky", "aria-labelledby": "dry-run-title" },
    h("h2", { id: "dry-run-title" }, "Dry run"),
    h("p", { class: "hint" }, "Runs the saved rules on a message without calling anything, replying or saving."),
    context.widgets.length ? field("Widget", widget) : h("p", { class: "error" }, "Create a widget first: rules run for a widget's conversations."),
    field("Message", message), field("Variables (JSON, optional)", variables),
    h("p", { class: "error", role: "alert" }),
    h("button", { type: "submit" }, "Try it"), out);
  submitting(form, async () => {
    const vars = variables.value.trim() ? JSON.parse(variables.value) : {};
    const result = (await call("POST", "/rules/dry-run", { widget_id: widget.value, message: message.value, variables: vars })).data;
    fill(out, renderDryRun(result));
  });
  return form;
}

/** A call's inputs as the dry run filled them: `order_id = "4521" (earlier value), `. */
function inputs(a) {
  const shown = Object.entries(a.inputs || {}).map(([name, i]) => `${name} = ${JSON.stringify(i.value)}${i.from === "earlier" ? " (earlier value)" : ""}`);
  return shown.length ? `${shown.join(", ")}; ` : "";
}

function renderDryRun(result) {
  if (!result.fired.length) return h("p", { class: "muted" }, "No rule would fire.");
  const said = (a) => {
    switch (a.type) {
      case "SET_VARIABLE": return `${a.name} = ${JSON.stringify(a.result)}`;
      case "CALL_API":
        if (a.would_ask_for) return h("span", {}, `${a.endpoint}: ${a.would_ask_for.text}`);
        if (a.would_ask) return h("span", {}, `${a.endpoint}: ${inputs(a)}${a.would_ask.text}`, requestView(a.request));
        return h("span", {}, `${a.endpoint}: ${inputs(a)}${a.would_send ? "would send" : `would not be sent — ${callError(a.error)}`}`, requestView(a.request));
      case "CALL_TOOL":
        if (!a.endpoint) return `no tool ${a.tool} on the connection`;
        if (a.would_ask_for) return h("span", {}, `${a.endpoint}: ${a.would_ask_for.text}`);
        if (a.would_ask) return h("span", {}, `${a.endpoint}: ${inputs(a)}${a.would_ask.text}`, requestView(a.request));
        return h("span", {}, `${a.endpoint}: ${inputs(a)}${a.would_send ? "would call the tool" : `would not be called — ${callError(a.error)}`}`, requestView(a.request));
      case "REPLY_TEXT": return `would reply “${a.preview}”`;
      case "ASSIGN_TO_OPERATOR": return "would hand the conversation to a person";
      case "ADD_LABEL": return `would label the conversation “${a.label}”`;
      case "REPLY_AI": return "the AI would reply";
      case "REPLY_KB": return "the knowledge base would reply";
      default: return "";
    }
  };
  const label = { SET_VARIABLE: "Set", CALL_API: "Call", REPLY_TEXT: "Reply", REPLY_AI: "AI reply", REPLY_KB: "Knowledge", ASSIGN_TO_OPERATOR: "Hand over", ADD_LABEL: "Label" };
  const line = (a) => h("li", {}, h("strong", {}, label[a.type] || a.type), " ", said(a));
  return h("div", {},
    h("ol", { class: "fired" }, result.fired.map((r) => h("li", {}, h("strong", {}, r.name), h("ul", {}, r.actions.map(line))))),
    result.stopped_by ? h("p", { class: "muted" }, "The walk stopped after the last rule.") : null,
    h("p", { class: "hint" }, "Endpoints are not called in a dry run, so the values they would map are empty here."),
    h("details", {}, h("summary", {}, "Variables afterwards"), h("pre", {}, JSON.stringify(result.variables, null, 2))));
}
