//! Watching an e-mail channel's IMAP mailbox. One node at a time holds a mailbox (a claim it
//! renews each minute; a dead node's runs out) and keeps one connection to it: it takes every
//! message that arrived since the last one taken (by UID, remembered in the channel's inbound
//! state, so a restart misses nothing and a person reading the mailbox changes nothing),
//! marks it read, and waits with IDLE (or looks every minute when the server has no IDLE).
//! Mail that was already there when the channel was set up is not answered.

use std::sync::Arc;
use std::time::Duration;

use super::tls::MailStream;
use crate::EngineError;
use crate::channels::ChannelsService;
use crate::channels::watch::{Ended, InboundState, RENEW_EVERY};
use futures_util::StreamExt;
use sb_channels::email::{EmailSettings, MailServer, Security};
use sb_domain::{ChannelId, Timestamp};
use sb_store::StoredChannel;

/// How long one IDLE waits before it is renewed (servers end it after 30 minutes), and the
/// node's claim on the mailbox with it.
const IDLE_FOR: Duration = RENEW_EVERY;
/// How often a server without IDLE is asked.
const POLL_EVERY: Duration = Duration::from_secs(60);
/// The longest connecting and logging in may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(20);
/// The longest one command (a fetch) may take.
const COMMAND_WITHIN: Duration = Duration::from_secs(60);
/// Larger messages are not fetched (the state names the last one left behind).
const MAX_MESSAGE_BYTES: u32 = 25 * 1024 * 1024;

type Session = async_imap::Session<MailStream>;

fn failed(what: &str, err: impl std::fmt::Display) -> String {
    format!("{what}: {err}")
}

async fn within<T>(
    limit: Duration,
    what: &str,
    work: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(format!("{what} took longer than {limit:?}")))
}

impl ChannelsService {
    /// One connection's life, while this node holds the mailbox. A session that reached the
    /// mailbox starts the failures' count again.
    pub(in crate::channels) async fn watch_mailbox_once(
        self: &Arc<Self>,
        id: &ChannelId,
        failures: &mut usize,
    ) -> Result<Ended, String> {
        let Some(stored) = self.watched_channel(id).await? else { return Ok(Ended::Gone) };
        let (settings, _) =
            EmailSettings::parse(&stored.channel.settings).map_err(|e| e.to_string())?;
        let Some(server) = settings.imap else { return Ok(Ended::Gone) };
        if !self.hold_inbound(id).await? {
            return Ok(Ended::NotOurs);
        }
        let secrets = self.open_secrets(&stored).map_err(|e| e.to_string())?;
        let (mut session, idle, mailbox) = within(CONNECT_WITHIN, "opening the mailbox", async {
            let mut session = self.open_mailbox(&server, &secrets.imap_password).await?;
            let idle =
                session.capabilities().await.map_err(|e| failed("CAPABILITY", e))?.has_str("IDLE");
            let mailbox = session.select("INBOX").await.map_err(|e| failed("SELECT INBOX", e))?;
            Ok((session, idle, mailbox))
        })
        .await?;
        let mut state = InboundState::of(&stored);
        if state.last_uid.is_none() || state.uid_validity != mailbox.uid_validity {
            // A new channel (or a rebuilt mailbox): only what arrives from now on is answered.
            state.uid_validity = mailbox.uid_validity;
            state.last_uid = Some(mailbox.uid_next.unwrap_or(1).saturating_sub(1));
        }
        loop {
            if !self.hold_inbound(id).await? {
                let _ = within(COMMAND_WITHIN, "LOGOUT", async {
                    session.logout().await.map_err(|e| failed("LOGOUT", e))
                })
                .await;
                return Ok(Ended::NotOurs);
            }
            state.reached_at = Some(Timestamp::now());
            state.error = None;
            if !self.save_inbound_state(&stored, &state).await? {
                return Ok(Ended::Gone);
            }
            if !self.take_new(&mut session, &stored, &mut state).await? {
                return Ok(Ended::Gone);
            }
            // The mailbox was read and its mail taken: failures start counting again.
            *failures = 0;
            if idle {
                let mut handle = session.idle();
                within(COMMAND_WITHIN, "IDLE", async {
                    handle.init().await.map_err(|e| failed("IDLE", e))
                })
                .await?;
                let (waiting, _stop) = handle.wait_with_timeout(IDLE_FOR);
                // A server's keep-alives restart the wait's own timer: this one does not.
                let bounded = tokio::time::timeout(IDLE_FOR + COMMAND_WITHIN, waiting).await;
                if let Ok(waited) = bounded {
                    waited.map_err(|e| failed("IDLE", e))?;
                }
                session = within(COMMAND_WITHIN, "ending IDLE", async {
                    handle.done().await.map_err(|e| failed("DONE", e))
                })
                .await?;
            } else {
                tokio::time::sleep(POLL_EVERY).await;
                within(COMMAND_WITHIN, "NOOP", async {
                    session.noop().await.map_err(|e| failed("NOOP", e))
                })
                .await?;
            }
        }
    }

    /// Whether the mailbox opens (the channel's test): how many messages are in it.
    pub(in crate::channels) async fn check_mailbox(
        &self,
        server: &MailServer,
        password: &str,
    ) -> Result<u32, String> {
        within(CONNECT_WITHIN, "opening the mailbox", async {
            let mut session = self.open_mailbox(server, password).await?;
            let mailbox = session.select("INBOX").await.map_err(|e| failed("SELECT INBOX", e))?;
            let _ = session.logout().await;
            Ok(mailbox.exists)
        })
        .await
    }

    /// Connects, encrypts as the channel says, and logs in.
    async fn open_mailbox(&self, server: &MailServer, password: &str) -> Result<Session, String> {
        let ca = server.ca_certificate.as_deref();
        let where_ = format!("IMAP server {}:{}", server.host, server.port);
        let tcp = self
            .connector
            .http()
            .connect_tcp(&server.host, server.port)
            .await
            .map_err(|e| failed(&where_, e))?;
        let stream = match server.security {
            Security::Tls => MailStream::encrypt(tcp, &server.host, ca).await?,
            Security::StartTls | Security::None => MailStream::Plain(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        let greeting = client.read_response().await.map_err(|e| failed(&where_, e))?;
        if greeting.is_none() {
            return Err(format!("{where_} closed the connection without a greeting"));
        }
        if server.security == Security::StartTls {
            client
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| failed("STARTTLS", e))?;
            let plain =
                client.into_inner().into_plain().ok_or("STARTTLS on an encrypted connection")?;
            client = async_imap::Client::new(MailStream::encrypt(plain, &server.host, ca).await?);
        }
        client.login(&server.username, password).await.map_err(|(e, _)| failed("the IMAP login", e))
    }

    /// Takes every message after the last one taken, in order, moving the mark after each.
    /// Each IMAP command has its time limit; taking a message into its conversation runs to
    /// its end whatever happens to this watcher. False when the mailbox was started afresh
    /// meanwhile (this watcher stops).
    async fn take_new(
        self: &Arc<Self>,
        session: &mut Session,
        stored: &StoredChannel,
        state: &mut InboundState,
    ) -> Result<bool, String> {
        let last = state.last_uid.unwrap_or(0);
        let sizes = within(COMMAND_WITHIN, "FETCH", sizes_after(session, last)).await?;
        for (uid, size) in sizes {
            if size > MAX_MESSAGE_BYTES {
                let left = format!(
                    "a message of {} MB (UID {uid}) is too large to take and was left in the mailbox",
                    size / (1024 * 1024)
                );
                tracing::warn!(channel = %stored.channel.id, uid, size, "an e-mail too large to take was left in the mailbox");
                state.left_behind = Some(left);
            } else {
                let raw = within(COMMAND_WITHIN, "FETCH", fetch_body(session, uid)).await?;
                if let Some(raw) = raw {
                    match self.take_mail(stored.clone(), raw).await {
                        Ok(_) | Err(EngineError::Invalid(_)) => {}
                        // Not stored: the mark stays, and the message is taken on a next try
                        // — or, after a few, left in the mailbox.
                        Err(err) if state.give_up_on(i64::from(uid)) => {
                            tracing::error!(channel = %stored.channel.id, uid, error = %err, "an e-mail that could not be taken was left in the mailbox");
                            state.left_behind = Some(format!(
                                "a message (UID {uid}) could not be taken and was left in the mailbox: {err}"
                            ));
                        }
                        Err(err) => {
                            let _ = self.save_inbound_state(stored, state).await;
                            return Err(err.to_string());
                        }
                    }
                }
            }
            state.last_uid = Some(uid);
            if !self.save_inbound_state(stored, state).await? {
                return Ok(false);
            }
            // Read, for whoever looks at the mailbox too; the mark is what counts.
            let _ = within(COMMAND_WITHIN, "STORE", async {
                let updates = session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").await;
                let updates = updates.map_err(|e| failed("STORE", e))?;
                let _ = updates.collect::<Vec<_>>().await;
                Ok(())
            })
            .await;
        }
        Ok(true)
    }
}

/// The UIDs after `last`, with their sizes, in order.
async fn sizes_after(session: &mut Session, last: u32) -> Result<Vec<(u32, u32)>, String> {
    // `n:*` names at least the newest message, even when it is older than n.
    let mut fetches = session
        .uid_fetch(format!("{}:*", last + 1), "(UID RFC822.SIZE)")
        .await
        .map_err(|e| failed("FETCH", e))?;
    let mut sizes = Vec::new();
    while let Some(fetch) = fetches.next().await {
        let fetch = fetch.map_err(|e| failed("FETCH", e))?;
        if let Some(uid) = fetch.uid.filter(|u| *u > last) {
            sizes.push((uid, fetch.size.unwrap_or(0)));
        }
    }
    sizes.sort_unstable();
    Ok(sizes)
}

/// The whole message `uid`, left unread until taken.
async fn fetch_body(session: &mut Session, uid: u32) -> Result<Option<Vec<u8>>, String> {
    let mut fetches = session
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await
        .map_err(|e| failed("FETCH", e))?;
    let mut body = None;
    while let Some(fetch) = fetches.next().await {
        let fetch = fetch.map_err(|e| failed("FETCH", e))?;
        if fetch.uid == Some(uid) {
            body = fetch.body().map(<[u8]>::to_vec);
        }
    }
    Ok(body)
}
