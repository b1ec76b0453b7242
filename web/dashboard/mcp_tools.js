// The tools of an MCP connection: read from its server, each switched on for the AI (or not)
// with who must agree before it runs. Each tool is one of the connection's endpoints: its page
// has the response mapping, the test button and its calls.
import { h, call, fill, callError } from "./ui.js";

const APPROVALS = [
  ["none", "nobody — it runs at once"],
  ["visitor", "the visitor confirms"],
  ["operator", "a person approves"],
  ["visitor_and_operator", "both"],
];

/** The panel listing the connection's tools; `dayOf(endpointId)` gives a tool's last 24 hours. */
export function toolsPanel(connectionId, dayOf) {
  const status = h("p", { class: "saved", role: "status" });
  const problem = h("p", { class: "error", role: "alert" });
  const table = h("div", {});
  const change = async (tool, patch, control) => {
    control.disabled = true;
    fill(problem); status.textContent = "";
    try {
      const updated = (await call("PATCH", `/connections/${connectionId}/tools/${encodeURIComponent(tool.name)}`, patch)).data;
      Object.assign(tool, updated);
      status.textContent = `Saved ${tool.name}.`;
    } catch (err) {
      fill(problem, err.message);
    } finally {
      control.disabled = false;
    }
  };
  const row = (tool) => {
    const on = h("input", { type: "checkbox", checked: tool.enabled, "aria-label": `The AI may call ${tool.name}` });
    on.addEventListener("change", () => change(tool, { enabled: on.checked }, on));
    const approval = h("select", { "aria-label": `Before ${tool.name} runs` },
      APPROVALS.map(([value, label]) => h("option", { value, selected: value === tool.approval }, label)));
    approval.addEventListener("change", () => change(tool, { approval: approval.value }, approval));
    const day = dayOf(tool.endpoint_id) || { calls: 0 };
    return h("tr", {},
      h("td", {}, h("a", { href: `#endpoints/${tool.endpoint_id}`, class: "mono" }, tool.name),
        tool.read_only ? h("span", { class: "muted" }, " · read-only") : null,
        tool.description ? h("div", { class: "hint" }, tool.description) : null),
      h("td", {}, on),
      h("td", {}, approval),
      h("td", {}, day.calls));
  };
  const render = (tools) => fill(table, tools.length
    ? h("table", { class: "list-table tools" },
      h("thead", {}, h("tr", {}, h("th", {}, "Tool"), h("th", {}, "AI may call"), h("th", {}, "Before it runs"), h("th", {}, "Calls, 24 h"))),
      h("tbody", {}, tools.map(row)))
    : h("p", { class: "empty" }, "No tools read yet: read them from the server."));
  const read = h("button", { type: "button", onclick: async () => {
    read.disabled = true;
    fill(problem); status.textContent = "Reading the server's tools…";
    try {
      const tools = (await call("POST", `/connections/${connectionId}/tools/refresh`, {})).data;
      render(tools);
      status.textContent = `The server lists ${tools.length} tool(s).`;
    } catch (err) {
      status.textContent = "";
      fill(problem, err.code ? callError({ code: err.code, message: err.message }) : err.message);
    } finally {
      read.disabled = false;
    }
  } }, "Read tools from the server");
  call("GET", `/connections/${connectionId}/tools`).then((r) => render(r.data)).catch((err) => fill(problem, err.message));
  return h("section", { class: "panel", "aria-labelledby": "tools-title" },
    h("div", { class: "screen-head" }, h("h2", { id: "tools-title" }, "Tools"), read),
    h("p", { class: "hint" }, "New tools start switched off and wait for the visitor's confirmation. A server's “read-only” is its own word: choose “nobody” for the lookups you trust."),
    status, problem, table);
}
