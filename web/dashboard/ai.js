// Settings → AI: which provider answers, the account's own provider with a write-only key, and
// what "AI is off" means for visitors.
import { h, call, field, submitting, confirmAction, secretField, isAdmin, fill } from "./ui.js";

const SOURCE = {
  tenant: "Your own provider answers.",
  server: "The server's provider answers (set up by whoever runs Switchboard).",
  none: "AI is off.",
};

export async function showAi(main, me) {
  const settings = (await call("GET", "/ai-settings")).data;
  const own = settings.source === "tenant";
  const state = h("section", { class: `panel ${settings.enabled ? "" : "notice"}`, "aria-labelledby": "ai-state" },
    h("h2", { id: "ai-state" }, settings.enabled ? `AI is on: ${settings.provider} · ${settings.model}` : "AI is off"),
    h("p", {}, SOURCE[settings.source]),
    settings.enabled ? null : h("p", {}, "Visitors are still answered: rules reply with their texts and live data, the knowledge base answers general questions when a passage fits, and a REPLY_AI action sends its fallback. Add a provider below to turn AI on."));

  const provider = h("select", { "data-field": "provider" }, [["openai", "OpenAI-compatible (OpenAI, Azure, Ollama, vLLM, llama.cpp…)"], ["anthropic", "Anthropic"]]
    .map(([v, l]) => h("option", { value: v, selected: own && settings.provider === v }, l)));
  const baseUrl = h("input", { "data-field": "base_url", type: "url", value: own ? settings.base_url || "" : "", placeholder: "https://api.openai.com/v1", spellcheck: "false" });
  const model = h("input", { "data-field": "model", required: true, value: own ? settings.model || "" : "", placeholder: "gpt-4o-mini", spellcheck: "false" });
  const key = secretField("API key", "api_key", own && settings.api_key_set, { optional: true });
  const instructions = h("textarea", { "data-field": "instructions", rows: 4 }, own ? settings.instructions || "" : "");
  const embedding = h("input", { "data-field": "embedding_model", value: own ? settings.embedding_model || "" : "", placeholder: "text-embedding-3-small (optional)", spellcheck: "false" });
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "panel", "aria-labelledby": "own-title" },
    h("h2", { id: "own-title" }, "Your own provider"),
    field("Provider", provider), field("Base URL (optional)", baseUrl, "Leave empty for the provider's own API; set it for Azure, Ollama, vLLM or llama.cpp."),
    field("Model", model), key.box,
    field("Instructions (optional)", instructions, "How the assistant should behave: tone, what it must not promise."),
    field("Embedding model (optional)", embedding, "Adds vector search to the knowledge base (OpenAI-compatible providers)."),
    h("p", { class: "error", role: "alert" }),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit", disabled: !isAdmin(me) }, "Save"), saved));
  submitting(form, async () => {
    saved.textContent = "";
    const body = { provider: provider.value, model: model.value.trim(), base_url: baseUrl.value.trim() || null,
      instructions: instructions.value.trim() || null, embedding_model: embedding.value.trim() || null };
    if (key.value() !== undefined) body.api_key = key.value();
    await call("PUT", "/ai-settings", body);
    location.reload();
  });
  const reset = own ? h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmAction("Stop using your own provider? The server's provider answers instead, or AI is off if there is none.", "Stop using it"))) return;
    await call("DELETE", "/ai-settings");
    location.reload();
  } }, "Stop using your own provider") : null;

  const usage = (await call("GET", "/ai-usage?days=30").catch(() => ({ data: null }))).data;
  fill(main, h("h1", {}, "AI"), state, form, reset ? h("section", { class: "panel danger-zone" }, reset) : null,
    usage ? h("section", { class: "panel" }, h("h2", {}, "Usage, last 30 days"),
      h("p", {}, `${usage.calls} model calls · ${usage.input_tokens} tokens in · ${usage.output_tokens} tokens out`)) : null);
}
