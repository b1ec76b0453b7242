/* Switchboard chat widget. Embed with:
 *   <script src="https://your-switchboard/widget.js" data-widget="wid_…" async></script>
 * Plain JavaScript in a Shadow DOM: no framework, no build step, no styles leak in or out.
 * Optional attributes: data-name, data-email, data-user-id, data-user-hash and data-email-hash
 * (identity verification, signed by your server), data-language. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.dataset.widget) return;
  const widgetId = script.dataset.widget;
  const base = new URL(script.src, location.href).origin;
  const api = (path) => `${base}/api/v1${path}`;
  // One saved conversation per signed identity: a customer who signs in on a shared browser never
  // continues the conversation of the one who signed in before.
  const signedAs = script.dataset.userHash || script.dataset.emailHash || "";
  const storeKey = `switchboard:${widgetId}${signedAs ? ":" + signedAs.slice(0, 16) : ""}`;
  const saved = () => { try { return JSON.parse(localStorage.getItem(storeKey)) || null; } catch { return null; } };
  const save = (value) => { try { localStorage.setItem(storeKey, JSON.stringify(value)); } catch { /* private mode */ } };
  const browserId = () => {
    try {
      let id = localStorage.getItem("switchboard:browser");
      if (!id) { id = crypto.randomUUID(); localStorage.setItem("switchboard:browser", id); }
      return id;
    } catch { return null; /* private mode: every conversation is a new contact */ }
  };

  const CSS = `
    :host { all: initial; }
    * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    .root { position: fixed; bottom: 20px; z-index: 2147483000; font-size: 15px; line-height: 1.4; color: #111; }
    .root.right { right: 20px; } .root.left { left: 20px; }
    button { font: inherit; cursor: pointer; }
    .launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; background: var(--sb-color);
      color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .launcher:focus-visible, .send:focus-visible, .close:focus-visible, textarea:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
    .panel { position: absolute; bottom: 70px; width: min(370px, calc(100vw - 40px)); height: min(540px, calc(100vh - 110px));
      background: #fff; border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.25); display: flex; flex-direction: column; overflow: hidden; }
    .right .panel { right: 0; } .left .panel { left: 0; }
    .panel[hidden] { display: none; }
    header { background: var(--sb-color); color: #fff; padding: 12px 14px; display: flex; align-items: center; justify-content: space-between; }
    header h2 { font-size: 16px; margin: 0; font-weight: 600; }
    .close { background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; padding: 2px 6px; border-radius: 6px; }
    .log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f6f7f9; }
    .msg { max-width: 82%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; word-wrap: break-word; }
    .msg.visitor { align-self: flex-end; background: var(--sb-color); color: #fff; border-bottom-right-radius: 4px; }
    .msg.bot { align-self: flex-start; background: #fff; border: 1px solid #e3e5e8; border-bottom-left-radius: 4px; }
    .msg.operator { align-self: flex-start; background: #e8f5ee; border: 1px solid #bfe3cd; border-bottom-left-radius: 4px; }
    .msg.system { align-self: center; background: transparent; color: #555; font-size: 13px; font-style: italic; text-align: center; }
    .who { display: block; font-size: 11px; opacity: .75; margin-bottom: 2px; }
    .msg.pending { opacity: .6; }
    .msg.failed { outline: 2px solid #c62828; }
    .typing { padding: 0 14px 6px; font-size: 13px; color: #555; min-height: 20px; background: #f6f7f9; }
    form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e3e5e8; background: #fff; }
    textarea { flex: 1; resize: none; border: 1px solid #c9ccd1; border-radius: 10px; padding: 8px 10px; font: inherit; height: 42px; max-height: 120px; color: #111; background: #fff; }
    .send { border: 0; border-radius: 10px; background: var(--sb-color); color: #fff; padding: 0 14px; }
    .error { color: #b3261e; font-size: 13px; padding: 0 12px 8px; background: #fff; }
    .error:empty { display: none; }
    .act { display: flex; gap: 8px; margin-top: 8px; flex-wrap: wrap; }
    .act button { border-radius: 8px; padding: 5px 12px; border: 1px solid var(--sb-color); background: #fff; color: #111; }
    .act button.yes { background: var(--sb-color); color: #fff; }
    .act button:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
    .act button:disabled { opacity: .5; cursor: default; }
    .act-state { display: block; margin-top: 6px; font-size: 13px; color: #444; }
    .fb { display: flex; gap: 4px; margin-top: 4px; }
    .fb button { border: 1px solid #d5d8dc; background: #fff; border-radius: 6px; padding: 0 6px; font-size: 13px; line-height: 20px; }
    .fb button[aria-pressed="true"] { background: var(--sb-color); color: #fff; border-color: var(--sb-color); }
    .rate { align-self: stretch; border: 1px solid #e3e5e8; border-radius: 10px; padding: 10px; background: #fff; }
    .rate .stars { display: flex; gap: 4px; margin: 6px 0; }
    .rate .stars button { font-size: 20px; border: 0; background: none; color: #b0b4ba; padding: 0 2px; }
    .rate .stars button[aria-pressed="true"] { color: #e0a100; }
    .away { align-self: stretch; font-style: normal; }
    .rate input[type=email] { width: 100%; font: inherit; border: 1px solid #c9ccd1; border-radius: 6px; padding: 6px; margin-top: 6px; }
    .rate textarea { width: 100%; font: inherit; border: 1px solid #c9ccd1; border-radius: 6px; padding: 6px; }
    .rate .send-rating { margin-top: 6px; border-radius: 8px; padding: 5px 12px; border: 0; background: var(--sb-color); color: #fff; }
    .files { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
    .files img { max-width: 100%; max-height: 180px; border-radius: 8px; display: block; }
    .files a, .files button { color: inherit; text-decoration: underline; background: none; border: 0; padding: 0; font: inherit; text-align: start; }
    .attach { display: grid; place-items: center; width: 42px; border: 1px solid #c9ccd1; border-radius: 10px; cursor: pointer; font-size: 18px; }
    .attach:focus-within { outline: 3px solid #111; outline-offset: 2px; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  `;

  const host = document.createElement("div");
  host.id = "switchboard-widget";
  const shadow = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement("style");
    style.textContent = CSS;
    shadow.append(style);
  }
  const root = document.createElement("div");
  root.className = "root right";
  root.innerHTML = `
    <div class="panel" role="dialog" aria-modal="false" aria-labelledby="sb-title" hidden>
      <header><h2 id="sb-title">Chat</h2><button class="close" type="button" aria-label="Close chat">×</button></header>
      <div class="log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversation" tabindex="0"></div>
      <div class="typing" aria-live="polite"></div>
      <div class="error" role="alert"></div>
      <form>
        <label class="sr" for="sb-input">Your message</label>
        <textarea id="sb-input" rows="1" placeholder="Type a message…" autocomplete="off" dir="auto" maxlength="4000"></textarea>
        <label class="attach" title="Attach files"><input class="sr" type="file" multiple aria-label="Attach files"><span aria-hidden="true">📎</span></label>
        <button class="send" type="submit">Send</button>
      </form>
    </div>
    <button class="launcher" type="button" aria-label="Open chat" aria-expanded="false" aria-haspopup="dialog">
      <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>
    </button>`;
  shadow.append(root);
  const $ = (sel) => root.querySelector(sel);
  const panel = $(".panel"), launcher = $(".launcher"), log = $(".log"), input = $("textarea"),
    form = $("form"), errorBox = $(".error"), typingBox = $(".typing"), title = $("#sb-title");

  const state = { config: null, conversation: saved(), seen: new Set(), lastId: null, socket: null, retry: 0, typingTimer: null, sentTyping: 0 };
  const labels = { bot: "Assistant", operator: "Team", system: "" };

  function render(message, { pending = false } = {}) {
    if (message.id && state.seen.has(message.id)) return update(message);
    if (message.id) state.seen.add(message.id);
    const el = document.createElement("div");
    el.className = `msg ${message.author}${pending ? " pending" : ""}`;
    el.dir = "auto";
    if (message.id) el.dataset.id = message.id;
    if (labels[message.author]) {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = labels[message.author];
      el.append(who);
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = (message.author === "operator" && message.translation) ? message.translation.text : message.text;
    el.append(text);
    if (message.attachments && message.attachments.length) el.append(filesList(message.attachments));
    if (message.action) { el.dataset.action = message.action.id; showAction(el, message.action); }
    // Not on a card asking to agree to an action: its buttons are the answer there.
    if (message.author === "bot" && message.id && !message.action) el.append(feedbackButtons(message.id));
    log.append(el);
    log.scrollTop = log.scrollHeight;
    if (message.id && message.seq) state.lastId = message.id;
    return el;
  }

  /** A file of the conversation, fetched with the visitor's token, as a local object URL. */
  async function fileUrl(file) {
    const response = await fetch(api(file.url.replace(/^\/api\/v1/, "")), { headers: { authorization: `Bearer ${state.conversation.token}` } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  }

  /** The files of a message: pictures shown; anything else downloaded when asked for. */
  function filesList(files) {
    const list = document.createElement("ul");
    list.className = "files";
    for (const file of files) {
      const item = document.createElement("li");
      if (["image/png", "image/jpeg", "image/gif", "image/webp"].includes(file.content_type)) {
        const img = document.createElement("img");
        img.alt = file.name;
        // The picture's copy is let go once shown.
        img.addEventListener("load", () => URL.revokeObjectURL(img.src), { once: true });
        fileUrl(file).then((url) => { img.src = url; }).catch(() => { img.replaceWith(file.name); });
        item.append(img);
      } else {
        const link = document.createElement("button");
        link.type = "button";
        link.textContent = `📎 ${file.name}`;
        link.addEventListener("click", async () => {
          try {
            const a = document.createElement("a");
            a.href = await fileUrl(file);
            a.download = file.name;
            a.click();
            // The browser has started the download from it; the copy is let go after.
            setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
          } catch (err) { errorBox.textContent = err.message; }
        });
        item.append(link);
      }
      list.append(item);
    }
    return list;
  }

  /** Sends the picked files (and what is typed, as their caption). */
  async function sendFiles(files) {
    errorBox.textContent = "";
    try {
      await ensureConversation();
      const form = new FormData();
      for (const file of files) form.append("file", file, file.name);
      const caption = input.value.trim();
      if (caption) form.append("text", caption);
      const response = await fetch(api(`/widget/conversations/${state.conversation.id}/attachments`), {
        method: "POST", body: form, headers: { authorization: `Bearer ${state.conversation.token}` } });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
      input.value = "";
      render(body.data);
      connect();
    } catch (err) { errorBox.textContent = `Not sent: ${err.message}`; }
  }

  /** "Helpful" / "Not helpful" on a reply of the assistant; the last choice counts. */
  function feedbackButtons(id) {
    const box = document.createElement("span");
    box.className = "fb";
    for (const [helpful, label, sign] of [[true, "Helpful", "👍"], [false, "Not helpful", "👎"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = sign;
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", async () => {
        try {
          await request(`/widget/conversations/${state.conversation.id}/messages/${id}/feedback`, { method: "POST", body: JSON.stringify({ helpful }) });
          box.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", b === button ? "true" : "false"));
        } catch (err) { errorBox.textContent = err.message; }
      });
      box.append(button);
    }
    return box;
  }

  /** Outside office hours: when the team is back, and (if the widget asks) an e-mail address
   * to reply to, kept with the conversation. */
  function showAway(hours) {
    const box = document.createElement("div");
    box.className = "msg system away";
    const back = hours.next_open_at
      ? ` We're back ${new Intl.DateTimeFormat(undefined, { weekday: "long", hour: "2-digit", minute: "2-digit" }).format(new Date(hours.next_open_at))}.`
      : "";
    const line = document.createElement("span");
    line.className = "text";
    line.textContent = hours.offline_message || `We're away right now.${back}`;
    box.append(line);
    if (hours.ask_email) {
      const form = document.createElement("form");
      form.className = "rate";
      form.setAttribute("aria-label", "Leave your e-mail");
      const hint = document.createElement("span");
      hint.textContent = "Leave your e-mail address and we'll reply there.";
      const email = document.createElement("input");
      email.type = "email";
      email.required = true;
      email.autocomplete = "email";
      email.setAttribute("aria-label", "Your e-mail");
      const submit = document.createElement("button");
      submit.type = "submit";
      submit.className = "send-rating";
      submit.textContent = "Send e-mail address";
      form.append(hint, email, submit);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await ensureConversation();
          await request(`/widget/conversations/${state.conversation.id}/email`, { method: "POST", body: JSON.stringify({ email: email.value }) });
          form.replaceChildren(Object.assign(document.createElement("span"), { textContent: `Thanks — we'll reply to ${email.value}.` }));
        } catch (err) { errorBox.textContent = err.message; }
      });
      box.append(form);
    }
    log.append(box);
  }

  /** Once the conversation is closed: how was it, 1–5, and anything to add. */
  function showRating() {
    if (!state.conversation || state.conversation.rated || log.querySelector(".rate")) return;
    const box = document.createElement("form");
    box.className = "rate";
    box.setAttribute("aria-label", "Rate this conversation");
    const question = document.createElement("span");
    question.textContent = "How was this conversation?";
    const stars = document.createElement("div");
    stars.className = "stars";
    stars.setAttribute("role", "group");
    stars.setAttribute("aria-label", "Rating");
    let score = 0;
    for (let n = 1; n <= 5; n++) {
      const star = document.createElement("button");
      star.type = "button";
      star.textContent = "★";
      star.setAttribute("aria-label", n === 1 ? "1 star" : `${n} stars`);
      star.setAttribute("aria-pressed", "false");
      star.addEventListener("click", () => {
        score = n;
        stars.querySelectorAll("button").forEach((b, i) => b.setAttribute("aria-pressed", i < n ? "true" : "false"));
      });
      stars.append(star);
    }
    const comment = document.createElement("textarea");
    comment.rows = 2;
    comment.maxLength = 2000;
    comment.placeholder = "Anything to add? (optional)";
    comment.setAttribute("aria-label", "Comment");
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "send-rating";
    submit.textContent = "Send rating";
    box.append(question, stars, comment, submit);
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!score) { errorBox.textContent = "Choose 1 to 5 stars first."; return; }
      try {
        await request(`/widget/conversations/${state.conversation.id}/rating`, { method: "POST", body: JSON.stringify({ score, comment: comment.value }) });
        state.conversation.rated = true;
        save(state.conversation);
        box.replaceChildren(Object.assign(document.createElement("span"), { textContent: "Thank you for your rating!" }));
      } catch (err) { errorBox.textContent = err.message; }
    });
    log.append(box);
    log.scrollTop = log.scrollHeight;
  }

  function update(message) {
    const el = log.querySelector(`[data-id="${message.id}"] .text`);
    if (el && message.author === "operator" && message.translation) el.textContent = message.translation.text;
    const bubble = log.querySelector(`[data-id="${message.id}"]`);
    if (bubble && message.action) showAction(bubble, message.action);
  }

  // An action the assistant proposes: it happens only if the visitor presses Confirm (typing
  // "yes" does nothing), and only once — the buttons go away as soon as one is pressed.
  const ACTION_STATES = {
    confirmed: "Confirmed — working on it…", executed: "Done.", failed: "This could not be done.",
    cancelled: "Cancelled.", denied: "Declined by our team.", expired: "This request expired.",
    stale: "Something changed; nothing was done.",
  };

  function showAction(el, action) {
    el.querySelectorAll(".act, .act-state").forEach((old) => old.remove());
    const asksVisitor = action.state === "pending" && (action.needs || []).includes("visitor");
    if (asksVisitor) {
      const group = document.createElement("div");
      group.className = "act";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", action.summary);
      for (const [verb, label, cls] of [["confirm", "Confirm", "yes"], ["cancel", "Cancel", "no"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = cls;
        button.textContent = label;
        button.addEventListener("click", () => decide(el, action, verb, group));
        group.append(button);
      }
      el.append(group);
      return;
    }
    const status = document.createElement("span");
    status.className = "act-state";
    status.textContent = action.state === "pending" ? "Waiting for a member of our team to approve." : (ACTION_STATES[action.state] || "");
    el.append(status);
  }

  async function decide(el, action, verb, group) {
    group.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    errorBox.textContent = "";
    try {
      const decided = await request(`/widget/conversations/${state.conversation.id}/actions/${action.id}/${verb}`, { method: "POST" });
      showAction(el, decided.action);
      (decided.replies || []).forEach((m) => render(m));
    } catch (err) {
      errorBox.textContent = err.message;
      // Decided meanwhile (another tab, the team) or expired: show it as it stands now.
      if (err.status === 409 || err.status === 410) await loadHistory();
      else group.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  async function request(path, options = {}) {
    const headers = { "content-type": "application/json" };
    if (state.conversation) headers.authorization = `Bearer ${state.conversation.token}`;
    const response = await fetch(api(path), { ...options, headers });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const err = new Error(body.error ? body.error.message : `HTTP ${response.status}`);
      err.status = response.status;
      err.field = body.error && body.error.field;
      throw err;
    }
    return body.data;
  }

  function visitorInfo() {
    const d = script.dataset, visitor = {};
    if (d.name) visitor.name = d.name;
    if (d.email) visitor.email = d.email;
    if (d.userId) visitor.user_id = d.userId;
    if (d.userHash) visitor.user_hash = d.userHash;
    if (d.emailHash) visitor.email_hash = d.emailHash;
    visitor.language = d.language || (navigator.language || "en").slice(0, 35);
    // Only so the team can tell anonymous visitors apart ("Visitor from Berlin"): no location
    // lookup, just the time zone the browser runs in.
    try { const zone = Intl.DateTimeFormat().resolvedOptions().timeZone; if (zone) visitor.time_zone = zone.slice(0, 64); } catch { /* no Intl */ }
    // A random id for this browser, so a visitor who comes back is the same contact for the
    // team (their history beside the conversation). The server keeps only its hash.
    const id = browserId();
    if (id) visitor.browser_id = id;
    return visitor;
  }

  async function start(visitor) {
    return request(`/widget/${widgetId}/conversations`, { method: "POST", body: JSON.stringify({ visitor }) });
  }

  async function ensureConversation() {
    if (state.conversation) return;
    const visitor = visitorInfo();
    // A time zone the server does not take must not keep the visitor from chatting.
    const started = await start(visitor).catch((err) => {
      if (err.status !== 422 || err.field !== "visitor.time_zone") throw err;
      delete visitor.time_zone;
      return start(visitor);
    });
    state.conversation = { id: started.conversation_id, token: started.visitor_token };
    save(state.conversation);
    connect();
  }

  function connect() {
    if (!state.conversation || state.socket) return;
    const url = new URL(api(`/widget/conversations/${state.conversation.id}/ws`));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", state.conversation.token);
    if (state.lastId) url.searchParams.set("after", state.lastId);
    const socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = () => { state.retry = 0; };
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "message") {
        const pending = log.querySelector(".msg.pending");
        if (pending && data.message.author === "visitor" && pending.querySelector(".text").textContent === data.message.text) {
          pending.classList.remove("pending");
          pending.dataset.id = data.message.id;
          state.seen.add(data.message.id);
          state.lastId = data.message.id;
        } else {
          render(data.message);
        }
        if (data.message.author !== "visitor") typingBox.textContent = "";
      } else if (data.type === "message_updated") {
        update(data.message);
      } else if (data.type === "action_updated") {
        // Decided elsewhere (a person, another tab) or done: the card follows.
        const bubble = log.querySelector(`[data-action="${data.action.id}"]`);
        if (bubble) showAction(bubble, data.action);
      } else if (data.type === "conversation_updated") {
        if (data.status === "closed") showRating();
      } else if (data.type === "typing") {
        typingBox.textContent = data.typing ? "Someone is typing…" : "";
      } else if (data.type === "resync") {
        socket.close();
      }
    };
    socket.onclose = () => {
      state.socket = null;
      if (!state.conversation) return;
      // Reconnect with backoff; `after` resumes exactly where this socket stopped.
      const delay = Math.min(15000, 500 * 2 ** state.retry++);
      setTimeout(connect, delay);
    };
  }

  async function loadHistory() {
    if (!state.conversation) return;
    try {
      const messages = await request(`/widget/conversations/${state.conversation.id}/messages`);
      messages.forEach((m) => render(m));
      const conversation = await request(`/widget/conversations/${state.conversation.id}`);
      if (conversation.status === "closed") showRating();
    } catch (err) {
      if (err.status === 401 || err.status === 404) { state.conversation = null; localStorage.removeItem(storeKey); }
    }
  }

  async function send(text) {
    errorBox.textContent = "";
    const bubble = render({ author: "visitor", text }, { pending: true });
    try {
      await ensureConversation();
      await request(`/widget/conversations/${state.conversation.id}/messages`, { method: "POST", body: JSON.stringify({ text }) });
      connect();
    } catch (err) {
      bubble.classList.remove("pending");
      bubble.classList.add("failed");
      errorBox.textContent = `Not sent: ${err.message}`;
      input.value = input.value || text;
    }
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    input.focus();
    connect();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  $(".close").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  const picker = $(".attach input");
  picker.addEventListener("change", () => {
    if (picker.files.length) sendFiles([...picker.files]);
    picker.value = "";
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (state.socket && state.socket.readyState === 1 && now - state.sentTyping > 2000) {
      state.sentTyping = now;
      state.socket.send(JSON.stringify({ type: "typing", typing: true }));
    }
  });

  async function boot() {
    try {
      state.config = await (await fetch(api(`/widget/${widgetId}/config`))).json().then((b) => b.data);
    } catch { return; }
    if (!state.config) return;
    root.style.setProperty("--sb-color", state.config.primary_color || "#2563eb");
    root.className = `root ${state.config.position === "bottom-left" ? "left" : "right"}`;
    title.textContent = state.config.name || "Chat";
    if (state.config.greeting) render({ author: "bot", text: state.config.greeting });
    if (state.config.office_hours && !state.config.office_hours.open) showAway(state.config.office_hours);
    (document.body || document.documentElement).append(host);
    await loadHistory();
    if (state.conversation) connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot); else boot();
})();
