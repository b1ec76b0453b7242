// Passwords and invitations: a forgotten password (sign-in page), the screens a reset or
// invitation link opens (#reset/<token>, #invite/<token>), your own password, a member's
// password set by an owner or admin, and invitations (Team screen).
import { h, call, field, submitting, confirmAction, fill, ago } from "./ui.js";

/** "Forgot your password?" on the sign-in page. */
export function forgotForm(back) {
  const email = h("input", { id: "reset-email", "data-field": "email", type: "email", autocomplete: "username", required: true });
  const told = h("p", { role: "status" });
  const form = h("form", { class: "login", "aria-labelledby": "forgot-title", novalidate: true },
    h("h1", { id: "forgot-title" }, "Reset your password"), field("E-mail", email),
    h("p", { class: "error", role: "alert" }), told,
    h("button", { class: "primary", type: "submit" }, "Send me a link"),
    h("p", { class: "switch" }, h("a", { href: "#", onclick: (event) => { event.preventDefault(); back(); } }, "Back to sign in")));
  submitting(form, async () => {
    const answer = (await call("POST", "/auth/password-reset", { email: email.value.trim() })).data;
    told.textContent = answer.email_configured
      ? "If this address has an account, a link to choose a new password is on its way. It works for 30 minutes, once."
      : "This server sends no e-mail. Ask an owner or admin of your account to set a new password for you (Team screen).";
  });
  return form;
}

/** The screen a reset or invitation link opens: choose a password. */
export function linkForm(kind, token, done) {
  const invite = kind === "invite";
  const password = h("input", { id: "new-password", "data-field": "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const form = h("form", { class: "login", "aria-labelledby": "link-title", novalidate: true },
    h("h1", { id: "link-title" }, invite ? "Join your team on Switchboard" : "Choose a new password"),
    field(invite ? "Your password" : "New password", password, "At least 8 characters."),
    h("p", { class: "error", role: "alert" }, ""),
    h("button", { class: "primary", type: "submit" }, invite ? "Join" : "Set password"));
  submitting(form, async () => {
    if (invite) await call("POST", "/auth/accept-invitation", { token, password: password.value });
    else await call("POST", "/auth/password-reset/confirm", { token, password: password.value });
    done(invite ? "" : "Your password is set: sign in with it.");
  });
  return form;
}

/** Team screen: your own password. */
export function yourPasswordSection() {
  const current = h("input", { "data-field": "current_password", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { "data-field": "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "password-title" }, h("h2", { id: "password-title" }, "Your password"),
    field("Current password", current), field("New password", next, "At least 8 characters. Your other sessions are signed out."),
    h("p", { class: "error", role: "alert" }), h("div", { class: "row" }, h("button", { type: "submit" }, "Change password"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    await call("PUT", "/me/password", { current_password: current.value, new_password: next.value });
    current.value = next.value = "";
    saved.textContent = "Changed. Your other sessions were signed out.";
  });
  return form;
}

/** Team screen (owners and admins): set a member's password. */
export function memberPasswordForm(users, me) {
  const others = users.filter((u) => u.id !== me.user?.id);
  if (!others.length) return null;
  const who = h("select", { "data-field": "user" }, others.map((u) => h("option", { value: u.id }, u.email)));
  const password = h("input", { "data-field": "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "inline-form", "aria-label": "Set a member's password" }, h("h3", {}, "Set a member's password"),
    field("Person", who), field("New password", password, "Their sessions end; tell them the new password safely."),
    h("p", { class: "error", role: "alert" }), h("div", { class: "row" }, h("button", { type: "submit" }, "Set password"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    await call("PUT", `/users/${who.value}/password`, { password: password.value });
    password.value = "";
    saved.textContent = "Set.";
  });
  return form;
}

/** Team screen (owners and admins): invitations. */
export function invitationsSection(invitations, reload) {
  const email = h("input", { "data-field": "email", type: "email", required: true, autocomplete: "off" });
  const role = h("select", { "data-field": "role" }, ["operator", "admin", "owner"].map((r) => h("option", { value: r }, r)));
  const shown = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline-form", "aria-label": "Invite a person" }, h("h3", {}, "Invite a person"),
    field("E-mail", email), field("Role", role), h("p", { class: "error", role: "alert" }), h("button", { type: "submit" }, "Invite"));
  submitting(form, async () => {
    const invited = (await call("POST", "/invitations", { email: email.value.trim(), role: role.value })).data;
    const link = invited.link || `${location.origin}${location.pathname}#invite/${invited.token}`;
    const value = h("code", { id: "invitation-link" }, link);
    email.value = "";
    fill(shown, h("div", { class: "result good", role: "status" },
      h("strong", {}, invited.emailed ? `Sent to ${invited.email}. The link, shown only now:` : `Give ${invited.email} this link (shown only now; it works for 7 days, once):`), value,
      h("button", { type: "button", onclick: () => navigator.clipboard.writeText(link).catch(() => getSelection().selectAllChildren(value)) }, "Copy")));
    list.replaceWith(list = pendingList([{ ...invited }, ...invitations], reload));
  });
  let list = pendingList(invitations, reload);
  return h("section", { class: "panel", "aria-labelledby": "invitations-title" }, h("h2", { id: "invitations-title" }, "Invitations"),
    h("p", { class: "hint" }, "A person you invite chooses their own password through the link."), list, form, shown);
}

function pendingList(invitations, reload) {
  if (!invitations.length) return h("p", { class: "empty" }, "No open invitations.");
  return h("table", { class: "list-table" }, h("thead", {}, h("tr", {}, h("th", {}, "E-mail"), h("th", {}, "Role"), h("th", {}, "Expires"), h("th", {}, ""))),
    h("tbody", {}, invitations.map((i) => h("tr", {}, h("td", {}, i.email), h("td", {}, i.role), h("td", {}, ago(i.expires_at)),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: async () => {
        if (!(await confirmAction(`Withdraw the invitation of ${i.email}? Its link stops working.`, "Withdraw"))) return;
        await call("DELETE", `/invitations/${i.id}`);
        reload();
      } }, "Withdraw"))))));
}
