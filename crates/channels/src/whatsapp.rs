//! WhatsApp Business numbers (the Cloud API of Meta's Graph API): Meta verifies the webhook
//! with a GET carrying the verify token, then POSTs messages signed with the app secret
//! (`X-Hub-Signature-256`); replies go out to `/{phone_number_id}/messages` as text, an action's
//! confirmation as reply buttons, and — outside the 24-hour customer-service window, where
//! WhatsApp takes nothing else — the channel's approved template.

use hmac::{Hmac, KeyInit, Mac};
use sb_domain::ValidationError;
use sb_net::{Method, NetError, OutboundRequest, Url, header};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{Incoming, Outgoing, OutgoingFile};

/// The Graph API, unless the channel names a proxy or a test double.
pub const DEFAULT_API_BASE_URL: &str = "https://graph.facebook.com/v21.0";
/// The header Meta signs a webhook's body in: `sha256=<hex HMAC-SHA256 under the app secret>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// Longest text message.
const MAX_TEXT_CHARS: usize = 4096;
/// Longest body of a message with buttons, and of a button's title.
const MAX_BUTTON_BODY_CHARS: usize = 1024;
const MAX_BUTTON_TITLE_CHARS: usize = 20;

/// The approved template sent outside the 24-hour window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub name: String,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppSettings {
    pub api_base_url: Url,
    pub phone_number_id: String,
    pub template: Option<Template>,
}

fn invalid(field: &str, code: &'static str, message: &str) -> ValidationError {
    ValidationError::new(format!("settings.{field}"), code, message.to_owned())
}

impl WhatsAppSettings {
    /// Reads `{phone_number_id, api_base_url?, template?: {name, language}}`.
    pub fn parse(settings: &Value) -> Result<(Self, Value), ValidationError> {
        let object = settings.as_object().ok_or_else(|| {
            ValidationError::new("settings", "invalid_field", "settings must be an object")
        })?;
        let known = ["api_base_url", "phone_number_id", "template"];
        if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(invalid(unknown, "unknown_field", "not a WhatsApp setting"));
        }
        let (api_base_url, base) = crate::api_base_url(object, DEFAULT_API_BASE_URL)?;
        let phone_number_id = object
            .get("phone_number_id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| {
                let message = "the number's id in Meta's WhatsApp manager (digits)";
                invalid("phone_number_id", "required", message)
            })?
            .to_owned();
        let template = match object.get("template") {
            None | Some(Value::Null) => None,
            Some(t) => {
                let text = |key: &str| {
                    t.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty())
                };
                let (Some(name), Some(language)) = (text("name"), text("language")) else {
                    let message = "a template needs its name and language (en_US)";
                    return Err(invalid("template", "invalid_field", message));
                };
                Some(Template { name: name.to_owned(), language: language.to_owned() })
            }
        };
        let mut stored = json!({"api_base_url": base, "phone_number_id": phone_number_id});
        if let Some(t) = &template {
            stored["template"] = json!({"name": t.name, "language": t.language});
        }
        Ok((Self { api_base_url, phone_number_id, template }, stored))
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/{}{tail}",
            self.api_base_url.as_str().trim_end_matches('/'),
            self.phone_number_id
        )
    }

    fn request(
        &self,
        method: Method,
        url: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<OutboundRequest, NetError> {
        let mut request = OutboundRequest::new(method, url)?
            .secret_header("authorization", &format!("Bearer {token}"))?;
        if let Some(body) = body {
            request
                .headers
                .insert(header::CONTENT_TYPE, "application/json".parse().expect("valid"));
            request.body = Some(body.to_string().into());
        }
        request.follow_redirects = false;
        Ok(request)
    }

    /// The number's own record: whether the token reaches it (the channel's test).
    pub fn phone_number(&self, token: &str) -> Result<OutboundRequest, NetError> {
        self.request(Method::GET, &self.url(""), token, None)
    }

    fn message(&self, token: &str, body: Value) -> Result<OutboundRequest, NetError> {
        self.request(Method::POST, &self.url("/messages"), token, Some(body))
    }

    /// The messages carrying `reply` to number `to`: text in parts, and an action's question
    /// as a message with reply buttons.
    pub fn send(
        &self,
        token: &str,
        to: &str,
        reply: &Outgoing,
    ) -> Result<Vec<OutboundRequest>, NetError> {
        let envelope = |kind: &str, content: Value| {
            let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": to, "type": kind});
            body[kind] = content;
            body
        };
        // Files go as media afterwards (`upload_media`, `media_message`); the others are named.
        let (text, _) = reply.split_files(sends);
        let fits = text.chars().count() <= MAX_BUTTON_BODY_CHARS;
        let mut requests = Vec::new();
        if (reply.buttons.is_empty() || !fits) && !text.is_empty() {
            for part in crate::split_text(&text, MAX_TEXT_CHARS) {
                let text = envelope("text", json!({"preview_url": false, "body": part}));
                requests.push(self.message(token, text)?);
            }
        }
        if !reply.buttons.is_empty() {
            let body = if fits { text.clone() } else { "Agree?".to_owned() };
            let buttons: Vec<Value> = reply
                .buttons
                .iter()
                .take(3)
                .map(|b| {
                    let title: String = b.label.chars().take(MAX_BUTTON_TITLE_CHARS).collect();
                    json!({"type": "reply", "reply": {"id": b.data, "title": title}})
                })
                .collect();
            let interactive = json!({"type": "button", "body": {"text": body},
                "action": {"buttons": buttons}});
            requests.push(self.message(token, envelope("interactive", interactive))?);
        }
        Ok(requests)
    }

    /// `POST /{phone_number_id}/media`: uploads a file for a media message; the answer's `id`
    /// names it.
    pub fn upload_media(
        &self,
        token: &str,
        file: &OutgoingFile,
    ) -> Result<OutboundRequest, NetError> {
        let mut request = self.request(Method::POST, &self.url("/media"), token, None)?;
        let fields = [("messaging_product", "whatsapp"), ("type", file.content_type.as_str())];
        let (content_type, body) = crate::multipart(&fields, "file", file);
        let content_type =
            content_type.parse().map_err(|_| NetError::InvalidHeader("content-type".into()))?;
        request.headers.insert(header::CONTENT_TYPE, content_type);
        request.body = Some(body.into());
        Ok(request)
    }

    /// The message showing uploaded `media_id` to `to`: a picture, or a document with its name.
    pub fn media_message(
        &self,
        token: &str,
        to: &str,
        file: &OutgoingFile,
        media_id: &str,
    ) -> Result<OutboundRequest, NetError> {
        let (kind, media) = if file.content_type.starts_with("image/") {
            ("image", json!({"id": media_id}))
        } else {
            ("document", json!({"id": media_id, "filename": file.name}))
        };
        let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": to, "type": kind});
        body[kind] = media;
        self.message(token, body)
    }

    /// The channel's template to `to`, when it has one.
    pub fn template_message(
        &self,
        token: &str,
        to: &str,
    ) -> Option<Result<OutboundRequest, NetError>> {
        let template = self.template.as_ref()?;
        let body = json!({"messaging_product": "whatsapp", "to": to, "type": "template",
            "template": {"name": template.name, "language": {"code": template.language}}});
        Some(self.message(token, body))
    }
}

/// Meta's webhook check (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`): the
/// challenge to echo when the token is the channel's.
pub fn verification<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    expected: &str,
    equal: impl Fn(&str, &str) -> bool,
) -> Option<&'a str> {
    let token_ok = token.is_some_and(|t| !expected.is_empty() && equal(t, expected));
    (mode == Some("subscribe") && token_ok).then_some(challenge).flatten()
}

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `app_secret`; compared
/// in constant time.
pub fn signed(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.strip_prefix("sha256=")) else { return false };
    let Some(expected) = decode_hex(hex) else { return false };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    !app_secret.is_empty() && mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

#[derive(Deserialize)]
struct Notification {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    value: ChangeValue,
}

#[derive(Deserialize)]
struct ChangeValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<WaMessage>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct WaMessage {
    id: String,
    from: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<TextBody>,
    interactive: Option<Value>,
    button: Option<Value>,
    image: Option<Value>,
    document: Option<Value>,
}

#[derive(Deserialize)]
struct TextBody {
    body: String,
}

/// The customers' messages and button presses for number `phone_number_id` in a webhook POST
/// (several may come at once; delivery receipts and other changes carry none). One app may
/// serve several numbers: the others' messages are not this channel's.
pub fn parse_notification(body: &[u8], phone_number_id: &str) -> Result<Vec<Incoming>, String> {
    let notification: Notification =
        serde_json::from_slice(body).map_err(|e| format!("not a WhatsApp notification: {e}"))?;
    let mut found = Vec::new();
    let changes = notification.entry.into_iter().flat_map(|e| e.changes).map(|c| c.value);
    let ours = changes
        .filter(|v| v.metadata.as_ref().is_some_and(|m| m.phone_number_id == phone_number_id));
    for value in ours {
        for message in value.messages {
            let name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == message.from)
                .and_then(|c| c.profile.as_ref()?.name.clone());
            let pressed = match message.kind.as_str() {
                "interactive" => {
                    message.interactive.as_ref().and_then(|i| i["button_reply"]["id"].as_str())
                }
                "button" => message.button.as_ref().and_then(|b| b["payload"].as_str()),
                _ => None,
            };
            if let Some(data) = pressed {
                found.push(Incoming::Button {
                    external_id: message.id,
                    thread_key: message.from,
                    data: data.to_owned(),
                    callback_id: None,
                });
                continue;
            }
            let caption = |media: &Option<Value>| {
                media.as_ref().and_then(|m| m["caption"].as_str()).map(str::to_owned)
            };
            let text = match message.kind.as_str() {
                "text" => message.text.map(|t| t.body),
                "image" => caption(&message.image),
                "document" => caption(&message.document),
                _ => None,
            };
            let Some(text) = text.filter(|t| !t.trim().is_empty()) else { continue };
            found.push(Incoming::Message {
                external_id: message.id,
                user_id: message.from.clone(),
                thread_key: message.from,
                name,
                language: None,
                text,
            });
        }
    }
    Ok(found)
}

/// The largest picture and document WhatsApp takes as media.
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
const MAX_DOCUMENT_BYTES: usize = 100 * 1024 * 1024;

/// Whether WhatsApp takes `file` as media: JPEG and PNG pictures, and the document types it
/// lists (PDF, text, Office). Others are named in the text instead: refused uploads would hold
/// up the conversation's replies.
pub fn sends(file: &OutgoingFile) -> bool {
    let size = file.bytes.len();
    match file.content_type.as_str() {
        "image/jpeg" | "image/png" => size <= MAX_IMAGE_BYTES,
        "application/pdf"
        | "text/plain"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
            size <= MAX_DOCUMENT_BYTES
        }
        _ => false,
    }
}

/// Why the Graph API refused a request (`{"error": {"message", "code"}}`).
pub fn refusal(status: u16, body: &[u8]) -> String {
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    match answer["error"]["message"].as_str() {
        Some(message) => format!("WhatsApp answered {status}: {message}"),
        None => format!("WhatsApp answered {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Button;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    #[test]
    fn only_the_app_secret_signs_a_body() {
        let body = br#"{"entry":[]}"#;
        let header = sign("app-secret", body);
        assert!(signed("app-secret", body, Some(&header)));
        assert!(!signed("other", body, Some(&header)));
        assert!(!signed("app-secret", b"{}", Some(&header)));
        assert!(!signed("app-secret", body, None));
        assert!(!signed("app-secret", body, Some("sha256=zz")));
        assert!(!signed("", body, Some(&sign("", body))), "no secret, nothing is signed");
    }

    #[test]
    fn the_verification_echoes_only_for_the_token() {
        let eq = |a: &str, b: &str| a == b;
        assert_eq!(verification(Some("subscribe"), Some("t"), Some("42"), "t", eq), Some("42"));
        assert_eq!(verification(Some("subscribe"), Some("x"), Some("42"), "t", eq), None);
        assert_eq!(verification(Some("other"), Some("t"), Some("42"), "t", eq), None);
    }

    #[test]
    fn notifications_bring_messages_presses_and_nothing_else() {
        let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp",
                "metadata": {"phone_number_id": "1055"},
                "contacts": [{"profile": {"name": "Ann"}, "wa_id": "4915100000"}],
                "messages": [
                    {"from": "4915100000", "id": "wamid.1", "timestamp": "1", "type": "text",
                     "text": {"body": "where is order 4521?"}},
                    {"from": "4915100000", "id": "wamid.2", "timestamp": "2", "type": "interactive",
                     "interactive": {"type": "button_reply", "button_reply": {"id": "a:x:y", "title": "Confirm"}}},
                    {"from": "4915100000", "id": "wamid.3", "timestamp": "3", "type": "sticker"}]}},
            {"field": "messages", "value": {"statuses": [{"id": "wamid.0", "status": "read"}]}}]}]});
        let found = parse_notification(body.to_string().as_bytes(), "1055").unwrap();
        assert_eq!(found.len(), 2);
        let other = parse_notification(body.to_string().as_bytes(), "2077").unwrap();
        assert!(other.is_empty(), "another number's messages are not this channel's");
        assert_eq!(
            found[0],
            Incoming::Message {
                external_id: "wamid.1".into(),
                thread_key: "4915100000".into(),
                user_id: "4915100000".into(),
                name: Some("Ann".into()),
                language: None,
                text: "where is order 4521?".into(),
            }
        );
        assert!(matches!(&found[1], Incoming::Button { data, .. } if data == "a:x:y"));
    }

    #[test]
    fn files_go_as_media_and_others_are_named() {
        let (settings, _) = WhatsAppSettings::parse(&json!({"phone_number_id": "1055"})).unwrap();
        let file = |name: &str, content_type: &str| OutgoingFile {
            name: name.into(),
            content_type: content_type.into(),
            bytes: b"%PDF-1.4".to_vec(),
        };
        let (pdf, zip) = (file("bill.pdf", "application/pdf"), file("logs.zip", "application/zip"));
        assert!(sends(&pdf) && !sends(&zip));
        let reply =
            Outgoing { text: "Here:".into(), buttons: vec![], files: vec![pdf.clone(), zip] };
        let sent = settings.send("token", "49151", &reply).unwrap();
        let body: Value = serde_json::from_slice(sent[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(body["text"]["body"], "Here:\n[file: logs.zip]");
        let upload = settings.upload_media("token", &pdf).unwrap();
        assert_eq!(upload.url.path(), "/v21.0/1055/media");
        let form = String::from_utf8_lossy(upload.body.as_ref().unwrap()).into_owned();
        assert!(form.contains("name=\"type\"\r\n\r\napplication/pdf\r\n"), "{form}");
        let shown = settings.media_message("token", "49151", &pdf, "media-7").unwrap();
        let body: Value = serde_json::from_slice(shown.body.as_ref().unwrap()).unwrap();
        assert_eq!(body["document"], json!({"id": "media-7", "filename": "bill.pdf"}));
        let only_files = Outgoing { text: String::new(), buttons: vec![], files: vec![pdf] };
        assert!(settings.send("token", "49151", &only_files).unwrap().is_empty(), "no empty text");
    }

    #[test]
    fn replies_are_text_and_questions_carry_buttons() {
        let (settings, stored) =
            WhatsAppSettings::parse(&json!({"phone_number_id": "1055"})).unwrap();
        assert_eq!(stored["api_base_url"], DEFAULT_API_BASE_URL);
        let reply = Outgoing {
            text: "Cancel order 4521?".into(),
            buttons: vec![
                Button { label: "Confirm".into(), data: "a:x:y".into() },
                Button { label: "Cancel".into(), data: "a:x:n".into() },
            ],
            files: vec![],
        };
        let sent = settings.send("token", "4915100000", &reply).unwrap();
        assert_eq!(sent.len(), 1);
        let body: Value = serde_json::from_slice(sent[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(body["interactive"]["action"]["buttons"][1]["reply"]["id"], "a:x:n");
        assert_eq!(sent[0].url.path(), "/v21.0/1055/messages");
        assert!(settings.template_message("token", "49").is_none());
        let err = WhatsAppSettings::parse(&json!({})).unwrap_err();
        assert_eq!((err.field.as_ref(), err.code), ("settings.phone_number_id", "required"));
    }
}
