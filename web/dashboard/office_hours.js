// A widget's office hours in the settings form: per day, ranges typed as "09:00-12:00,
// 13:00-17:00"; outside them the widget says when the team is back and may ask for an e-mail.
import { h, field } from "./ui.js";

const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];

/** The fieldset, and `read()` giving the `office_hours` to send (null: none). */
export function officeHoursFields(hours) {
  const on = h("input", { type: "checkbox", "data-field": "office_hours", checked: Boolean(hours) });
  const zone = h("input", { "data-field": "office_hours.time_zone", value: hours?.time_zone || "", placeholder: "the account's", spellcheck: "false" });
  const days = Object.fromEntries(DAYS.map(([key]) => [key, h("input", {
    "data-field": `office_hours.days.${key}`, spellcheck: "false", placeholder: "closed",
    value: (hours?.days?.[key] || []).map(([a, b]) => `${a}-${b}`).join(", "),
  })]));
  const message = h("textarea", { "data-field": "office_hours.offline_message", rows: 2, placeholder: "We're away right now. We're back Monday 09:00." }, hours?.offline_message || "");
  const askEmail = h("input", { type: "checkbox", "data-field": "office_hours.ask_email_offline", checked: Boolean(hours?.ask_email_offline) });
  const details = h("div", { class: "hours", hidden: !hours },
    field("Time zone", zone, "IANA name, e.g. Europe/Berlin; empty: the account's."),
    h("div", { class: "hours-days" }, DAYS.map(([key, label]) => field(label, days[key]))),
    h("p", { class: "hint" }, "Ranges like 09:00-12:00, 13:00-17:00; empty: closed all day."),
    field("Away message (optional)", message),
    h("label", { class: "check" }, askEmail, " Ask for an e-mail address while away"));
  on.addEventListener("change", () => { details.hidden = !on.checked; });
  const box = h("fieldset", { class: "office-hours" }, h("legend", {}, "Office hours"),
    h("label", { class: "check" }, on, " Show when the team is away"), details);
  const read = () => {
    if (!on.checked) return null;
    const parsed = {};
    for (const [key] of DAYS) {
      const text = days[key].value.trim();
      if (text) parsed[key] = text.split(",").map((r) => r.trim().split("-").map((t) => t.trim()));
    }
    return { time_zone: zone.value.trim() || null, days: parsed, offline_message: message.value.trim() || null, ask_email_offline: askEmail.checked };
  };
  return { box, read };
}
