//! Channels: the ways customers reach the account. The widget is one; the account's e-mail
//! inboxes, Telegram bots and WhatsApp numbers are others, each feeding the same conversations,
//! rules, connections, AI and people.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ChannelId, TenantId, Timestamp, ValidationError, WidgetId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Widget,
    Email,
    Telegram,
    Whatsapp,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Widget => "widget",
            Self::Email => "email",
            Self::Telegram => "telegram",
            Self::Whatsapp => "whatsapp",
        }
    }
}

impl std::str::FromStr for ChannelKind {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Widget, Self::Email, Self::Telegram, Self::Whatsapp]
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new("kind", "invalid_kind", "must be email, telegram or whatsapp")
            })
    }
}

/// Which way a conversation came: `{kind: "widget", id: "wid_…"}` or
/// `{kind: "telegram", id: "chn_…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelRef {
    pub kind: ChannelKind,
    /// The widget's id for the widget, else the channel's.
    pub id: String,
}

impl ChannelRef {
    pub fn widget(id: &WidgetId) -> Self {
        Self { kind: ChannelKind::Widget, id: id.to_string() }
    }

    pub fn channel(kind: ChannelKind, id: &ChannelId) -> Self {
        Self { kind, id: id.to_string() }
    }
}

/// One of the account's channels. Its secrets (a bot token, an app secret, mail passwords)
/// are sealed apart and never shown.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Channel {
    pub id: ChannelId,
    pub tenant_id: TenantId,
    pub kind: ChannelKind,
    pub name: String,
    /// The widget whose rules, AI settings, knowledge and office hours answer the channel.
    pub widget_id: WidgetId,
    /// What the kind needs (docs/channels.md): for Telegram `{api_base_url}`.
    pub settings: serde_json::Value,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
