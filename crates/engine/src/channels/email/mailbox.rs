//! Watching an e-mail channel's IMAP mailbox. Each node keeps one connection per mailbox: it
//! takes every message that arrived since the last one taken (by UID, remembered in the
//! channel's inbound state, so a restart misses nothing and a person reading the mailbox
//! changes nothing), marks it read, and waits with IDLE (or looks every minute when the server
//! has no IDLE). Mail that was already there when the channel was set up is not answered.
//! Two nodes watching one mailbox take each message once: it is noted by its Message-ID.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use sb_channels::email::{EmailSettings, MailServer, Security};
use sb_domain::{ChannelId, ChannelKind, Timestamp};
use sb_store::StoredChannel;
use serde::{Deserialize, Serialize};

use super::tls::MailStream;
use crate::EngineError;
use crate::channels::ChannelsService;

/// How often a node looks for mailboxes added, changed or removed on other nodes.
const SYNC_EVERY: Duration = Duration::from_secs(10);
/// How long one IDLE waits before it is renewed (servers end it after 30 minutes).
const IDLE_FOR: Duration = Duration::from_secs(5 * 60);
/// How often a server without IDLE is asked.
const POLL_EVERY: Duration = Duration::from_secs(60);
/// The longest connecting and logging in may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(20);
/// The longest one command (a fetch) may take.
const COMMAND_WITHIN: Duration = Duration::from_secs(60);
/// Waits before connecting again after a failure, by failures in a row (the last repeats).
const RETRY_AFTER_SECS: [u64; 5] = [2, 10, 30, 120, 300];
/// Larger messages are not fetched (they are named in the state's error instead).
const MAX_MESSAGE_BYTES: u32 = 25 * 1024 * 1024;

/// What a mailbox's watcher last saw: the mailbox's `UIDVALIDITY` and the last UID taken,
/// when it was last reached, and the last thing that went wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MailboxState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_validity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_uid: Option<u32>,
    /// When the mailbox was last reached (a successful login, a check for new mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached_at: Option<Timestamp>,
    /// What went wrong the last time, until it works again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl MailboxState {
    pub(crate) fn of(stored: &StoredChannel) -> Self {
        let state = stored.inbound_state.as_deref().and_then(|s| serde_json::from_str(s).ok());
        state.unwrap_or_default()
    }
}

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
    /// Keeps one watcher per e-mail channel with a mailbox, until dropped: started for new
    /// channels, restarted when one changes, stopped when it goes.
    pub async fn run_mailboxes(self: Arc<Self>) {
        let mut watchers: HashMap<ChannelId, (Timestamp, tokio::task::JoinHandle<()>)> =
            HashMap::new();
        loop {
            match self.store.channels.channels_of_kind(ChannelKind::Email).await {
                Ok(channels) => {
                    let wanted: HashMap<ChannelId, Timestamp> = channels
                        .iter()
                        .filter(|s| {
                            EmailSettings::parse(&s.channel.settings)
                                .is_ok_and(|(e, _)| e.imap.is_some())
                        })
                        .map(|s| (s.channel.id.clone(), s.channel.updated_at))
                        .collect();
                    watchers.retain(|id, (version, task)| {
                        let keep = wanted.get(id) == Some(version) && !task.is_finished();
                        if !keep {
                            task.abort();
                        }
                        keep
                    });
                    for (id, version) in wanted {
                        watchers.entry(id.clone()).or_insert_with(|| {
                            (version, tokio::spawn(self.clone().watch_mailbox(id)))
                        });
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not list the mailboxes to watch"),
            }
            // A change made on this node is seen at once; one made on another, within a tick.
            let _ = tokio::time::timeout(SYNC_EVERY, self.mailboxes_changed.notified()).await;
        }
    }

    /// Watches one mailbox for as long as the task lives, connecting again after failures.
    async fn watch_mailbox(self: Arc<Self>, id: ChannelId) {
        let mut failures = 0usize;
        loop {
            let Err(why) = self.watch_once(&id).await else { return };
            tracing::warn!(channel = %id, error = %why, "an e-mail channel's mailbox could not be read");
            if let Ok(Some(stored)) = self.store.channels.find_channel(&id).await {
                let state = MailboxState { error: Some(why), ..MailboxState::of(&stored) };
                let _ = self.save_state(&id, &state).await;
            }
            let wait = RETRY_AFTER_SECS[failures.min(RETRY_AFTER_SECS.len() - 1)];
            failures += 1;
            tokio::time::sleep(Duration::from_secs(wait)).await;
        }
    }

    async fn save_state(&self, id: &ChannelId, state: &MailboxState) -> Result<(), String> {
        let json = serde_json::to_string(state).unwrap_or_default();
        self.store.channels.set_inbound_state(id, &json).await.map_err(|e| e.to_string())
    }

    /// One connection's life: `Ok` only when the channel no longer has a mailbox to watch.
    async fn watch_once(self: &Arc<Self>, id: &ChannelId) -> Result<(), String> {
        let Some(stored) = self.store.channels.find_channel(id).await.map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let (settings, _) =
            EmailSettings::parse(&stored.channel.settings).map_err(|e| e.to_string())?;
        let Some(server) = settings.imap else { return Ok(()) };
        let secrets = self.open_secrets(&stored).map_err(|e| e.to_string())?;
        let mut session = within(
            CONNECT_WITHIN,
            "connecting to the IMAP server",
            self.open_mailbox(&server, &secrets.imap_password),
        )
        .await?;
        let idle =
            session.capabilities().await.map_err(|e| failed("CAPABILITY", e))?.has_str("IDLE");
        let mailbox = session.select("INBOX").await.map_err(|e| failed("SELECT INBOX", e))?;
        let mut state = MailboxState::of(&stored);
        if state.last_uid.is_none() || state.uid_validity != mailbox.uid_validity {
            // A new channel (or a rebuilt mailbox): only what arrives from now on is answered.
            state.uid_validity = mailbox.uid_validity;
            state.last_uid = Some(mailbox.uid_next.unwrap_or(1).saturating_sub(1));
        }
        loop {
            state.reached_at = Some(Timestamp::now());
            state.error = None;
            self.save_state(id, &state).await?;
            within(
                COMMAND_WITHIN,
                "taking new mail",
                self.take_new(&mut session, &stored, &mut state),
            )
            .await?;
            if idle {
                let mut handle = session.idle();
                handle.init().await.map_err(|e| failed("IDLE", e))?;
                let (waiting, _stop) = handle.wait_with_timeout(IDLE_FOR);
                waiting.await.map_err(|e| failed("IDLE", e))?;
                session = within(COMMAND_WITHIN, "ending IDLE", async {
                    handle.done().await.map_err(|e| failed("DONE", e))
                })
                .await?;
            } else {
                tokio::time::sleep(POLL_EVERY).await;
                session.noop().await.map_err(|e| failed("NOOP", e))?;
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
        let where_ = format!("IMAP server {}:{}", server.host, server.port);
        let tcp = self
            .connector
            .http()
            .connect_tcp(&server.host, server.port)
            .await
            .map_err(|e| failed(&where_, e))?;
        let stream = match server.security {
            Security::Tls => MailStream::encrypt(tcp, &server.host).await?,
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
            client = async_imap::Client::new(MailStream::encrypt(plain, &server.host).await?);
        }
        client.login(&server.username, password).await.map_err(|(e, _)| failed("the IMAP login", e))
    }

    /// Takes every message after the last one taken, in order, moving the mark after each.
    async fn take_new(
        self: &Arc<Self>,
        session: &mut Session,
        stored: &StoredChannel,
        state: &mut MailboxState,
    ) -> Result<(), String> {
        let last = state.last_uid.unwrap_or(0);
        // `n:*` names at least the newest message, even when it is older than n.
        let mut sizes = Vec::new();
        {
            let mut fetches = session
                .uid_fetch(format!("{}:*", last + 1), "(UID RFC822.SIZE)")
                .await
                .map_err(|e| failed("FETCH", e))?;
            while let Some(fetch) = fetches.next().await {
                let fetch = fetch.map_err(|e| failed("FETCH", e))?;
                if let Some(uid) = fetch.uid.filter(|u| *u > last) {
                    sizes.push((uid, fetch.size.unwrap_or(0)));
                }
            }
        }
        sizes.sort_unstable();
        for (uid, size) in sizes {
            if size > MAX_MESSAGE_BYTES {
                tracing::warn!(channel = %stored.channel.id, uid, size, "an e-mail too large to take was left in the mailbox");
            } else if let Some(raw) = fetch_body(session, uid).await? {
                match self.take_mail(stored, &raw).await {
                    Ok(_) | Err(EngineError::Invalid(_)) => {}
                    // Not stored: the mark stays, and the message is taken on the next try.
                    Err(err) => return Err(err.to_string()),
                }
            }
            state.last_uid = Some(uid);
            self.save_state(&stored.channel.id, state).await?;
            // Read, for whoever looks at the mailbox too; the mark is what counts.
            if let Ok(updates) = session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").await {
                let _ = updates.collect::<Vec<_>>().await;
            }
        }
        Ok(())
    }
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
