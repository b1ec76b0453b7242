//! Telegram bots (the Bot API, <https://core.telegram.org/bots/api>): updates come to the
//! channel's webhook with the secret token Switchboard gave Telegram in `setWebhook` — or, for
//! a server Telegram cannot reach, are fetched by long polling (`getUpdates`); replies go out
//! with `sendMessage` as plain text, an action's confirmation as inline keyboard buttons.

use sb_domain::ValidationError;
use sb_net::{Method, NetError, OutboundRequest, Url, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Button, Incoming, Outgoing, OutgoingFile};

/// Telegram's own API, unless the channel names a proxy or a test double.
pub const DEFAULT_API_BASE_URL: &str = "https://api.telegram.org";
/// The header Telegram sends the webhook's secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The largest picture Telegram shows as a photo; larger ones go as documents.
const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Longest text of one message; a longer reply goes out in parts.
const MAX_TEXT_CHARS: usize = 4096;

/// A Telegram channel's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramSettings {
    pub api_base_url: Url,
    /// Updates are fetched by long polling (`updates: "polling"`) instead of coming to the
    /// webhook (`"webhook"`, the default).
    pub polling: bool,
}

/// Updates one `getUpdates` brings at most: their answer stays well within the size cap.
const POLL_LIMIT: u32 = 20;

impl TelegramSettings {
    /// Reads `{api_base_url?, updates?}` (no other field); the normalised JSON is what is
    /// stored.
    pub fn parse(settings: &Value) -> Result<(Self, Value), ValidationError> {
        let object = settings.as_object().ok_or_else(|| {
            ValidationError::new("settings", "invalid_field", "settings must be an object")
        })?;
        if let Some(unknown) =
            object.keys().find(|k| !matches!(k.as_str(), "api_base_url" | "updates"))
        {
            let field = format!("settings.{unknown}");
            return Err(ValidationError::new(field, "unknown_field", "not a Telegram setting"));
        }
        let (url, raw) = crate::api_base_url(object, DEFAULT_API_BASE_URL)?;
        let polling = match object.get("updates") {
            None | Some(Value::Null) => false,
            Some(Value::String(mode)) if mode == "webhook" => false,
            Some(Value::String(mode)) if mode == "polling" => true,
            Some(_) => {
                let message = "must be \"webhook\" or \"polling\"";
                return Err(ValidationError::new("settings.updates", "invalid_field", message));
            }
        };
        let updates = if polling { "polling" } else { "webhook" };
        Ok((
            Self { api_base_url: url, polling },
            json!({ "api_base_url": raw, "updates": updates }),
        ))
    }

    /// `{api_base_url}/bot{token}/{method}`: the token is part of the path, so every request
    /// marks it sensitive (hidden wherever the URL is logged).
    fn request(&self, token: &str, method: &str, body: Value) -> Result<OutboundRequest, NetError> {
        let url =
            format!("{}/bot{token}/{method}", self.api_base_url.as_str().trim_end_matches('/'));
        let mut request = OutboundRequest::new(Method::POST, &url)?;
        request.headers.insert(header::CONTENT_TYPE, "application/json".parse().expect("valid"));
        request.body = Some(body.to_string().into());
        request.sensitive_values.push(token.to_owned());
        request.follow_redirects = false;
        Ok(request)
    }

    /// `getMe`: whether the token is a bot's (the channel's test).
    pub fn get_me(&self, token: &str) -> Result<OutboundRequest, NetError> {
        self.request(token, "getMe", json!({}))
    }

    /// `setWebhook`: updates go to `url`, carrying `secret` in [`SECRET_HEADER`].
    pub fn set_webhook(
        &self,
        token: &str,
        url: &str,
        secret: &str,
    ) -> Result<OutboundRequest, NetError> {
        let body = json!({"url": url, "secret_token": secret,
            "allowed_updates": ["message", "callback_query"]});
        self.request(token, "setWebhook", body)
    }

    /// `deleteWebhook`: updates stay with Telegram, for `getUpdates` (a bot with a webhook
    /// cannot be polled).
    pub fn delete_webhook(&self, token: &str) -> Result<OutboundRequest, NetError> {
        self.request(token, "deleteWebhook", json!({"drop_pending_updates": false}))
    }

    /// `getUpdates` from `offset` on (which confirms the updates before it), waiting up to
    /// `wait_secs` for one to come.
    pub fn get_updates(
        &self,
        token: &str,
        offset: i64,
        wait_secs: u64,
    ) -> Result<OutboundRequest, NetError> {
        let body = json!({"offset": offset, "timeout": wait_secs, "limit": POLL_LIMIT,
            "allowed_updates": ["message", "callback_query"]});
        self.request(token, "getUpdates", body)
    }

    /// `sendMessage` requests for `reply` to chat `chat_id`: one per 4096 characters, the
    /// buttons under the last.
    pub fn send(
        &self,
        token: &str,
        chat_id: &str,
        reply: &Outgoing,
    ) -> Result<Vec<OutboundRequest>, NetError> {
        // Every file the inbox takes (25 MB at most) is within Telegram's 50 MB: the files go
        // after the text (`file`).
        let (text, _) = reply.split_files(|_| true);
        let chat: Value = chat_id.parse::<i64>().map(Value::from).unwrap_or(json!(chat_id));
        let mut requests = Vec::new();
        if !text.is_empty() || !reply.buttons.is_empty() {
            let parts = crate::split_text(&text, MAX_TEXT_CHARS);
            let last = parts.len() - 1;
            for (i, part) in parts.into_iter().enumerate() {
                let mut body = json!({"chat_id": chat, "text": part});
                if i == last && !reply.buttons.is_empty() {
                    body["reply_markup"] = keyboard(&reply.buttons);
                }
                requests.push(self.request(token, "sendMessage", body)?);
            }
        }
        Ok(requests)
    }

    /// A file to chat `chat_id`: a picture up to 10 MB with `sendPhoto` (shown in the chat),
    /// anything else with `sendDocument`.
    pub fn file(
        &self,
        token: &str,
        chat_id: &str,
        file: &OutgoingFile,
    ) -> Result<OutboundRequest, NetError> {
        let photo = matches!(file.content_type.as_str(), "image/jpeg" | "image/png" | "image/webp")
            && file.bytes.len() <= MAX_PHOTO_BYTES;
        let (method, field) =
            if photo { ("sendPhoto", "photo") } else { ("sendDocument", "document") };
        let mut request = self.request(token, method, json!({}))?;
        let (content_type, body) = crate::multipart(&[("chat_id", chat_id)], field, file);
        let content_type =
            content_type.parse().map_err(|_| NetError::InvalidHeader("content-type".into()))?;
        request.headers.insert(header::CONTENT_TYPE, content_type);
        request.body = Some(body.into());
        Ok(request)
    }

    /// `answerCallbackQuery`: stops the button's spinner, saying `text` briefly.
    pub fn answer_button(
        &self,
        token: &str,
        callback_id: &str,
        text: &str,
    ) -> Result<OutboundRequest, NetError> {
        self.request(
            token,
            "answerCallbackQuery",
            json!({"callback_query_id": callback_id, "text": text}),
        )
    }
}

fn keyboard(buttons: &[Button]) -> Value {
    let row: Vec<Value> =
        buttons.iter().map(|b| json!({"text": b.label, "callback_data": b.data})).collect();
    json!({ "inline_keyboard": [row] })
}

#[derive(Deserialize)]
struct Update {
    update_id: i64,
    message: Option<TgMessage>,
    callback_query: Option<CallbackQuery>,
}

#[derive(Deserialize)]
struct TgMessage {
    chat: Chat,
    from: Option<User>,
    text: Option<String>,
    caption: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    #[serde(default)]
    is_bot: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    message: Option<TgMessage>,
    data: Option<String>,
}

/// Reads an update; `Ok(None)` for what Switchboard does not handle (edits, stickers without
/// a caption, messages of bots, anything in a group: there the chat is not one customer, and
/// its members could speak or press buttons for each other), which is answered 200 and dropped.
pub fn parse_update(body: &[u8]) -> Result<Option<Incoming>, String> {
    let update: Update = serde_json::from_slice(body).map_err(|e| format!("not an update: {e}"))?;
    let external_id = update.update_id.to_string();
    if let Some(query) = update.callback_query {
        let (Some(message), Some(data)) = (query.message, query.data) else { return Ok(None) };
        // In a private chat the chat is the user: only they press its buttons.
        if message.chat.kind != "private" || message.chat.id != query.from.id {
            return Ok(None);
        }
        let thread_key = message.chat.id.to_string();
        let callback_id = Some(query.id);
        return Ok(Some(Incoming::Button { external_id, thread_key, data, callback_id }));
    }
    let Some(message) = update.message.filter(|m| m.chat.kind == "private") else {
        return Ok(None);
    };
    let Some(from) = message.from.filter(|f| !f.is_bot) else { return Ok(None) };
    let Some(text) = message.text.or(message.caption).filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let name = [from.first_name, from.last_name].into_iter().flatten().collect::<Vec<_>>();
    Ok(Some(Incoming::Message {
        external_id,
        thread_key: message.chat.id.to_string(),
        user_id: from.id.to_string(),
        name: (!name.is_empty()).then(|| name.join(" ")),
        language: from.language_code,
        text,
    }))
}

/// The updates of a `getUpdates` answer, in order: each one's id, and what it brings (`None`:
/// nothing Switchboard takes, or not an update it can read).
pub fn parse_updates(answer: &Value) -> Result<Vec<(i64, Option<Incoming>)>, String> {
    let list = answer["result"].as_array().ok_or("the answer has no list of updates")?;
    let mut updates = Vec::with_capacity(list.len());
    for update in list {
        let id = update["update_id"].as_i64().ok_or("an update has no update_id")?;
        let incoming = parse_update(update.to_string().as_bytes()).ok().flatten();
        updates.push((id, incoming));
    }
    updates.sort_by_key(|(id, _)| *id);
    Ok(updates)
}

/// Why Telegram refused a request, from its answer (`{"ok": false, "description"}`).
pub fn refusal(status: u16, body: &[u8]) -> String {
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    match answer["description"].as_str() {
        Some(description) => format!("Telegram answered {status}: {description}"),
        None => format!("Telegram answered {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_telegram_and_refuse_strangers() {
        let (settings, stored) = TelegramSettings::parse(&json!({})).unwrap();
        assert_eq!(settings.api_base_url.as_str(), "https://api.telegram.org/");
        assert_eq!(
            stored,
            json!({"api_base_url": "https://api.telegram.org", "updates": "webhook"})
        );
        assert!(!settings.polling);
        let (polled, _) = TelegramSettings::parse(&json!({"updates": "polling"})).unwrap();
        assert!(polled.polling);
        let err = TelegramSettings::parse(&json!({"updates": "carrier pigeon"})).unwrap_err();
        assert_eq!(err.field.as_ref(), "settings.updates");
        let err = TelegramSettings::parse(&json!({"token": "x"})).unwrap_err();
        assert_eq!((err.field.as_ref(), err.code), ("settings.token", "unknown_field"));
        let err = TelegramSettings::parse(&json!({"api_base_url": "ftp://x"})).unwrap_err();
        assert_eq!(err.code, "invalid_url");
    }

    #[test]
    fn updates_become_messages_and_button_presses() {
        let update = json!({"update_id": 7, "message": {"message_id": 1, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": false, "first_name": "Ann", "language_code": "de"},
            "text": "Wo ist Bestellung 4521?"}});
        let incoming = parse_update(update.to_string().as_bytes()).unwrap().unwrap();
        assert_eq!(
            incoming,
            Incoming::Message {
                external_id: "7".into(),
                thread_key: "42".into(),
                user_id: "42".into(),
                name: Some("Ann".into()),
                language: Some("de".into()),
                text: "Wo ist Bestellung 4521?".into(),
            }
        );
        let press = json!({"update_id": 8, "callback_query": {"id": "cb1", "data": "confirm",
            "from": {"id": 42}, "message": {"chat": {"id": 42, "type": "private"}}}});
        let Incoming::Button { callback_id, data, .. } =
            parse_update(press.to_string().as_bytes()).unwrap().unwrap()
        else {
            panic!("a button press")
        };
        assert_eq!((callback_id.as_deref(), data.as_str()), (Some("cb1"), "confirm"));
        let sticker = json!({"update_id": 9, "message": {"chat": {"id": 42, "type": "private"}, "from": {"id": 42}}});
        assert_eq!(parse_update(sticker.to_string().as_bytes()).unwrap(), None);
        let group = json!({"update_id": 10, "message": {"chat": {"id": -5, "type": "group"},
            "from": {"id": 42}, "text": "order 4521"}});
        assert_eq!(
            parse_update(group.to_string().as_bytes()).unwrap(),
            None,
            "groups are not customers"
        );
        let someone_else = json!({"update_id": 11, "callback_query": {"id": "cb2", "data": "confirm",
            "from": {"id": 43}, "message": {"chat": {"id": 42, "type": "private"}}}});
        assert_eq!(parse_update(someone_else.to_string().as_bytes()).unwrap(), None);
        assert!(parse_update(b"[]").is_err());
    }

    #[test]
    fn files_go_as_photos_or_documents_after_the_text() {
        let settings = TelegramSettings::parse(&json!({})).unwrap().0;
        let file = |name: &str, content_type: &str| OutgoingFile {
            name: name.into(),
            content_type: content_type.into(),
            bytes: b"\x89PNG-bytes".to_vec(),
        };
        let reply = Outgoing {
            text: String::new(),
            buttons: vec![],
            files: vec![
                file("receipt.png", "image/png"),
                file("bill \"x\".pdf", "application/pdf"),
            ],
        };
        assert!(settings.send("123:abc", "42", &reply).unwrap().is_empty(), "no empty text");
        let sent: Vec<OutboundRequest> =
            reply.files.iter().map(|f| settings.file("123:abc", "42", f).unwrap()).collect();
        let paths: Vec<&str> = sent.iter().map(|r| r.url.path()).collect();
        assert_eq!(paths, ["/bot123:abc/sendPhoto", "/bot123:abc/sendDocument"]);
        let body = String::from_utf8_lossy(sent[1].body.as_ref().unwrap()).into_owned();
        assert!(body.contains("name=\"chat_id\"\r\n\r\n42\r\n"), "{body}");
        assert!(body.contains("name=\"document\"; filename=\"bill _x_.pdf\""), "{body}");
        let content_type = sent[1].headers[header::CONTENT_TYPE].to_str().unwrap();
        assert!(content_type.starts_with("multipart/form-data; boundary=switchboard-part-"));
    }

    #[test]
    fn polled_updates_come_in_order_and_unreadable_ones_are_skipped() {
        let answer = json!({"ok": true, "result": [
            {"update_id": 12, "message": {"chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "first_name": "Ann"}, "text": "second"}},
            {"update_id": 11, "message": {"chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "first_name": "Ann"}, "text": "first"}},
            {"update_id": 13, "edited_message": {}}]});
        let updates = parse_updates(&answer).unwrap();
        let ids: Vec<i64> = updates.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [11, 12, 13]);
        assert!(matches!(&updates[0].1, Some(Incoming::Message { text, .. }) if text == "first"));
        assert_eq!(updates[2].1, None);
        assert!(parse_updates(&json!({"ok": true})).is_err());
    }

    #[test]
    fn long_replies_go_in_parts_with_the_buttons_under_the_last() {
        let settings = TelegramSettings::parse(&json!({})).unwrap().0;
        let text = format!("{} {}", "a".repeat(4000), "b".repeat(200));
        let buttons = vec![Button { label: "Confirm".into(), data: "c".into() }];
        let sent =
            settings.send("123:abc", "42", &Outgoing { text, buttons, files: vec![] }).unwrap();
        assert_eq!(sent.len(), 2);
        let body = |r: &OutboundRequest| -> Value {
            serde_json::from_slice(r.body.as_ref().unwrap()).unwrap()
        };
        assert_eq!(body(&sent[0])["text"].as_str().unwrap().len(), 4000);
        assert!(body(&sent[0]).get("reply_markup").is_none());
        assert_eq!(body(&sent[1])["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "c");
        assert_eq!(body(&sent[1])["chat_id"], 42);
        assert_eq!(sent[0].url.path(), "/bot123:abc/sendMessage");
        assert_eq!(sent[0].sensitive_values, ["123:abc"]);
    }
}
