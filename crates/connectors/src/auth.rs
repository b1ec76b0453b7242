//! The secret half of a connection's authentication, and how each method goes on a request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sb_domain::{ApiKeyPlacement, AuthConfig};
use sb_net::OutboundRequest;
use sb_secrets::Secret;
use serde_json::{Map, Value};

use crate::CallError;

/// Secret values of a connection. Sealed as one JSON document; never serialised elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthSecrets {
    pub key: Option<Secret<String>>,
    pub token: Option<Secret<String>>,
    pub password: Option<Secret<String>>,
    pub client_secret: Option<Secret<String>>,
}

impl AuthSecrets {
    pub const FIELDS: [&'static str; 4] = ["key", "token", "password", "client_secret"];

    pub fn get(&self, field: &str) -> Option<&Secret<String>> {
        match field {
            "key" => self.key.as_ref(),
            "token" => self.token.as_ref(),
            "password" => self.password.as_ref(),
            "client_secret" => self.client_secret.as_ref(),
            _ => None,
        }
    }

    pub fn set(&mut self, field: &str, value: Option<Secret<String>>) {
        match field {
            "key" => self.key = value,
            "token" => self.token = value,
            "password" => self.password = value,
            "client_secret" => self.client_secret = value,
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        Self::FIELDS.iter().all(|f| self.get(f).is_none())
    }

    /// Keeps only the fields `auth` uses, so a switch of method leaves no stale secret behind.
    pub fn retain_for(&mut self, auth: &AuthConfig) {
        for field in Self::FIELDS {
            if !auth.secret_fields().contains(&field) {
                self.set(field, None);
            }
        }
    }

    /// The plaintext to seal: a JSON object of the fields that are set.
    pub fn to_sealable(&self) -> Secret<String> {
        let mut map = Map::new();
        for field in Self::FIELDS {
            if let Some(value) = self.get(field) {
                map.insert(field.to_owned(), Value::String(value.expose().clone()));
            }
        }
        Secret::new(Value::Object(map).to_string())
    }

    pub fn from_sealable(plaintext: &str) -> Result<Self, String> {
        let map: Map<String, Value> = serde_json::from_str(plaintext).map_err(|e| e.to_string())?;
        let mut secrets = Self::default();
        for field in Self::FIELDS {
            if let Some(Value::String(value)) = map.get(field) {
                secrets.set(field, Some(Secret::new(value.clone())));
            }
        }
        Ok(secrets)
    }

    /// The secret strings, for scrubbing them out of error messages.
    pub fn values(&self) -> Vec<&str> {
        Self::FIELDS.iter().filter_map(|f| self.get(f)).map(|s| s.expose().as_str()).collect()
    }

    /// Every form in which the secrets go out on a request under `auth` — as they are, and
    /// Basic auth's Base64 — for scrubbing them out of whatever comes back.
    pub fn sent_forms(&self, auth: &AuthConfig) -> Vec<String> {
        let mut forms: Vec<String> = self.values().into_iter().map(str::to_owned).collect();
        if let (AuthConfig::Basic { username }, Some(password)) = (auth, self.get("password")) {
            forms.push(STANDARD.encode(format!("{username}:{}", password.expose())));
        }
        forms
    }
}

fn require<'a>(secrets: &'a AuthSecrets, field: &str) -> Result<&'a str, CallError> {
    secrets.get(field).map(|s| s.expose().as_str()).ok_or_else(|| {
        CallError::new("auth_failed", format!("the connection has no {field} configured"))
    })
}

/// Puts static credentials (API key, bearer token, basic) on the request. OAuth2 tokens are
/// added by the caller, which owns the token cache.
pub fn apply_static(
    auth: &AuthConfig,
    secrets: &AuthSecrets,
    mut request: OutboundRequest,
) -> Result<OutboundRequest, CallError> {
    match auth {
        AuthConfig::None | AuthConfig::Oauth2ClientCredentials { .. } => {}
        AuthConfig::ApiKey { placement: ApiKeyPlacement::Header, name } => {
            request = request.secret_header(name, require(secrets, "key")?)?;
        }
        AuthConfig::ApiKey { placement: ApiKeyPlacement::Query, name } => {
            let key = require(secrets, "key")?;
            request.url.query_pairs_mut().append_pair(name, key);
            request.sensitive_query.push(name.clone());
        }
        AuthConfig::Bearer => {
            request = request.secret_header(
                "authorization",
                &format!("Bearer {}", require(secrets, "token")?),
            )?;
        }
        AuthConfig::Basic { username } => {
            let credentials =
                STANDARD.encode(format!("{username}:{}", require(secrets, "password")?));
            request = request.secret_header("authorization", &format!("Basic {credentials}"))?;
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_through_their_sealable_form() {
        let mut secrets = AuthSecrets {
            key: Some(Secret::new("k".into())),
            client_secret: Some(Secret::new("c".into())),
            ..Default::default()
        };
        let again = AuthSecrets::from_sealable(secrets.to_sealable().expose()).unwrap();
        assert_eq!(again, secrets);
        secrets.retain_for(&AuthConfig::Bearer);
        assert!(secrets.is_empty());
        assert_eq!(format!("{again:?}").matches("***").count(), 2, "{again:?}");
    }
}
