// Safe actions in the inbox: what the assistant proposed, the exact request (credentials never
// shown), and Approve / Deny for what needs a person. A visitor's typed "yes" never decides.
import { call, h, explain } from "./ui.js";

const STATES = { pending: "waiting", confirmed: "agreed, running", executed: "done", failed: "failed", cancelled: "cancelled by the visitor",
  denied: "denied", expired: "expired", stale: "void: the request changed" };

/** The card under a message that asks for an action; `decided()` runs after a decision. */
export function actionCard(action, decided) {
  const needs = action.needs || [];
  const status = action.state === "pending" && needs.length ? `waiting for ${needs.join(" and ")}` : STATES[action.state] || action.state;
  const card = h("div", { class: "action-card" }, h("strong", {}, "Action: "), action.summary, " — ", h("span", { class: "action-state" }, status));
  if (action.state !== "pending" || !needs.includes("operator")) return card;
  const review = h("details", { class: "action-review" }, h("summary", {}, "Review and decide"));
  review.addEventListener("toggle", async () => {
    if (!review.open || review.dataset.loaded) return;
    review.dataset.loaded = "1";
    try { review.append(decision((await call("GET", `/actions/${action.id}`)).data, decided)); }
    catch (err) { review.append(h("p", { class: "error", role: "alert" }, explain(err))); }
  });
  card.append(review);
  return card;
}

function decision(action, decided) {
  const r = action.request;
  const note = h("input", { "aria-label": "Note (optional)", placeholder: "Note (optional)", maxlength: 1000 });
  const error = h("p", { class: "error", role: "alert" });
  const decide = (verb) => async (event) => {
    event.target.closest("div").querySelectorAll("button").forEach((b) => { b.disabled = true; });
    error.textContent = "";
    try { await call("POST", `/actions/${action.id}/${verb}`, note.value.trim() ? { note: note.value.trim() } : {}); decided(); }
    catch (err) { error.textContent = explain(err); event.target.closest("div").querySelectorAll("button").forEach((b) => { b.disabled = false; }); }
  };
  return h("div", { class: "action-decision" },
    h("pre", { class: "mono" }, `${r.method} ${r.url}\n${Object.entries(r.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n")}${r.body ? `\n\n${r.body}` : ""}`),
    note, h("div", { class: "row" },
      h("button", { class: "primary", type: "button", onclick: decide("approve") }, "Approve"),
      h("button", { type: "button", onclick: decide("deny") }, "Deny")), error);
}

/** The approval queue: pending actions that need a person, each opening its conversation. */
export async function approvalQueue(openConversation) {
  try {
    const pending = (await call("GET", "/actions?state=pending&limit=200")).data.filter((a) => a.approval.includes("operator") && !a.operator_approved_at);
    if (!pending.length) return h("div", { class: "approvals" });
    return h("details", { class: "approvals", open: true }, h("summary", {}, `Waiting for approval (${pending.length})`),
      h("ul", {}, pending.map((a) => h("li", {}, h("button", { type: "button", onclick: () => openConversation(a.conversation_id) }, a.summary)))));
  } catch {
    return h("div", { class: "approvals" });
  }
}
