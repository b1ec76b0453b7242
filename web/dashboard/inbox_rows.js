// How the inbox tells conversations apart: who writes (a name, an e-mail, or where and with
// which browser an anonymous visitor writes from), the newest message's first line, when,
// through which channel, and whether there is something new to read.
import { h } from "./ui.js";
import { chip } from "./labels.js";

/** The place a time zone is named after: "Europe/Berlin" → "Berlin", "America/New_York" →
 * "New York". Zones named after no place ("UTC", "Etc/GMT+5") give "". */
export function placeOf(zone) {
  if (!zone || !zone.includes("/") || zone.startsWith("Etc/")) return "";
  return zone.slice(zone.lastIndexOf("/") + 1).replace(/_/g, " ");
}

/** What to call a visitor: their name, else their e-mail, else "Visitor from Berlin, Chrome"
 * (as much of it as is known), else "Visitor". */
export function visitorLabel(visitor = {}) {
  if (visitor.name) return visitor.name;
  if (visitor.email) return visitor.email;
  const place = placeOf(visitor.time_zone), browser = visitor.browser;
  if (place) return browser ? `Visitor from ${place}, ${browser}` : `Visitor from ${place}`;
  return browser ? `Visitor on ${browser}` : "Visitor";
}

const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const dayMonth = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
const dayMonthYear = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });

/** "14:05" today, "Yesterday", "3 Dec" earlier this year, "3 Dec 2023" before that. */
export function compactTime(date, now = new Date()) {
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  // Rounded: a day with a daylight-saving change is 23 or 25 hours long.
  const days = Math.round((midnight(now) - midnight(date)) / 86400000);
  if (days <= 0) return clock.format(date);
  if (days === 1) return "Yesterday";
  return (date.getFullYear() === now.getFullYear() ? dayMonth : dayMonthYear).format(date);
}

/** Who wrote the newest message, when it was not the visitor. */
function byline(last, me) {
  if (last.author === "operator") return last.author_user_id && last.author_user_id === me.user?.id ? "You: " : "Operator: ";
  if (last.author === "bot") return "Bot: ";
  return "";
}

/** `message` as the list shows the newest one: its first line, at most 140 characters (as the
 * server cuts it, counting characters rather than UTF-16 units). */
export function lastMessageOf(message) {
  const line = Array.from(message.text.trim().split("\n")[0].trimEnd());
  const text = line.length > 140 ? `${line.slice(0, 139).join("").trimEnd()}…` : line.join("");
  return { author: message.author, author_user_id: message.author_user_id, text, created_at: message.created_at };
}

const CHANNELS = { telegram: "Telegram", whatsapp: "WhatsApp", email: "E-mail" };

/** Where the customer writes from: the widget's chat, or a channel (Telegram, WhatsApp). */
export function via(c, widget) {
  const kind = c.channel ? c.channel.kind : "widget";
  return kind === "widget" ? `Chat · ${widget ? widget.name : "widget"}` : CHANNELS[kind] || kind;
}

/** One conversation of the list, a button that opens it. The open one is never shown unread:
 * it is being read. */
export function conversationRow(c, { me, open, widgets, labels = [], onOpen }) {
  const unread = c.unread && !open;
  const last = c.last_message;
  const when = new Date(last ? last.created_at : c.last_message_at || c.created_at);
  const widget = widgets.find((w) => w.id === c.widget_id);
  const owner = c.assigned_to ? (c.assigned_to === me.user?.id ? "mine" : "assigned") : null;
  const meta = [via(c, widget), c.status, owner].filter(Boolean).join(" · ");
  return h("li", {}, h("button", { class: unread ? "row unread" : "row", "aria-current": open ? "true" : "false", "data-id": c.id, onclick: onOpen },
    h("span", { class: "name" },
      unread ? h("span", { class: "dot", role: "img", "aria-label": "unread" }) : null,
      h("span", { class: "label", dir: "auto" }, visitorLabel(c.visitor))),
    h("time", { class: "when", datetime: when.toISOString(), title: when.toLocaleString() }, compactTime(when)),
    h("span", { class: "preview", dir: "auto" }, last ? `${byline(last, me)}${last.text}` : "No messages yet"),
    h("span", { class: "meta" }, meta),
    c.labels && c.labels.length ? h("span", { class: "row-labels" }, c.labels.map((n) => chip(n, labels))) : null));
}
