// Get started: the first run as a checklist. Each step is ticked by what the account has, not
// by a click, so it stays true; the last step puts the real widget on this page to try at once.
import { h, call, fill } from "./ui.js";

/** What the account has, in one round of requests. */
async function progress() {
  const list = (path) => call("GET", path).then((r) => r.data);
  const [connections, rules, documents, widgets, conversations] = await Promise.all([
    list("/connections?limit=200"), list("/rules"), list("/kb/documents?limit=1"), list("/widgets?limit=200"), list("/conversations?limit=1"),
  ]);
  const endpoints = (await Promise.all(connections.map((c) => list(`/connections/${c.id}/endpoints?limit=1`)))).flat();
  return { connections, endpoints, rules, documents, widgets, conversations };
}

function steps(p) {
  const widget = p.widgets[0];
  return [
    { done: p.connections.length > 0, title: "Connect a system", text: "Your shop, CRM or booking system: its base URL and how to sign in. The test button checks it before anything uses it.",
      href: "#connections/new", action: "Add a connection" },
    { done: p.endpoints.length > 0, title: "Add an endpoint", text: "A request the assistant may make, such as GET /orders/{order_id}, and which values of the answer to keep. Importing an OpenAPI description adds them all at once.",
      href: p.connections[0] ? `#connections/${p.connections[0].id}` : "#connections/new", action: "Add an endpoint" },
    { done: p.rules.length > 0, title: "Make a rule", text: "When a message matches, look something up and reply — e.g. \"Where is order 4521?\" answered from your system.",
      href: "#rules/new", action: "New rule" },
    { done: p.documents.length > 0, title: "Add knowledge", text: "Your return policy, shipping times, FAQ: pasted or fetched from a page. General questions are answered from it.",
      href: "#knowledge", action: "Add a document" },
    { done: p.widgets.some((w) => w.allowed_origins.length > 0), title: "Put the widget on your site", text: "Copy the one-line snippet into your pages and name your site, so only it may use the chat.",
      href: widget ? `#widgets/${widget.id}` : "#widgets/new", action: widget ? "Get the snippet" : "Create a widget" },
    { done: p.conversations.length > 0, title: "Try it as a customer", text: "Ask what your customers would ask, right here. Every reply's trace in the inbox explains why it was given.",
      kind: "try", widget },
  ];
}

/** Loads the real widget on this page (once): the same script a site embeds. */
function tryWidget(widget, button) {
  if (document.querySelector("script[data-try-widget]")) {
    button.textContent = "The chat is open at the bottom of the page";
    return;
  }
  const script = h("script", { src: "/widget.js", "data-widget": widget.id, "data-try-widget": "" });
  document.body.append(script);
  button.textContent = "The chat is open at the bottom of the page";
}

export async function showStart(main) {
  const p = await progress();
  const all = steps(p);
  const left = all.filter((s) => !s.done).length;
  fill(main,
    h("div", { class: "screen-head" }, h("h1", {}, "Get started")),
    h("p", { class: "lead" }, left ? `${all.length - left} of ${all.length} done. Each step ticks itself once your account has it.` : "All set: your assistant answers from your systems and your knowledge."),
    h("ol", { class: "checklist" }, all.map((step, i) => {
      const id = `step-${i}`;
      let control;
      if (step.kind === "try" && step.widget) {
        control = h("button", { type: "button", class: step.done ? "" : "primary" }, "Open the chat here");
        control.addEventListener("click", () => tryWidget(step.widget, control));
      } else if (step.kind === "try") {
        control = h("a", { class: "button", href: "#widgets/new" }, "Create a widget first");
      } else {
        control = h("a", { class: `button ${step.done ? "" : "primary"}`, href: step.href }, step.action);
      }
      return h("li", { class: `step ${step.done ? "done" : ""}`, "aria-labelledby": id },
        h("span", { class: "tick", "aria-hidden": "true" }, step.done ? "✓" : String(i + 1)),
        h("div", {}, h("h2", { id }, step.title, h("span", { class: "visually-hidden" }, step.done ? " (done)" : " (to do)")),
          h("p", {}, step.text), control));
    })));
}
