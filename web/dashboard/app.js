// Switchboard dashboard: plain ES modules, no build step. app.js holds the API helper, sign-in
// and the router; each screen is a module that renders into the page's main area.
import { showInbox } from "./inbox.js";
import { showStart } from "./start.js";
import { showTests, showTest } from "./tests.js";
import { showConnections, showConnection } from "./connections.js";
import { showEndpoint } from "./endpoints.js";
import { showRules, showRule } from "./rules.js";
import { showWidgets, showWidget } from "./widgets.js";
import { showKnowledge } from "./knowledge.js";
import { showAi } from "./ai.js";
import { showTeam } from "./team.js";
import { showContacts, showContact } from "./contacts.js";
import { showAnalytics } from "./analytics.js";
import { showWebhooks, showWebhook } from "./webhooks.js";
import { showChannels } from "./channels.js";
import { forgotForm, linkForm } from "./passwords.js";
import { h, call, explain, field, submitting, fill } from "./ui.js";
import { watchHandOvers, stopWatching, askForNotifications } from "./notify.js";

const app = document.getElementById("app");

const SCREENS = [
  { path: "inbox", label: "Inbox", show: showInbox },
  { path: "contacts", label: "Contacts", show: showContacts },
  { path: "analytics", label: "Analytics", show: showAnalytics },
  { path: "start", label: "Get started", show: showStart, admin: true },
  { path: "connections", label: "API connections", show: showConnections, admin: true },
  { path: "rules", label: "Rules", show: showRules, admin: true },
  { path: "widgets", label: "Widgets", show: showWidgets, admin: true },
  { path: "knowledge", label: "Knowledge base", show: showKnowledge, admin: true },
  { path: "ai", label: "AI", show: showAi, admin: true },
  { path: "channels", label: "Channels", show: showChannels, admin: true },
  { path: "webhooks", label: "Webhooks", show: showWebhooks, admin: true },
  { path: "tests", label: "Test suites", show: showTests, admin: true },
  { path: "team", label: "Team", show: showTeam },
];

// Screens reached from a list: `#connections/con_…` and friends.
const DETAILS = { inbox: showInbox, contacts: showContact, connections: showConnection, endpoints: showEndpoint, rules: showRule, widgets: showWidget, webhooks: showWebhook, tests: showTest };

function showSignIn(message = "", mode = "login") {
  const signup = mode === "signup";
  const error = h("p", { class: "error", role: "alert" }, message);
  const tenant = h("input", { id: "tenant_name", name: "tenant_name", "data-field": "tenant_name", autocomplete: "organization", required: true, maxlength: 200 });
  const email = h("input", { id: "email", name: "email", "data-field": "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", "data-field": "password", type: "password", autocomplete: signup ? "new-password" : "current-password", required: true, minlength: signup ? 8 : undefined });
  const form = h("form", { class: "login", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title" }, signup ? "Create your Switchboard account" : "Sign in to Switchboard"),
    signup ? field("Company name", tenant) : null,
    field("E-mail", email),
    field("Password", password, signup ? "At least 8 characters." : undefined),
    error,
    h("button", { class: "primary", type: "submit" }, signup ? "Create account" : "Sign in"),
    h("p", { class: "switch" }, signup ? "Already have an account? " : "New here? ",
      h("a", { href: "#", onclick: (event) => { event.preventDefault(); showSignIn("", signup ? "login" : "signup"); } }, signup ? "Sign in" : "Create an account")),
    signup ? null : h("p", { class: "switch" }, h("a", { href: "#", onclick: (event) => {
      event.preventDefault();
      fill(app, forgotForm(() => showSignIn()));
      app.querySelector("input").focus();
    } }, "Forgot your password?")));
  submitting(form, async () => {
    try {
      if (signup) await call("POST", "/auth/signup", { tenant_name: tenant.value, email: email.value, password: password.value });
      else await call("POST", "/auth/login", { email: email.value, password: password.value });
    } catch (err) {
      if (err.status === 401) err.message = "The e-mail or password is wrong.";
      throw err;
    }
    if (signup) location.hash = "#start";
    route();
  });
  fill(app, form);
  (signup ? tenant : email).focus();
}

let leaveScreen = null;

export async function logout() {
  if (leaveScreen) { leaveScreen(); leaveScreen = null; }
  stopWatching();
  try { await call("POST", "/auth/logout", {}); } finally { showSignIn(); }
}

function shell(me, current) {
  const admin = me.role === "admin" || me.role === "owner";
  const nav = h("nav", { "aria-label": "Sections" }, SCREENS.filter((s) => admin || !s.admin).map((s) =>
    h("a", { href: `#${s.path}`, "aria-current": s.path === current ? "page" : undefined }, s.label)));
  const main = h("main", { id: "screen", tabindex: "-1" });
  fill(app, h("header", { class: "topbar" },
    h("span", { class: "brand" }, `Switchboard — ${me.tenant.name}`), nav,
    me.user ? availabilitySwitch(me.user) : null,
    h("button", { onclick: logout }, "Sign out")), main);
  return main;
}

/**
 * Whether this person takes conversations now, on every screen: hand-overs reach only available
 * people, and with nobody available visitors are told so. Turning it on also asks to show
 * notifications (browsers allow the question only after a click).
 */
function availabilitySwitch(user) {
  const button = h("button", { type: "button", class: "availability", "aria-pressed": String(!!user.available),
    title: "Hand-overs reach only available people" });
  const render = () => {
    button.setAttribute("aria-pressed", String(!!user.available));
    button.classList.toggle("on", !!user.available);
    button.textContent = user.available ? "● Available" : "○ Away";
  };
  button.addEventListener("click", async () => {
    const available = !user.available;
    if (available) askForNotifications();
    button.disabled = true;
    try {
      await call("PUT", "/me/availability", { available });
      user.available = available;
      render();
      document.dispatchEvent(new CustomEvent("availability", { detail: available }));
    } catch (err) { alert(explain(err)); }
    finally { button.disabled = false; }
  });
  render();
  return button;
}

let routes = 0;

/** `#reset/<token>` and `#invite/<token>`: links from e-mails or from a colleague. */
function linkScreen() {
  const [kind, token] = location.hash.replace(/^#\/?/, "").split("/");
  if (!["reset", "invite"].includes(kind) || !token) return false;
  fill(app, linkForm(kind, decodeURIComponent(token), (message) => {
    history.replaceState(null, "", location.pathname);
    if (kind === "invite") { location.hash = "#inbox"; route(); } else showSignIn(message);
  }));
  app.querySelector("input").focus();
  return true;
}

async function route() {
  // A newer navigation wins: a slow screen that finishes late must not take over.
  const generation = ++routes;
  if (linkScreen()) return;
  let me;
  try {
    me = (await call("GET", "/me")).data;
  } catch (err) {
    return showSignIn(err.status === 401 ? "" : explain(err));
  }
  if (generation !== routes) return;
  watchHandOvers(me.user);
  if (leaveScreen) { leaveScreen(); leaveScreen = null; }
  const [section, id] = location.hash.replace(/^#\/?/, "").split("/");
  const screen = SCREENS.find((s) => s.path === section) || SCREENS[0];
  const detail = id && DETAILS[section];
  const main = shell(me, section === "endpoints" ? "connections" : screen.path);
  try {
    const left = detail ? await detail(main, me, decodeURIComponent(id)) : await screen.show(main, me);
    if (typeof left === "function") {
      if (generation === routes) leaveScreen = left;
      else left();
    }
  } catch (err) {
    fill(main, h("p", { class: "error", role: "alert" }, explain(err)));
  }
  if (generation !== routes) return;
  const heading = main.querySelector("h1, h2");
  document.title = heading ? `${heading.textContent} · Switchboard` : "Switchboard";
  // Keyboard and screen-reader users start at the new screen, not at a link that is gone.
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
route();
