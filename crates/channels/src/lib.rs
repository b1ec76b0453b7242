//! The channels besides the widget, one module per provider: how its settings are checked, how
//! what it sends in becomes a customer's message, and how a reply becomes a request to it. No
//! I/O here: requests go out through the engine's SSRF-safe client, so every provider address
//! passes the same checks as a tenant's backend.

pub mod email;
pub mod telegram;
pub mod whatsapp;

use sb_domain::ValidationError;
use sb_net::Url;
use serde_json::{Map, Value};

/// A reply as a channel shows it: its text, the files sent with it and, for an action waiting
/// for the customer, the buttons that confirm or cancel it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    pub text: String,
    pub buttons: Vec<Button>,
    pub files: Vec<OutgoingFile>,
}

/// A file sent with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingFile {
    pub name: String,
    /// What its content is (checked when it was uploaded).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Outgoing {
    /// The text to send and the files a channel sends as files (`sendable`): the others are
    /// named in the text (`[file: report.zip]`), so the customer knows of them.
    pub fn split_files(
        &self,
        sendable: impl Fn(&OutgoingFile) -> bool,
    ) -> (String, Vec<&OutgoingFile>) {
        let (sent, named): (Vec<&OutgoingFile>, Vec<&OutgoingFile>) =
            self.files.iter().partition(|f| sendable(f));
        let mut text = self.text.trim().to_owned();
        if !named.is_empty() {
            let names: Vec<&str> = named.iter().map(|f| f.name.as_str()).collect();
            let note = format!("[file: {}]", names.join(", "));
            text = if text.is_empty() { note } else { format!("{text}\n{note}") };
        }
        (text, sent)
    }
}

/// A `multipart/form-data` body (RFC 7578) of text `fields` and one file: its content type and
/// bytes. The boundary is random, so no file contains it but by a chance of 2^-144.
pub(crate) fn multipart(
    fields: &[(&str, &str)],
    file_field: &str,
    file: &OutgoingFile,
) -> (String, Vec<u8>) {
    let boundary = format!("switchboard-part-{}", sb_domain::random_token(18));
    let quoted = |s: &str| s.replace(['"', '\r', '\n', '\\'], "_");
    let mut body = Vec::with_capacity(file.bytes.len() + 512);
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            quoted(&file.name),
            quoted(&file.content_type)
        )
        .bytes(),
    );
    body.extend_from_slice(&file.bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A button under a reply; pressing it sends `data` back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub data: String,
}

/// What a provider brings in: a customer's message, or a press of one of a reply's buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Message {
        /// The provider's id for it: providers send again until answered, and it is taken once.
        external_id: String,
        /// The chat, number or thread on the provider's side: one conversation each.
        thread_key: String,
        /// Who the customer is on this channel, as the provider vouches.
        user_id: String,
        name: Option<String>,
        language: Option<String>,
        text: String,
    },
    Button {
        external_id: String,
        thread_key: String,
        /// What the button was made with.
        data: String,
        /// Telegram: the press to answer (it shows a spinner until then).
        callback_id: Option<String>,
    },
}

impl Incoming {
    pub fn external_id(&self) -> &str {
        match self {
            Self::Message { external_id, .. } | Self::Button { external_id, .. } => external_id,
        }
    }
}

/// `text` in parts of at most `max` characters, cut at a line break or space where one is near.
pub(crate) fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let cut = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let head = &rest[..cut];
        let at =
            head.rfind('\n').or_else(|| head.rfind(' ')).filter(|&i| i > cut / 2).unwrap_or(cut);
        parts.push(rest[..at].trim_end().to_owned());
        rest = rest[at..].trim_start();
    }
    parts.push(rest.to_owned());
    parts
}

/// A channel's `settings.api_base_url` (the provider's address, `default` when absent): the URL,
/// and its text as stored (without a trailing slash).
pub(crate) fn api_base_url<'a>(
    settings: &'a Map<String, Value>,
    default: &'a str,
) -> Result<(Url, &'a str), ValidationError> {
    let invalid =
        |message: &str| ValidationError::new("settings.api_base_url", "invalid_url", message);
    let raw = match settings.get("api_base_url") {
        None | Some(Value::Null) => default,
        Some(Value::String(url)) => url.trim_end_matches('/'),
        Some(_) => return Err(invalid("must be a URL")),
    };
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| invalid(&format!("must be an http(s) URL such as {default}")))?;
    Ok((url, raw))
}
