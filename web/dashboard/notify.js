// Tells the team when a visitor waits for a person, on whichever screen they are: a browser
// notification (when allowed), a short sound, and a message in the page. Only hand-overs that
// reached this person, or nobody at all, are announced.
import { h } from "./ui.js";

let watching = null;

/** Starts listening for hand-overs for `user` (idempotent); returns nothing. */
export function watchHandOvers(user) {
  if (!user) return;
  if (watching) { watching.user = user; return; }
  watching = { user, socket: null, retry: 0, stopped: false };
  connect(watching);
}

/** Stops listening (signing out). */
export function stopWatching() {
  if (!watching) return;
  watching.stopped = true;
  if (watching.socket) watching.socket.close();
  watching = null;
}

/** Asks for permission to show notifications; call from a click (browsers require a gesture). */
export function askForNotifications() {
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
}

function connect(state) {
  if (state.stopped) return;
  const url = new URL("/api/v1/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url);
  state.socket = socket;
  socket.onopen = () => { state.retry = 0; };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type !== "handed_over") return;
    if (event.attended && event.assigned_to !== state.user.id) return;
    announce(event);
  };
  socket.onclose = () => {
    state.socket = null;
    if (!state.stopped) setTimeout(() => connect(state), Math.min(15000, 500 * 2 ** state.retry++));
  };
}

function announce(event) {
  const text = event.attended
    ? "A visitor was handed to you and is waiting for your reply."
    : "A visitor asked for a person, and nobody available has the conversation.";
  chime();
  if ("Notification" in window && Notification.permission === "granted") {
    const shown = new Notification("A visitor is waiting", { body: text, tag: event.conversation_id });
    shown.onclick = () => { window.focus(); location.hash = "#inbox"; shown.close(); };
  }
  toast(text);
}

/** A short two-note chime, made here: no sound file to fetch. */
function chime() {
  try {
    const audio = new AudioContext();
    [660, 880].forEach((pitch, i) => {
      const tone = audio.createOscillator(), level = audio.createGain();
      tone.frequency.value = pitch;
      level.gain.setValueAtTime(0.15, audio.currentTime + i * 0.18);
      level.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + i * 0.18 + 0.3);
      tone.connect(level).connect(audio.destination);
      tone.start(audio.currentTime + i * 0.18);
      tone.stop(audio.currentTime + i * 0.18 + 0.3);
    });
    setTimeout(() => audio.close(), 1000);
  } catch { /* no audio here: the notification and the message still tell */ }
}

function toast(text) {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = h("p", { class: "toast" }, text, " ", h("a", { href: "#inbox", onclick: () => item.remove() }, "Open the inbox"),
    h("button", { type: "button", "aria-label": "Dismiss", onclick: () => item.remove() }, "✕"));
  box.append(item);
  setTimeout(() => item.remove(), 30000);
}
