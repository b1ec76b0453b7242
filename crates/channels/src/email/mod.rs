//! E-mail channels: a support address whose mail comes in over IMAP (or a provider's inbound
//! webhook posting the raw message) and whose replies go out over SMTP. Here: the settings,
//! reading a received message (`parse`), cutting quoted history and signatures off it
//! (`quote`), and building a reply that lands in the customer's thread (`compose`). The
//! connections themselves are the engine's, made only to addresses the outbound rules allow.

mod compose;
mod parse;
mod quote;

pub use compose::{Reply, compose, message_id, message_of_id, thread_of_message_id};
pub use parse::{Automatic, InboundMail, MailFile};
pub use quote::strip_reply;

use sb_domain::ValidationError;
use serde_json::{Map, Value, json};

/// How a connection to a mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (SMTP 465, IMAP 993).
    Tls,
    /// A plain connection upgraded with STARTTLS before anything else is said (SMTP 587,
    /// IMAP 143); refused when the server does not offer it.
    StartTls,
    /// No encryption: only for a server the operator allowlisted (a relay on the same host).
    None,
}

impl Security {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "tls" => Some(Self::Tls),
            "starttls" => Some(Self::StartTls),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::StartTls => "starttls",
            Self::None => "none",
        }
    }
}

/// A mail server: where, how protected, and who logs in (the password is a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// A CA certificate (PEM) the server's certificate may also be issued by: for a mail
    /// server with a private CA. The Mozilla roots are trusted either way.
    pub ca_certificate: Option<String>,
}

/// An e-mail channel's settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    /// The support address: replies come from it, and mail from it is never answered.
    pub address: String,
    /// The name replies are signed with in `From` (the channel's name when absent).
    pub from_name: Option<String>,
    /// Where replies go out.
    pub smtp: MailServer,
    /// The mailbox to watch; without it, mail comes in only through the inbound webhook.
    pub imap: Option<MailServer>,
    /// The receiving server's `authserv-id`: a sender counts as verified only when that
    /// server's `Authentication-Results` says DMARC passed. Without it, nobody is verified.
    pub trusted_authserv_id: Option<String>,
}

const SETTINGS: [&str; 5] = ["address", "from_name", "smtp", "imap", "trusted_authserv_id"];
const SERVER_FIELDS: [&str; 5] = ["host", "port", "tls", "username", "ca_certificate"];
/// The longest CA certificate text taken.
const MAX_CA_CHARS: usize = 16 * 1024;

fn invalid(field: &str, code: &'static str, message: &str) -> ValidationError {
    ValidationError::new(field.to_owned(), code, message)
}

/// Whether `address` looks like one mailbox (`local@domain`), nothing more.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && address.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | '"'))
}

fn text<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, ValidationError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(invalid(field, "invalid_field", "must be a string")),
    }
}

impl MailServer {
    fn parse(
        raw: &Value,
        field: &str,
        default_port: u16,
        address: &str,
    ) -> Result<Self, ValidationError> {
        let object = raw.as_object().ok_or_else(|| {
            invalid(field, "invalid_field", "must be an object {host, port, tls, username}")
        })?;
        if let Some(unknown) = object.keys().find(|k| !SERVER_FIELDS.contains(&k.as_str())) {
            return Err(invalid(
                &format!("{field}.{unknown}"),
                "unknown_field",
                "not a mail server setting",
            ));
        }
        let host_field = format!("{field}.host");
        let host = text(object, "host", &host_field)?.ok_or_else(|| {
            invalid(&host_field, "missing_field", "the mail server's host name is required")
        })?;
        let host_ok = host.len() <= 253
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !host_ok {
            return Err(invalid(&host_field, "invalid_host", "must be a host name or an address"));
        }
        let port_field = format!("{field}.port");
        let port = match object.get("port") {
            None | Some(Value::Null) => default_port,
            Some(v) => {
                v.as_u64().and_then(|p| u16::try_from(p).ok()).filter(|p| *p > 0).ok_or_else(
                    || invalid(&port_field, "invalid_port", "must be a port number (1-65535)"),
                )?
            }
        };
        let tls_field = format!("{field}.tls");
        let security = match text(object, "tls", &tls_field)? {
            // The port says what it usually is.
            None if matches!(port, 465 | 993) => Security::Tls,
            None => Security::StartTls,
            Some(raw) => Security::parse(raw).ok_or_else(|| {
                invalid(&tls_field, "invalid_field", "must be \"tls\", \"starttls\" or \"none\"")
            })?,
        };
        let username = text(object, "username", &format!("{field}.username"))?.unwrap_or(address);
        let ca_field = format!("{field}.ca_certificate");
        let ca_certificate = text(object, "ca_certificate", &ca_field)?.map(str::to_owned);
        let pem_like =
            |pem: &String| pem.len() <= MAX_CA_CHARS && pem.contains("-----BEGIN CERTIFICATE-----");
        if ca_certificate.as_ref().is_some_and(|pem| !pem_like(pem)) {
            let message = "must be one PEM certificate (-----BEGIN CERTIFICATE-----…)";
            return Err(invalid(&ca_field, "invalid_certificate", message));
        }
        let (host, username) = (host.to_ascii_lowercase(), username.to_owned());
        Ok(Self { host, port, security, username, ca_certificate })
    }

    fn to_json(&self) -> Value {
        let mut server = json!({"host": self.host, "port": self.port,
            "tls": self.security.as_str(), "username": self.username});
        if let Some(pem) = &self.ca_certificate {
            server["ca_certificate"] = json!(pem);
        }
        server
    }
}

impl EmailSettings {
    /// Reads `{address, from_name?, smtp, imap?, trusted_authserv_id?}`; the normalised JSON
    /// (defaults filled in) is what is stored.
    pub fn parse(settings: &Value) -> Result<(Self, Value), ValidationError> {
        let object = settings
            .as_object()
            .ok_or_else(|| invalid("settings", "invalid_field", "settings must be an object"))?;
        if let Some(unknown) = object.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(invalid(
                &format!("settings.{unknown}"),
                "unknown_field",
                "not an e-mail setting",
            ));
        }
        let address = text(object, "address", "settings.address")?
            .ok_or_else(|| {
                invalid("settings.address", "missing_field", "the support address is required")
            })?
            .to_ascii_lowercase();
        if !valid_address(&address) {
            return Err(invalid(
                "settings.address",
                "invalid_address",
                "must be an e-mail address",
            ));
        }
        let from_name = text(object, "from_name", "settings.from_name")?.map(str::to_owned);
        if from_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 100 || n.chars().any(char::is_control))
        {
            return Err(invalid(
                "settings.from_name",
                "invalid_field",
                "must be one line of at most 100 characters",
            ));
        }
        let smtp = object.get("smtp").filter(|v| !v.is_null()).ok_or_else(|| {
            invalid(
                "settings.smtp",
                "missing_field",
                "the SMTP server replies go out through is required",
            )
        })?;
        let smtp = MailServer::parse(smtp, "settings.smtp", 587, &address)?;
        let imap = match object.get("imap") {
            None | Some(Value::Null) => None,
            Some(raw) => Some(MailServer::parse(raw, "settings.imap", 993, &address)?),
        };
        let trusted_authserv_id =
            text(object, "trusted_authserv_id", "settings.trusted_authserv_id")?
                .map(str::to_ascii_lowercase);
        let stored = json!({
            "address": address,
            "from_name": from_name,
            "smtp": smtp.to_json(),
            "imap": imap.as_ref().map(MailServer::to_json),
            "trusted_authserv_id": trusted_authserv_id,
        });
        Ok((Self { address, from_name, smtp, imap, trusted_authserv_id }, stored))
    }

    /// The domain of the support address (where this channel's Message-IDs are made).
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("localhost", |(_, domain)| domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_fill_in_what_the_ports_say() {
        let raw = json!({"address": "Help@Shop.example",
            "smtp": {"host": "smtp.shop.example"},
            "imap": {"host": "imap.shop.example", "port": 143, "username": "helpdesk"}});
        let (settings, stored) = EmailSettings::parse(&raw).unwrap();
        assert_eq!(settings.address, "help@shop.example");
        assert_eq!(settings.smtp.port, 587);
        assert_eq!(settings.smtp.security, Security::StartTls);
        assert_eq!(settings.smtp.username, "help@shop.example");
        let imap = settings.imap.unwrap();
        assert_eq!(
            (imap.port, imap.security, imap.username.as_str()),
            (143, Security::StartTls, "helpdesk")
        );
        assert_eq!(stored["smtp"]["tls"], "starttls");
        let (again, _) = EmailSettings::parse(&stored).unwrap();
        assert_eq!(again.smtp, settings.smtp);
        let implicit =
            json!({"address": "a@b.example", "smtp": {"host": "h.example", "port": 465}});
        assert_eq!(EmailSettings::parse(&implicit).unwrap().0.smtp.security, Security::Tls);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let field = |raw: Value| EmailSettings::parse(&raw).unwrap_err().field;
        assert_eq!(field(json!({"smtp": {"host": "h.example"}})), "settings.address");
        assert_eq!(
            field(json!({"address": "nope", "smtp": {"host": "h.example"}})),
            "settings.address"
        );
        assert_eq!(field(json!({"address": "a@b.example"})), "settings.smtp");
        assert_eq!(
            field(json!({"address": "a@b.example", "smtp": {"host": "h.example", "port": 0}})),
            "settings.smtp.port"
        );
        assert_eq!(
            field(json!({"address": "a@b.example", "smtp": {"host": "h.example", "tls": "maybe"}})),
            "settings.smtp.tls"
        );
        assert_eq!(
            field(json!({"address": "a@b.example", "smtp": {"host": "h x"}})),
            "settings.smtp.host"
        );
        assert_eq!(
            field(
                json!({"address": "a@b.example", "smtp": {"host": "h.example", "password": "x"}})
            ),
            "settings.smtp.password"
        );
        assert_eq!(
            field(json!({"address": "a@b.example", "smtp": {"host": "h.example"}, "pop3": {}})),
            "settings.pop3"
        );
        let not_pem = json!({"address": "a@b.example", "smtp": {"host": "h.example", "ca_certificate": "nope"}});
        assert_eq!(field(not_pem), "settings.smtp.ca_certificate");
    }
}
