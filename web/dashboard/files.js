// Files in conversations: shown in their message (pictures inline, anything else as a
// download link) and sent from the reply box with "Attach files".
import { call, h, explain } from "./ui.js";

/** Bytes as people read them. */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const pictures = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** The files of a message: pictures shown (opening full size), others offered to download. */
export function attachmentsEl(files) {
  if (!files || !files.length) return null;
  return h("ul", { class: "attachments", "aria-label": "Files" }, files.map((f) => h("li", {},
    pictures.includes(f.content_type)
      ? h("a", { href: f.url, target: "_blank", rel: "noopener" }, h("img", { src: f.url, alt: f.name, loading: "lazy" }))
      : h("a", { href: f.url, download: f.name }, `📎 ${f.name}`, h("span", { class: "hint" }, ` ${size(f.size)}`)))));
}

/**
 * "Attach files" beside the reply box: picked files go to the visitor at once, with what is
 * typed as their caption (`caption()` is the reply box as it is then); `sent(message)` shows the
 * message, `failed(text)` says why not. Files are never private: the reply box hides this while
 * it writes a note.
 */
export function attachButton(conversationId, caption, sent, failed) {
  const input = h("input", { type: "file", multiple: true, class: "visually-hidden", "aria-label": "Attach files" });
  input.addEventListener("change", async () => {
    if (!input.files.length) return;
    const form = new FormData();
    for (const file of input.files) form.append("file", file, file.name);
    const box = caption();
    const text = box ? box.value.trim() : "";
    if (text) form.append("text", text);
    try {
      const message = (await call("POST", `/conversations/${conversationId}/attachments`, form)).data;
      const now = caption();
      if (now && now.value.trim() === text) now.value = "";
      sent(message);
    } catch (err) { failed(`Not sent: ${explain(err)}`); }
    input.value = "";
  });
  return h("label", { class: "button attach" }, input, "Attach files");
}
