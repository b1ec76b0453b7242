//! Tenants and their users.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{TenantId, Timestamp, UserId, ValidationError};

/// A business using Switchboard. Everything else belongs to exactly one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    /// IANA time zone for `now.*` variables (e.g. `Europe/Berlin`).
    pub time_zone: String,
    pub created_at: Timestamp,
    /// Closed conversations older than this many days are deleted every night; null keeps
    /// them.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Which files visitors and people may send.
    #[serde(default)]
    pub attachments: crate::attachment::AttachmentPolicy,
}

/// An IANA time zone name the server knows.
pub fn validate_time_zone(name: &str) -> Result<String, ValidationError> {
    jiff::tz::TimeZone::get(name).map(|_| name.to_owned()).map_err(|_| {
        ValidationError::new(
            "time_zone",
            "invalid_time_zone",
            format!("{name:?} is not a known time zone, e.g. Europe/Berlin"),
        )
    })
}

/// 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct TenantName(String);

impl TenantName {
    /// Rebuilds a value read back from the store, where it was validated on the way in.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        display_name(raw, "tenant_name", 100).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A trimmed, single-line, human-readable name of bounded length.
pub fn display_name(
    raw: &str,
    field: &'static str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "required", "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "invalid_characters",
            "must not contain control characters or line breaks",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An e-mail address, trimmed and lower-cased so that one address has one spelling.
///
/// The check is deliberately modest (one `@`, a dotted domain, no spaces): full RFC 5322
/// validation rejects real addresses, and deliverability can only be proven by sending mail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Rebuilds a value read back from the store, where it was validated on the way in.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let invalid = |message: &str| ValidationError::new("email", "invalid_email", message);
        if email.is_empty() {
            return Err(ValidationError::new("email", "required", "must not be empty"));
        }
        if email.len() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("must contain an @"));
        };
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain_ok {
            return Err(invalid("must look like name@example.com"));
        }
        Ok(Self(email))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password against the policy: 8–128 characters (NIST SP 800-63B lengths).
pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(ValidationError::new(
            "password",
            "password_too_short",
            "must be at least 8 characters",
        ));
    }
    if chars > 128 {
        return Err(ValidationError::new(
            "password",
            "password_too_long",
            "must be at most 128 characters",
        ));
    }
    Ok(())
}

/// What a user may do inside their tenant. Ordered by power: operator < admin < owner.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers conversations.
    Operator,
    /// Configures the tenant and manages operators and admins.
    Admin,
    /// Everything an admin does, plus managing owners.
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Whether someone holding `self` may create or grant `other`.
    pub fn can_grant(self, other: Role) -> bool {
        self >= Role::Admin && self >= other
    }
}

impl FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(ValidationError::new(
                "role",
                "invalid_role",
                "must be one of owner, admin, operator",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: Email,
    pub role: Role,
    /// Takes conversations now (set by the operator).
    pub available: bool,
    /// The language this person reads and writes (ISO 639-1), for translation.
    pub language: String,
    pub created_at: Timestamp,
}

/// A user about to be stored; the password is already hashed (PHC string).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub role: Role,
    pub password_hash: String,
    /// Takes conversations from the start, so a hand-over in a new person's first session
    /// reaches them (rather than the queue nobody watches yet).
    pub available: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@example..com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
    }

    #[test]
    fn roles_grant_only_downwards() {
        assert!(Role::Owner.can_grant(Role::Owner));
        assert!(Role::Admin.can_grant(Role::Operator));
        assert!(Role::Admin.can_grant(Role::Admin));
        assert!(!Role::Admin.can_grant(Role::Owner));
        assert!(!Role::Operator.can_grant(Role::Operator));
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert_eq!("root".parse::<Role>().unwrap_err().code, "invalid_role");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TenantName::parse("  Acme ").unwrap().as_str(), "Acme");
        assert_eq!(TenantName::parse("   ").unwrap_err().code, "required");
        assert_eq!(TenantName::parse(&"x".repeat(101)).unwrap_err().code, "too_long");
        assert_eq!(TenantName::parse("a\nb").unwrap_err().code, "invalid_characters");
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(validate_password("correct horse").is_ok());
        assert_eq!(validate_password("short").unwrap_err().code, "password_too_short");
        assert_eq!(validate_password(&"p".repeat(129)).unwrap_err().code, "password_too_long");
    }
}
