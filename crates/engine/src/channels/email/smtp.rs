//! Replies out over SMTP: one connection per delivery pass of a thread, made through the
//! outbound rules (a private address is refused unless allowlisted), encrypted as the channel
//! says (TLS, or STARTTLS — refused when the server does not offer it), logged in when the
//! channel has a password.

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use sb_channels::OutgoingFile;
use sb_channels::email::{EmailSettings, Reply, Security, compose};
use sb_net::HttpClient;
use sb_secrets::Secret;

use super::MailThread;
use super::tls::MailStream;

/// The longest one message may take to go out (connecting included).
const SEND_WITHIN: Duration = Duration::from_secs(20);
/// The longest a goodbye (QUIT) is waited for.
const GOODBYE_WITHIN: Duration = Duration::from_secs(2);

/// A channel's SMTP side: its settings, its password, and the connection once made.
pub(in crate::channels) struct MailSender {
    pub settings: EmailSettings,
    /// The name replies are signed with (the channel's, unless the settings name one).
    pub from_name: String,
    password: Option<Secret<String>>,
    connection: Option<AsyncSmtpConnection>,
}

/// What went wrong, with the password kept out.
fn failed(what: &str, err: impl std::fmt::Display) -> String {
    format!("{what}: {err}")
}

async fn within_send<T>(work: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(SEND_WITHIN, work)
        .await
        .unwrap_or_else(|_| Err(format!("the SMTP server took longer than {SEND_WITHIN:?}")))
}

impl MailSender {
    pub(in crate::channels) fn new(
        settings: EmailSettings,
        channel_name: &str,
        password: &str,
    ) -> Self {
        let from_name = settings.from_name.clone().unwrap_or_else(|| channel_name.to_owned());
        let password = (!password.is_empty()).then(|| Secret::new(password.to_owned()));
        Self { settings, from_name, password, connection: None }
    }

    async fn connect(&self, http: &HttpClient) -> Result<AsyncSmtpConnection, String> {
        let server = &self.settings.smtp;
        let tcp = http
            .connect_tcp(&server.host, server.port)
            .await
            .map_err(|e| failed(&format!("SMTP server {}:{}", server.host, server.port), e))?;
        let hello = ClientId::Domain(self.settings.domain().to_owned());
        let stream = match server.security {
            Security::Tls => {
                MailStream::encrypt(tcp, &server.host, server.ca_certificate.as_deref()).await?
            }
            Security::StartTls | Security::None => MailStream::Plain(tcp),
        };
        let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
            .await
            .map_err(|e| failed("the SMTP server's greeting", e))?;
        if server.security == Security::StartTls {
            let mut tls = TlsParameters::builder(server.host.clone());
            if let Some(pem) = &server.ca_certificate {
                let ca = Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| failed("the CA certificate", e))?;
                tls = tls.add_root_certificate(ca);
            }
            let tls = tls.build().map_err(|e| failed("TLS", e))?;
            connection.starttls(tls, &hello).await.map_err(|e| failed("STARTTLS", e))?;
        }
        if let Some(password) = &self.password {
            let credentials = Credentials::new(server.username.clone(), password.expose().clone());
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                .await
                .map_err(|e| failed("the SMTP login", e))?;
        }
        Ok(connection)
    }

    /// Sends `text` into `thread` as message `message_id`; connects on first use.
    pub(in crate::channels) async fn send(
        &mut self,
        http: &HttpClient,
        thread: &MailThread,
        message_id: &str,
        text: &str,
        files: &[&OutgoingFile],
        automatic: bool,
    ) -> Result<(), String> {
        let reply = Reply {
            from_address: &self.settings.address,
            from_name: &self.from_name,
            to: &thread.to,
            to_name: thread.name.as_deref(),
            subject: &thread.subject,
            references: &thread.references,
            message_id,
            text,
            files,
            automatic,
        };
        let (bytes, envelope) = compose(&reply)?;
        let sending = async {
            if self.connection.is_none() {
                self.connection = Some(self.connect(http).await?);
            }
            let connection = self.connection.as_mut().expect("connected above");
            connection.send(&envelope, &bytes).await.map(drop).map_err(|e| failed("SMTP", e))
        };
        let sent = within_send(sending).await.map_err(|why| self.scrub(why));
        if sent.is_err() {
            // A connection that failed once is not trusted with the next message; dropped
            // without a goodbye, which a stalled server would never answer.
            self.connection = None;
        }
        sent
    }

    /// `text` without the password (a server may echo what it was sent).
    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(password) if !password.expose().is_empty() => {
                text.replace(password.expose().as_str(), "***")
            }
            _ => text,
        }
    }

    /// Whether the server can be reached, encrypted and logged in to (the channel's test).
    pub(in crate::channels) async fn check(&mut self, http: &HttpClient) -> Result<(), String> {
        let connecting = within_send(self.connect(http)).await.map_err(|why| self.scrub(why))?;
        self.connection = Some(connecting);
        self.close().await;
        Ok(())
    }

    /// Says goodbye to the server, when connected (briefly: the connection is dropped anyway).
    pub(in crate::channels) async fn close(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = tokio::time::timeout(GOODBYE_WITHIN, connection.quit()).await;
        }
    }
}
