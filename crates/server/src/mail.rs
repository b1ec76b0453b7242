//! E-mail for password-reset and invitation links, over SMTP (STARTTLS, TLS, or plain for a relay
//! on the same machine). The SMTP server is the operator's, configured with the server, so it is
//! trusted like the AI provider: tenants cannot point it anywhere.

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sb_domain::Email;
use sb_engine::accounts::Mailer;

use crate::config::SmtpConfig;

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("from", &self.from.to_string()).finish()
    }
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = match config.tls.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?,
            _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
        };
        let mut builder =
            builder.port(config.port).timeout(Some(std::time::Duration::from_secs(10)));
        if !config.username.is_empty() {
            builder = builder
                .credentials(Credentials::new(config.username.clone(), config.password.clone()));
        }
        Ok(Self { transport: builder.build(), from: config.from.parse()? })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, to: &Email, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.as_str().parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| e.to_string())?;
        self.transport.send(message).await.map(drop).map_err(|e| e.to_string())
    }
}
