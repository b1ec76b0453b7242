// Switchboard dashboard: plain ES modules, no build step. app.js holds the API helper, login
// and the router; each screen is a module.
import { showInbox } from "./inbox.js";

const csrf = () => (document.cookie.match(/(?:^|; )sb_csrf=([^;]+)/) || [])[1] || "";

/** Calls the API; throws an Error carrying the API's code, message and field. */
export async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrf();
  const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const error = new Error(data.error ? data.error.message : `HTTP ${response.status}`);
    Object.assign(error, { status: response.status, code: data.error && data.error.code, field: data.error && data.error.field });
    throw error;
  }
  return data;
}

/** Builds DOM from a tag, attributes and children (strings become text, never HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Explains an API error in plain words, naming the field when there is one. */
export function explain(error) {
  if (error.status === 0 || error instanceof TypeError) return "The server cannot be reached. Check your connection and try again.";
  return error.field ? `${error.field}: ${error.message}` : error.message;
}

const app = document.getElementById("app");

function showLogin(message = "") {
  const error = h("p", { class: "error", role: "alert" }, message);
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Sign in to Switchboard"),
    h("label", { for: "email" }, "E-mail"), email,
    h("label", { for: "password" }, "Password"), password,
    error,
    h("button", { class: "primary", type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await call("POST", "/auth/login", { email: email.value, password: password.value });
      route();
    } catch (err) {
      error.textContent = err.status === 401 ? "The e-mail or password is wrong." : explain(err);
    }
  });
  app.replaceChildren(form);
  email.focus();
}

export async function logout() {
  try { await call("POST", "/auth/logout", {}); } finally { showLogin(); }
}

async function route() {
  let me;
  try {
    me = (await call("GET", "/me")).data;
  } catch (err) {
    return showLogin(err.status === 401 ? "" : explain(err));
  }
  showInbox(app, me);
}

route();
