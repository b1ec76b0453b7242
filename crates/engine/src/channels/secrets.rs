//! A channel's secrets — bot tokens, access tokens, mail passwords — sealed as one JSON
//! document under the master key (like connection credentials), never returned, replaceable
//! one at a time.

use sb_domain::{Channel, ChannelKind, ValidationError, random_token};
use sb_secrets::Secret;
use sb_store::StoredChannel;
use serde::{Deserialize, Serialize};

use super::ChannelsService;
use crate::EngineError;

/// A channel's secrets (no `Debug`: nothing prints them).
#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct ChannelSecrets {
    /// Telegram: the bot's token.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bot_token: String,
    /// WhatsApp: the Graph API access token, the app secret signing webhooks, and the verify
    /// token Meta's webhook check sends.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_token: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_secret: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verify_token: String,
    /// E-mail: the SMTP and IMAP passwords.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smtp_password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub imap_password: String,
    /// What an inbound webhook must carry: made here for Telegram (which `setWebhook` is told
    /// and sends back); chosen by the admin for e-mail (the provider posting mail sends it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub webhook_secret: String,
}

/// The secrets a kind of channel takes, and which of them it cannot do without (`needs_imap`:
/// an e-mail channel with a mailbox to watch).
fn names(kind: ChannelKind) -> &'static [&'static str] {
    match kind {
        ChannelKind::Telegram => &["bot_token"],
        ChannelKind::Whatsapp => &["access_token", "app_secret", "verify_token"],
        ChannelKind::Email => &["smtp_password", "imap_password", "webhook_secret"],
        ChannelKind::Widget => &[],
    }
}

fn required(kind: ChannelKind, needs_imap: bool) -> &'static [&'static str] {
    match kind {
        ChannelKind::Email if needs_imap => &["imap_password"],
        ChannelKind::Email => &[],
        other => names(other),
    }
}

impl ChannelSecrets {
    fn slot(&mut self, kind: ChannelKind, name: &str) -> Option<&mut String> {
        if !names(kind).contains(&name) {
            return None;
        }
        Some(match name {
            "bot_token" => &mut self.bot_token,
            "access_token" => &mut self.access_token,
            "app_secret" => &mut self.app_secret,
            "verify_token" => &mut self.verify_token,
            "smtp_password" => &mut self.smtp_password,
            "imap_password" => &mut self.imap_password,
            _ => &mut self.webhook_secret,
        })
    }

    /// The credential a request to the provider carries.
    pub(crate) fn token(&self, kind: ChannelKind) -> Secret<String> {
        Secret::new(match kind {
            ChannelKind::Whatsapp => self.access_token.clone(),
            ChannelKind::Email => self.smtp_password.clone(),
            _ => self.bot_token.clone(),
        })
    }

    /// Whether `given` names every secret `kind` needs.
    pub(super) fn replaces_all(
        kind: ChannelKind,
        needs_imap: bool,
        given: &serde_json::Value,
    ) -> bool {
        required(kind, needs_imap)
            .iter()
            .all(|name| given.get(*name).is_some_and(|v| v.is_string()))
    }

    /// The new secrets over the kept ones: each kind needs all of its own.
    pub(super) fn merged(
        kind: ChannelKind,
        needs_imap: bool,
        kept: ChannelSecrets,
        given: Option<&serde_json::Value>,
    ) -> Result<ChannelSecrets, EngineError> {
        let mut secrets = kept;
        if let Some(given) = given {
            let object = given.as_object().ok_or_else(|| {
                ValidationError::new("secrets", "invalid_field", "secrets must be an object")
            })?;
            for (name, value) in object {
                let field = format!("secrets.{name}");
                let Some(slot) = secrets.slot(kind, name) else {
                    let message = "not a secret of this kind of channel";
                    return Err(ValidationError::new(field, "unknown_field", message).into());
                };
                match value.as_str().map(str::trim).filter(|v| !v.is_empty()) {
                    // Anyone may call the inbound webhook: its secret must not be guessable.
                    Some(text) if name == "webhook_secret" && text.chars().count() < 16 => {
                        let message = "must be at least 16 characters";
                        return Err(ValidationError::new(field, "too_short", message).into());
                    }
                    Some(text) => *slot = text.to_owned(),
                    None => {
                        let message = "must be a non-empty string";
                        return Err(ValidationError::new(field, "required", message).into());
                    }
                }
            }
        }
        for name in required(kind, needs_imap) {
            if secrets.slot(kind, name).is_some_and(|v| v.is_empty()) {
                return Err(super::missing(&format!("secrets.{name}")).into());
            }
        }
        if secrets.webhook_secret.is_empty() {
            // E-mail's stays unknown (and its webhook closed) until the admin chooses one.
            secrets.webhook_secret = random_token(32);
        }
        Ok(secrets)
    }
}

impl ChannelsService {
    pub(super) fn seal(&self, channel: &Channel, secrets: &ChannelSecrets) -> String {
        let text = serde_json::to_string(secrets).unwrap_or_default();
        self.keyring.seal(channel.tenant_id.as_str(), text.as_bytes())
    }

    /// Opens a channel's sealed secrets.
    pub(crate) fn open_secrets(
        &self,
        stored: &StoredChannel,
    ) -> Result<ChannelSecrets, EngineError> {
        let Some(sealed) = &stored.sealed_secrets else { return Ok(ChannelSecrets::default()) };
        let channel = &stored.channel;
        let plaintext = self.keyring.open(channel.tenant_id.as_str(), sealed).map_err(|err| {
            EngineError::Internal(format!(
                "secrets of channel {} cannot be opened: {err}",
                channel.id
            ))
        })?;
        serde_json::from_slice(&plaintext)
            .map_err(|_| EngineError::Internal("sealed channel secrets are not JSON".into()))
    }
}
