//! Authentication as submitted by a tenant: the public settings and the secrets together.
//! Secrets may be left out of an update to keep the stored ones.

use std::collections::BTreeMap;

use sb_connectors::AuthSecrets;
use sb_domain::{ApiKeyPlacement, AuthConfig, ClientAuth, RefreshOn, ValidationError};
use sb_net::{SsrfPolicy, Url};
use sb_secrets::Secret;
use serde::Deserialize;

use super::validate::{check_public_url, header_name};

/// How the backend authenticates calls. Secret fields (`key`, `token`, `password`,
/// `client_secret`) are write-only; left out of an update, the stored value is kept.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthInput {
    None,
    ApiKey {
        #[serde(default)]
        placement: Option<ApiKeyPlacement>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        key: Option<Secret<String>>,
    },
    Bearer {
        #[serde(default)]
        token: Option<Secret<String>>,
    },
    Basic {
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<Secret<String>>,
    },
    Oauth2ClientCredentials {
        #[serde(default)]
        token_url: Option<String>,
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        client_secret: Option<Secret<String>>,
        #[serde(default)]
        scope: Option<String>,
        #[serde(default)]
        audience: Option<String>,
        #[serde(default)]
        client_auth: Option<ClientAuth>,
        #[serde(default)]
        refresh_on: Option<RefreshOn>,
    },
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn required_text(field: &str, value: Option<String>) -> Result<String, ValidationError> {
    let Some(value) = value else {
        return Err(ValidationError::new(
            format!("auth.{field}"),
            "missing_field",
            format!("missing field `{field}`"),
        ));
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(format!("auth.{field}"), "required", "must not be empty"));
    }
    Ok(value.to_owned())
}

impl AuthInput {
    /// On an update of the same method, settings left out keep their stored value, as secrets
    /// do: `{"type": "oauth2_client_credentials", "client_secret": "new"}` changes the secret
    /// alone. A change of method starts from nothing, so it must name what the method needs.
    pub fn keep_unsent(&mut self, stored: &AuthConfig) {
        fn keep<T: Clone>(sent: &mut Option<T>, stored: &T) {
            if sent.is_none() {
                *sent = Some(stored.clone());
            }
        }
        match (self, stored) {
            (
                AuthInput::ApiKey { placement, name, .. },
                AuthConfig::ApiKey { placement: kept_placement, name: kept_name },
            ) => {
                keep(placement, kept_placement);
                keep(name, kept_name);
            }
            (AuthInput::Basic { username, .. }, AuthConfig::Basic { username: kept }) => {
                keep(username, kept);
            }
            (
                AuthInput::Oauth2ClientCredentials {
                    token_url,
                    client_id,
                    scope,
                    audience,
                    client_auth,
                    refresh_on,
                    ..
                },
                AuthConfig::Oauth2ClientCredentials {
                    token_url: kept_url,
                    client_id: kept_id,
                    scope: kept_scope,
                    audience: kept_audience,
                    client_auth: kept_auth,
                    refresh_on: kept_refresh,
                },
            ) => {
                keep(token_url, kept_url);
                keep(client_id, kept_id);
                if let Some(kept) = kept_scope {
                    keep(scope, kept);
                }
                if let Some(kept) = kept_audience {
                    keep(audience, kept);
                }
                keep(client_auth, kept_auth);
                keep(refresh_on, kept_refresh);
            }
            _ => {}
        }
    }

    /// Splits into the public settings and the secrets that were sent.
    pub fn into_parts(
        self,
        policy: &SsrfPolicy,
    ) -> Result<(AuthConfig, BTreeMap<&'static str, Secret<String>>), ValidationError> {
        let mut secrets = BTreeMap::new();
        let mut keep =
            |field: &'static str, value: Option<Secret<String>>| -> Result<(), ValidationError> {
                if let Some(value) = value {
                    if value.expose().is_empty() {
                        return Err(ValidationError::new(
                            format!("auth.{field}"),
                            "required",
                            "must not be empty",
                        ));
                    }
                    secrets.insert(field, value);
                }
                Ok(())
            };
        let config = match self {
            AuthInput::None => AuthConfig::None,
            AuthInput::ApiKey { placement, name, key } => {
                keep("key", key)?;
                let placement = placement.unwrap_or(ApiKeyPlacement::Header);
                let name = blank_to_none(name).unwrap_or_else(|| "X-Api-Key".into());
                if placement == ApiKeyPlacement::Header {
                    header_name("auth.name", &name)?;
                }
                AuthConfig::ApiKey { placement, name }
            }
            AuthInput::Bearer { token } => {
                keep("token", token)?;
                AuthConfig::Bearer
            }
            AuthInput::Basic { username, password } => {
                keep("password", password)?;
                let username = required_text("username", username)?;
                if username.contains(':') {
                    return Err(ValidationError::new(
                        "auth.username",
                        "invalid_field",
                        "a Basic auth username cannot contain ':'",
                    ));
                }
                AuthConfig::Basic { username }
            }
            AuthInput::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
                audience,
                client_auth,
                refresh_on,
            } => {
                keep("client_secret", client_secret)?;
                let token_url = required_text("token_url", token_url)?;
                let url = Url::parse(&token_url).map_err(|err| {
                    ValidationError::new(
                        "auth.token_url",
                        "invalid_url",
                        format!("not a URL: {err}"),
                    )
                })?;
                check_public_url("auth.token_url", &url, policy)?;
                let refresh_on = refresh_on.unwrap_or_default();
                if let Some(path) = &refresh_on.body_path {
                    sb_connectors::mapping::JsonPath::parse(path).map_err(|why| {
                        ValidationError::new("auth.refresh_on.body_path", "invalid_path", why)
                    })?;
                }
                AuthConfig::Oauth2ClientCredentials {
                    token_url: url.to_string(),
                    client_id: required_text("client_id", client_id)?,
                    scope: blank_to_none(scope),
                    audience: blank_to_none(audience),
                    client_auth: client_auth.unwrap_or_default(),
                    refresh_on,
                }
            }
        };
        Ok((config, secrets))
    }
}

/// Combines newly sent secrets with the stored ones: a secret left out of an update is kept if
/// the method did not change; every secret the method needs must end up set.
pub fn merge_secrets(
    auth: &AuthConfig,
    sent: BTreeMap<&'static str, Secret<String>>,
    stored: Option<(&AuthConfig, AuthSecrets)>,
) -> Result<AuthSecrets, ValidationError> {
    let mut secrets = match stored {
        Some((old, secrets)) if old.type_name() == auth.type_name() => secrets,
        _ => AuthSecrets::default(),
    };
    for (field, value) in sent {
        secrets.set(field, Some(value));
    }
    secrets.retain_for(auth);
    for field in auth.secret_fields() {
        if secrets.get(field).is_none() {
            return Err(ValidationError::new(
                format!("auth.{field}"),
                "missing_field",
                format!("{} authentication needs {field}", auth.type_name()),
            ));
        }
    }
    Ok(secrets)
}
