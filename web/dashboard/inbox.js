// The operator inbox: live conversation list, thread, details and trace.
import { call, h, explain } from "./ui.js";
import { actionCard, approvalQueue } from "./actions.js";
import { conversationRow, lastMessageOf, visitorLabel } from "./inbox_rows.js";
import { labelPicker } from "./labels.js";
import { cannedPicker } from "./canned.js";
import { contactDetails } from "./contacts.js";
import { attachButton, attachmentsEl } from "./files.js";

const labels = { visitor: "Visitor", bot: "Bot", operator: "Operator", system: "" };

/** The inbox; `openId` (from `#inbox/cnv_…`) opens that conversation. */
export async function showInbox(main, me, openId) {
  const state = { me, conversations: [], current: null, messages: [], users: [], teams: [], widgets: [], labels: [], filter: { q: "", status: "", assigned: "", widget: "", label: "", from: "", to: "" }, socket: null, retry: 0, left: false };

  const list = h("ul", { "aria-label": "Conversations" });
  let queue = h("div", { class: "approvals" });
  const statusFilter = h("select", { "aria-label": "Status" }, ["", "open", "pending", "closed"].map((s) => h("option", { value: s }, s || "all statuses")));
  const assignedFilter = h("select", { "aria-label": "Assigned" }, h("option", { value: "" }, "everyone"), h("option", { value: "me" }, "mine"), h("option", { value: "unassigned" }, "unassigned"));
  const widgetFilter = h("select", { "aria-label": "Widget" }, h("option", { value: "" }, "all widgets"));
  const labelFilter = h("select", { "aria-label": "Label" }, h("option", { value: "" }, "all labels"));
  // Search: every word, in what was said, who the visitor is, notes, labels and variables.
  const search = h("input", { type: "search", "aria-label": "Search conversations", placeholder: "Search…" });
  const fromFilter = h("input", { type: "date", "aria-label": "Started from" });
  const toFilter = h("input", { type: "date", "aria-label": "Started until" });
  const thread = h("section", { class: "thread", "aria-label": "Conversation" }, h("p", { class: "empty" }, "Choose a conversation."));
  const details = h("aside", { class: "details", "aria-label": "Details" });
  main.classList.add("inbox-screen");
  // On a phone the list and the open conversation take turns (`reading` shows the thread).
  const layout = h("div", { class: "inbox" },
    // Availability is switched in the header, on every screen.
    h("section", { class: "list", "aria-label": "Conversation list" }, h("search", { class: "filters" }, search, statusFilter, assignedFilter, widgetFilter, labelFilter, fromFilter, toFilter), queue, list),
    thread, details);
  main.replaceChildren(h("h1", { class: "visually-hidden" }, "Inbox"), layout);

  for (const [select, key] of [[statusFilter, "status"], [assignedFilter, "assigned"], [widgetFilter, "widget"], [labelFilter, "label"], [fromFilter, "from"], [toFilter, "to"]]) {
    select.addEventListener("change", () => { state.filter[key] = select.value; loadList(); });
  }
  // The list follows the search as it is typed, once typing pauses.
  let searchTimer = 0;
  const searched = () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { state.filter.q = search.value.trim(); loadList(); }, 250);
  };
  // "search" also comes when Escape or the clear button empties the box.
  search.addEventListener("input", searched);
  search.addEventListener("search", searched);

  const isOpen = (id) => Boolean(state.current && state.current.id === id);
  const updateTitle = () => {
    const total = state.conversations.filter((c) => c.unread && !isOpen(c.id)).length;
    document.title = total ? `(${total}) Switchboard inbox` : "Switchboard inbox";
  };

  function beep() {
    try {
      const audio = new AudioContext(), osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.05;
      osc.connect(gain).connect(audio.destination); osc.start(); osc.stop(audio.currentTime + 0.12);
    } catch { /* no audio */ }
  }

  function renderList() {
    // Rows move when messages arrive: the keyboard focus stays on the row it was on.
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    list.replaceChildren(...state.conversations.map((c) =>
      conversationRow(c, { me, open: isOpen(c.id), widgets: state.widgets, labels: state.labels, onOpen: () => open(c.id, { focus: true }) })));
    if (focused) list.querySelector(`[data-id="${focused}"]`)?.focus();
    updateTitle();
  }

  // Loads overlap when events come fast; only the latest one's answer is shown.
  let listLoads = 0;
  async function loadList() {
    const q = new URLSearchParams();
    const f = state.filter;
    for (const [name, value] of [["q", f.q], ["status", f.status], ["assigned_to", f.assigned], ["widget_id", f.widget], ["label", f.label], ["from", f.from], ["to", f.to]]) {
      if (value) q.set(name, value);
    }
    const load = ++listLoads;
    try {
      const conversations = (await call("GET", `/conversations?${q}`)).data;
      if (load !== listLoads) return;
      state.conversations = conversations;
      renderList();
      if (!conversations.length) list.append(h("li", { class: "empty" }, f.q ? `Nothing found for “${f.q}”.` : "No conversations."));
      const fresh = await approvalQueue(open);
      queue.replaceWith(fresh);
      queue = fresh;
    } catch (err) { list.replaceChildren(h("li", { class: "error" }, explain(err))); }
  }

  function messageEl(m) {
    if (m.private) {
      const by = state.users.find((u) => u.id === m.author_user_id);
      return h("div", { class: "msg note", dir: "auto", "data-id": m.id },
        h("span", { class: "who" }, `Private note${by ? ` · ${by.email}` : ""} · not sent to the visitor`), m.text);
    }
    return h("div", { class: `msg ${m.author}`, dir: "auto", "data-id": m.id },
      labels[m.author] ? h("span", { class: "who" }, labels[m.author]) : null,
      m.text,
      attachmentsEl(m.attachments),
      m.translation ? h("span", { class: "translation", lang: m.translation.language }, `${m.translation.language}: ${m.translation.text}`) : null,
      m.action ? actionCard(m.action, () => { if (state.current) open(state.current.id); loadList(); }) : null);
  }

  function renderDetails(conversation, trace) {
    const rows = (obj) => h("table", {}, h("tbody", {}, Object.entries(obj).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, typeof v === "string" ? v : JSON.stringify(v))))));
    const summary = (e) => {
      const d = e.data || {};
      if (e.kind === "rule_fired") return d.rule;
      if (e.kind === "api_call") return `${d.endpoint || ""} ${d.method || ""} ${d.status ?? ""} ${d.latency_ms ?? ""} ms${d.error ? ` — ${d.error.code}` : ""}`;
      if (e.kind === "variable_set") return `${d.name} = ${JSON.stringify(d.value)}`;
      if (e.kind === "reply") return d.text;
      return d.reason || d.rule || (d.error && d.error.code) || "";
    };
    details.replaceChildren(
      ...opinions(conversation),
      h("h3", {}, "Visitor"), rows(conversation.visitor),
      h("h3", {}, "Variables"), Object.keys(conversation.variables).length ? rows(conversation.variables) : h("p", { class: "empty" }, "None yet."),
      h("h3", {}, "Trace"),
      h("ol", { class: "trace" }, trace.map((e) => h("li", {}, h("span", { class: `kind${e.data && e.data.ok === false ? " bad" : ""}` }, e.kind), " ", summary(e)))));
  }

  /** What the visitor thought: their rating and their marks on the bot's replies. */
  function opinions(conversation) {
    const r = conversation.rating, feedback = conversation.feedback || [];
    if (!r && !feedback.length) return [];
    const helpful = feedback.filter((f) => f.helpful).length;
    return [h("h3", {}, "Visitor's view"),
      r ? h("p", { class: "rating" }, h("span", { "aria-hidden": "true" }, "★".repeat(r.score) + "☆".repeat(5 - r.score)), ` ${r.score} of 5`, r.comment ? h("br") : null, r.comment ? `“${r.comment}”` : null) : null,
      feedback.length ? h("p", {}, `Replies: ${helpful} helpful, ${feedback.length - helpful} not helpful`) : null];
  }

  /** Marks the conversation read for the signed-in person (it shows as read at once). */
  async function markRead(id) {
    const listed = state.conversations.find((c) => c.id === id);
    if (listed) listed.unread = false;
    try { await call("POST", `/conversations/${id}/read`); } catch { /* the next load shows it unread again */ }
  }

  // Set when a person opens a conversation: the reply box gets the focus.
  let focusReply = false;

  async function open(id, { focus = false } = {}) {
    focusReply = focus;
    markRead(id);
    let conversation, messages, trace;
    try {
      [conversation, messages, trace] = await Promise.all([
        call("GET", `/conversations/${id}`), call("GET", `/conversations/${id}/messages`), call("GET", `/conversations/${id}/trace`)]);
    } catch (err) { thread.replaceChildren(h("p", { class: "error", role: "alert" }, explain(err))); return; }
    state.current = conversation.data;
    layout.classList.add("reading");
    // What arrived live while this was loading (a reply, a file, a note) stays: the answer may
    // have been read before it was stored.
    const fetched = messages.data;
    const live = state.messages.filter((m) => m.conversation_id === id && !fetched.some((f) => f.id === m.id));
    state.messages = fetched.concat(live).sort((a, b) => a.seq - b.seq || (a.private ? 1 : 0) - (b.private ? 1 : 0) || a.created_at.localeCompare(b.created_at));
    renderList();
    renderThread();
    renderDetails(conversation.data, trace.data);
    const contact = await contactDetails(conversation.data, (other) => open(other, { focus: true }));
    if (state.current && state.current.id === id) details.prepend(...contact);
  }

  function renderThread() {
    const c = state.current;
    const box = h("div", { class: "messages", role: "log", "aria-live": "polite", "aria-label": "Messages" }, state.messages.map(messageEl));
    const error = h("p", { class: "error", role: "alert" });
    const text = h("textarea", { "aria-label": "Reply", placeholder: "Write a reply…" });
    const assign = h("select", { "aria-label": "Assign to" },
      h("option", { value: "" }, "Assign…"),
      me.user ? h("option", { value: `user:${me.user.id}` }, "me") : null,
      state.users.filter((u) => !me.user || u.id !== me.user.id).map((u) => h("option", { value: `user:${u.id}` }, u.email)),
      state.teams.map((t) => h("option", { value: `team:${t.id}` }, `team ${t.name}`)));
    assign.addEventListener("change", async () => {
      const [kind, id] = assign.value.split(":");
      if (!id) return;
      try { await call("POST", `/conversations/${c.id}/assign`, kind === "team" ? { team_id: id } : { user_id: id }); await open(c.id); }
      catch (err) { error.textContent = explain(err); }
    });
    const toggle = c.status === "closed"
      ? h("button", { onclick: () => act("reopen") }, "Reopen")
      : h("button", { onclick: () => act("close") }, "Close");
    async function act(what) {
      try { await call("POST", `/conversations/${c.id}/${what}`, {}); await open(c.id); await loadList(); }
      catch (err) { error.textContent = explain(err); }
    }
    // Admins pin a conversation as it went: a test case that replays it (Test suites).
    const admin = me.role === "admin" || me.role === "owner";
    const saveAsTest = admin ? h("button", { type: "button", onclick: async () => {
      try { location.hash = `#tests/${(await call("POST", `/conversations/${c.id}/save-as-test`, {})).data.id}`; }
      catch (err) { error.textContent = explain(err); }
    } }, "Save as test") : null;
    const hint = h("p", { class: "hint composer-hint", id: "composer-hint" }, "Enter sends · Shift+Enter starts a new line · / inserts a canned reply");
    text.setAttribute("aria-describedby", "composer-hint");
    // Reply to the visitor, or write a note only the team sees (the box turns yellow).
    const send = h("button", { class: "primary", type: "submit" }, "Send");
    const mode = (private_) => {
      state.noteMode = private_;
      form.classList.toggle("note-mode", private_);
      // Named apart from the switches above it, so each control has a name of its own.
      text.setAttribute("aria-label", private_ ? "Note for the team" : "Reply");
      text.placeholder = private_ ? "Write a note only your team sees…" : "Write a reply…";
      send.textContent = private_ ? "Add note" : "Send";
      // Files go to the visitor: not offered while writing a note.
      attach.hidden = private_;
    };
    const choice = (label, private_) => h("label", {}, h("input", { type: "radio", name: `compose-${c.id}`, checked: Boolean(state.noteMode) === private_, onchange: () => { mode(private_); text.focus(); } }), label);
    const modes = h("div", { class: "compose-mode", role: "radiogroup", "aria-label": "Write" }, choice("To the visitor", false), choice("Private note", true));
    const replyBox = () => thread.querySelector(".composer textarea");
    const attach = attachButton(c.id, replyBox, (sent) => addToThread(sent), (failure) => { error.textContent = failure; });
    const form = h("form", { class: "composer" }, text, attach, send);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      error.textContent = "";
      try {
        const sent = (await call("POST", `/conversations/${c.id}/messages`, { text: value, private: Boolean(state.noteMode) })).data;
        text.value = "";
        if (sent.private) addToThread(sent);
      } catch (err) {
        // What the operator typed stays in the box.
        error.textContent = `Not sent: ${explain(err)}`;
      }
    });
    // "/" lists the canned replies; its keys come first (Enter there inserts, not sends).
    const canned = cannedPicker(text, c.id);
    // As in every chat tool: Enter sends, Shift+Enter breaks the line (not while composing
    // with an input method).
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
    });
    text.addEventListener("input", () => sendTyping(c.id));
    // A live update re-renders the thread: what the operator was typing stays, and so does focus.
    const previous = thread.querySelector(".composer textarea");
    if (previous && thread.dataset.conversation === c.id) text.value = previous.value;
    const typing = previous && document.activeElement === previous;
    // An open label list stays open (and its focus where it was) when the thread is drawn again.
    const picking = thread.dataset.conversation === c.id && thread.querySelector(".label-picker[open]");
    const pickedFocus = picking && picking.contains(document.activeElement) ? document.activeElement.value ?? null : null;
    thread.dataset.conversation = c.id;
    thread.replaceChildren(
      h("div", { class: "head" },
        h("button", { type: "button", class: "back", onclick: () => { state.current = null; layout.classList.remove("reading"); renderList(); list.querySelector(`[data-id="${c.id}"]`)?.focus(); } }, "← Conversations"),
        h("h2", {}, visitorLabel(c.visitor)), h("span", { class: "status" }, c.status), assign, toggle, saveAsTest),
      labelPicker(c, state.labels, async (names) => {
        const set = (await call("PUT", `/conversations/${c.id}/labels`, { labels: names })).data.labels;
        state.current.labels = set;
        renderThread();
        loadList();
      }),
      box, h("div", { class: "typing", "aria-live": "polite" }), error, modes, canned, form, hint);
    mode(Boolean(state.noteMode));
    box.scrollTop = box.scrollHeight;
    if (picking) {
      const picker = thread.querySelector(".label-picker");
      picker.open = true;
      if (pickedFocus !== null) picker.querySelector(`input[value="${CSS.escape(pickedFocus)}"]`)?.focus();
    }
    if (typing || focusReply) text.focus();
    // Typing goes on where it was, with the "/" list still open if it was.
    if (typing) { text.setSelectionRange(previous.selectionStart, previous.selectionEnd); canned.refresh(); }
    focusReply = false;
  }

  let lastTyping = 0;
  function sendTyping(id) {
    const now = Date.now();
    if (state.socket && state.socket.readyState === 1 && now - lastTyping > 2000) {
      lastTyping = now;
      state.socket.send(JSON.stringify({ type: "typing", conversation_id: id, typing: true }));
    }
  }

  /** Appends a message or note of the open conversation, once. */
  function addToThread(m) {
    if (state.messages.some((seen) => seen.id === m.id)) return;
    state.messages.push(m);
    const box = thread.querySelector(".messages");
    box.append(messageEl(m));
    box.scrollTop = box.scrollHeight;
  }

  function onEvent(event) {
    const current = state.current && event.conversation_id === state.current.id;
    if (event.type === "message_created") {
      const fromVisitor = event.message.author === "visitor";
      const listed = state.conversations.find((c) => c.id === event.conversation_id);
      if (listed) {
        // To the top at once; the reload below confirms the order and what is unread.
        listed.last_message = lastMessageOf(event.message);
        listed.last_message_at = event.message.created_at;
        if (fromVisitor && !current) listed.unread = true;
        state.conversations = [listed, ...state.conversations.filter((c) => c !== listed)];
        renderList();
      }
      if (current) {
        addToThread(event.message);
        thread.querySelector(".typing").textContent = "";
      }
      if (fromVisitor && (!current || document.hidden)) beep();
      // The open conversation is being read: marked so before the list is loaded again.
      (current && fromVisitor ? markRead(event.conversation_id) : Promise.resolve()).then(loadList);
    } else if (event.type === "labels_changed") {
      if (current) { state.current.labels = event.labels; renderThread(); }
      loadList();
    } else if (event.type === "note_created" && current) {
      addToThread(event.note);
    } else if (event.type === "message_updated" && current) {
      const el = thread.querySelector(`[data-id="${event.message.id}"]`);
      if (el) el.replaceWith(messageEl(event.message));
    } else if (event.type === "conversation_created" || event.type === "conversation_updated") {
      loadList();
      if (current) open(state.current.id);
    } else if (event.type === "action_changed") {
      loadList();
      if (current) open(state.current.id);
    } else if (event.type === "typing" && current) {
      thread.querySelector(".typing").textContent = event.typing ? "The visitor is typing…" : "";
    } else if (event.type === "resync") {
      state.socket.close();
    }
  }

  function connect() {
    if (state.left) return;
    const url = new URL("/api/v1/ws", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = () => {
      // After a reconnect, fetch what happened while the socket was down.
      if (state.retry > 0) { loadList(); if (state.current) open(state.current.id); }
      state.retry = 0;
    };
    socket.onmessage = (msg) => onEvent(JSON.parse(msg.data));
    socket.onclose = () => { state.socket = null; if (!state.left) setTimeout(connect, Math.min(15000, 500 * 2 ** state.retry++)); };
  }

  try {
    const [users, teams, widgets, labels] = await Promise.all([call("GET", "/users?limit=200"), call("GET", "/teams?limit=200"), call("GET", "/widgets?limit=200"), call("GET", "/labels")]);
    state.users = users.data; state.teams = teams.data; state.widgets = widgets.data; state.labels = labels.data;
    widgetFilter.append(...state.widgets.map((w) => h("option", { value: w.id }, w.name)));
    labelFilter.append(...state.labels.map((l) => h("option", { value: l.name }, l.name)));
    labelFilter.hidden = !state.labels.length;
  } catch (err) { details.replaceChildren(h("p", { class: "error" }, explain(err))); }
  await loadList();
  connect();
  if (openId) open(openId);
  // Leaving the inbox: no more live updates or reconnects.
  return () => { state.left = true; if (state.socket) state.socket.close(); };
}
