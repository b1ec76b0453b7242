// Canned replies: the account's saved answers. Admins keep them on the Team page; in the inbox,
// typing "/" in the reply box lists them (filled in for the open conversation by the server),
// and Enter, Tab or a click puts one in place of what was typed.
import { h, call, field, submitting, confirmAction } from "./ui.js";

export function cannedSection(replies, admin, reload) {
  const shortcut = h("input", { "data-field": "shortcut", required: true, maxlength: 33, placeholder: "refund" });
  const text = h("textarea", { "data-field": "text", required: true, rows: 3, placeholder: "Hi {visitor.name}, your refund for order {order_id} is on its way." });
  const form = h("form", { class: "inline-form", "aria-label": "Create a canned reply" }, h("h3", {}, "New canned reply"),
    field("Shortcut", shortcut, "Typed after / in the reply box: letters, digits, - and _."),
    field("Text", text, "{visitor.name}, {order_id} and any other variable are filled from the conversation."),
    h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Create canned reply"));
  submitting(form, async () => { await call("POST", "/canned-replies", { shortcut: shortcut.value, text: text.value }); reload(); });
  const rows = replies.map((r) => {
    const edit = h("textarea", { "data-field": "text", rows: 2, "aria-label": `Text of /${r.shortcut}` }, r.text);
    const saved = h("span", { class: "saved", role: "status" });
    const change = h("form", { class: "canned-edit" }, edit, h("p", { class: "error", role: "alert" }), h("div", { class: "row" },
      h("button", { type: "submit" }, `Save /${r.shortcut}`), saved,
      h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmAction(`Delete the canned reply /${r.shortcut}?`))) return;
        await call("DELETE", `/canned-replies/${r.id}`);
        reload();
      } }, `Delete /${r.shortcut}`)));
    submitting(change, async () => { saved.textContent = ""; await call("PATCH", `/canned-replies/${r.id}`, { text: edit.value }); saved.textContent = "Saved."; });
    return h("li", { class: "card" }, h("h3", { class: "mono" }, `/${r.shortcut}`), admin ? change : h("p", {}, r.text));
  });
  return h("section", { class: "panel", "aria-labelledby": "canned-title" }, h("h2", { id: "canned-title" }, "Canned replies"),
    h("p", { class: "hint" }, "Saved answers: in a conversation, type / and the shortcut in the reply box."),
    replies.length ? h("ul", { class: "cards" }, rows) : h("p", { class: "empty" }, "No canned replies yet."), admin ? form : null);
}

/** The "/" list of the reply box `text` for conversation `id`: returns the list element, to be
 * placed above the box. Call before the box's own Enter handler is added, so a chosen reply is
 * inserted rather than the message sent. */
export function cannedPicker(text, id) {
  const list = h("ul", { class: "canned-picker", role: "listbox", id: `canned-${id}`, "aria-label": "Canned replies", hidden: true });
  text.setAttribute("aria-autocomplete", "list");
  text.setAttribute("aria-controls", list.id);
  text.setAttribute("aria-expanded", "false");
  let replies = [], loading = null, shown = [], active = 0, token = null;
  const close = () => { list.hidden = true; shown = []; token = null; text.setAttribute("aria-expanded", "false"); text.removeAttribute("aria-activedescendant"); };
  const highlight = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", i === active ? "true" : "false"));
    if (shown.length) text.setAttribute("aria-activedescendant", `${list.id}-${active}`);
  };
  const insert = (reply) => {
    const before = text.value.slice(0, token.start), after = text.value.slice(text.selectionStart);
    text.value = before + reply.text + after;
    const caret = before.length + reply.text.length;
    text.setSelectionRange(caret, caret);
    close();
    text.focus();
  };
  // What is typed before the caret, when it is "/" and a shortcut's start.
  const typed = () => {
    const upto = text.value.slice(0, text.selectionStart);
    const match = upto.match(/(^|\s)\/([\p{L}\p{N}_-]*)$/u);
    return match && { start: upto.length - match[2].length - 1, word: match[2] };
  };
  const update = async () => {
    if (!typed()) { close(); return; }
    // One request for the box's life; every keystroke waits for the same answer.
    loading ??= call("GET", `/conversations/${id}/canned-replies`).then((r) => r.data, () => []);
    replies = await loading;
    // Read again after the wait: a later keystroke may have changed what is typed.
    const now = typed();
    if (!now) { close(); return; }
    token = { start: now.start };
    shown = replies.filter((r) => r.shortcut.startsWith(now.word.toLowerCase())).slice(0, 8);
    active = 0;
    list.replaceChildren(...(shown.length ? shown.map((r, i) => h("li", { role: "option", id: `${list.id}-${i}`, onmousedown: (e) => { e.preventDefault(); insert(r); } },
      h("strong", { class: "mono" }, `/${r.shortcut}`), " ", h("span", {}, r.text))) : [h("li", { class: "muted" }, replies.length ? "No canned reply starts so." : "No canned replies yet.")]));
    list.hidden = false;
    text.setAttribute("aria-expanded", "true");
    highlight();
  };
  text.addEventListener("input", update);
  list.refresh = update;
  text.addEventListener("blur", () => setTimeout(close, 100));
  text.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "Escape") { event.preventDefault(); close(); return; }
    if (!shown.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      highlight();
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      event.preventDefault();
      event.stopImmediatePropagation();
      insert(shown[active]);
    }
  });
  return list;
}
