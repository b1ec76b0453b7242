//! Chat widgets: how a tenant's site embeds Switchboard.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{TenantId, Timestamp, ValidationError, WidgetId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Widget {
    pub id: WidgetId,
    pub tenant_id: TenantId,
    pub name: String,
    pub greeting: Option<String>,
    pub active: bool,
    pub ai_enabled: bool,
    pub translation_enabled: bool,
    pub primary_color: String,
    pub position: WidgetPosition,
    /// Sites allowed to use the widget (`https://shop.example.com`); empty: any site.
    pub allowed_origins: Vec<String>,
    /// When the widget's people are there; null: no hours (the widget never says it is away).
    pub office_hours: Option<crate::OfficeHours>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Widget {
    /// Whether a browser on `origin` may talk to this widget.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.is_empty()
            || self
                .allowed_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin.trim_end_matches('/')))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WidgetPosition {
    #[default]
    BottomRight,
    BottomLeft,
}

impl WidgetPosition {
    pub fn as_str(self) -> &'static str {
        match self {
            WidgetPosition::BottomRight => "bottom-right",
            WidgetPosition::BottomLeft => "bottom-left",
        }
    }
}

impl std::str::FromStr for WidgetPosition {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bottom-right" => Ok(Self::BottomRight),
            "bottom-left" => Ok(Self::BottomLeft),
            _ => Err(ValidationError::new(
                "position",
                "invalid_position",
                "must be bottom-right or bottom-left",
            )),
        }
    }
}

pub const DEFAULT_COLOR: &str = "#2563eb";

/// `#rgb` or `#rrggbb`.
pub fn validate_color(color: &str) -> Result<String, ValidationError> {
    let hex = color.strip_prefix('#').unwrap_or_default();
    if matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(color.to_ascii_lowercase())
    } else {
        Err(ValidationError::new("primary_color", "invalid_color", "must be a colour like #2563eb"))
    }
}

/// A web origin: `scheme://host[:port]`, no path.
pub fn validate_origin(field: String, origin: &str) -> Result<String, ValidationError> {
    let origin = origin.trim().trim_end_matches('/');
    let valid = origin.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https")
            && !rest.is_empty()
            && !rest.contains(['/', '?', '#', '@', ' '])
    });
    if valid {
        Ok(origin.to_ascii_lowercase())
    } else {
        Err(ValidationError::new(
            field,
            "invalid_origin",
            "must be an origin like https://shop.example.com",
        ))
    }
}
