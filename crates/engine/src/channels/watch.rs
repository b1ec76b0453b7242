//! What a node watches on the channels' inbound side: the IMAP mailboxes of e-mail channels
//! (`email/mailbox.rs`) and the Telegram bots that fetch their updates by long polling
//! (`telegram_polling.rs`). One task per channel, started for new channels, restarted when one
//! changes, stopped when it goes — and all stopped with the node (a task is aborted when its
//! handle is dropped). One node at a time holds a channel's inbound side (a claim renewed
//! while it works; a dead node's runs out), so its cursor has one writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sb_channels::telegram::TelegramSettings;
use sb_domain::{Channel, ChannelId, ChannelKind, Timestamp};
use sb_store::StoredChannel;
use serde::{Deserialize, Serialize};

use super::ChannelsService;

/// How often a node looks for channels added, changed or removed on other nodes.
const SYNC_EVERY: Duration = Duration::from_secs(10);
/// How long a node's claim on a channel's inbound side lasts: a node that dies leaves it to
/// another after this (a node that stops lets go at once). Watchers renew it every
/// [`RENEW_EVERY`].
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);
pub(super) const RENEW_EVERY: Duration = Duration::from_secs(20);
/// How long a node waits before asking again for a channel another node watches.
const NOT_OURS_WAIT: Duration = Duration::from_secs(15);
/// Tries of one received item that cannot be taken before it is skipped.
const MAX_TRIES: u32 = 5;
/// Waits before trying again after a failure, by failures in a row (the last repeats).
const RETRY_AFTER_SECS: [u64; 5] = [2, 10, 30, 120, 300];

/// What a channel's inbound watcher last saw: its place (an IMAP mailbox's `UIDVALIDITY` and
/// last UID taken; Telegram's next update id), when the provider was last reached, and the
/// last thing that went wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InboundState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid_validity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// When the provider was last reached (a login, a check for new messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached_at: Option<Timestamp>,
    /// What went wrong the last time, until it works again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last message left in the mailbox for its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_behind: Option<String>,
    /// The item (a UID, an update id) that could not be taken, and how often it was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing: Option<i64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failing_tries: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl InboundState {
    pub(crate) fn of(stored: &StoredChannel) -> Self {
        let state = stored.inbound_state.as_deref().and_then(|s| serde_json::from_str(s).ok());
        state.unwrap_or_default()
    }

    /// `item` could not be taken: true when it has been tried often enough to be skipped (one
    /// message must not stop a mailbox or a bot for good), counted otherwise.
    pub(super) fn give_up_on(&mut self, item: i64) -> bool {
        if self.failing == Some(item) {
            self.failing_tries += 1;
        } else {
            (self.failing, self.failing_tries) = (Some(item), 1);
        }
        let give_up = self.failing_tries >= MAX_TRIES;
        if give_up {
            (self.failing, self.failing_tries) = (None, 0);
        }
        give_up
    }
}

/// How one watch ended.
pub(super) enum Ended {
    /// The channel no longer has anything to watch.
    Gone,
    /// Another node watches it.
    NotOurs,
}

/// What a watcher is keyed by: it restarts when what it watches changes (settings, secrets, a
/// fresh start), not when the channel is renamed or paused.
fn version_of(stored: &StoredChannel) -> String {
    let sealed = stored.sealed_secrets.as_deref().unwrap_or_default();
    format!("{}|{sealed}|{}", stored.channel.settings, stored.inbound_generation)
}

/// What a channel's inbound side is watched for, if anything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Watched {
    Mailbox,
    TelegramUpdates,
}

fn watched(channel: &Channel) -> Option<Watched> {
    match channel.kind {
        ChannelKind::Email => super::has_mailbox(channel).then_some(Watched::Mailbox),
        ChannelKind::Telegram => TelegramSettings::parse(&channel.settings)
            .is_ok_and(|(t, _)| t.polling)
            .then_some(Watched::TelegramUpdates),
        _ => None,
    }
}

/// Whether a channel's inbound side is watched by a node (and so has a state to show).
pub(super) fn is_watched(channel: &Channel) -> bool {
    watched(channel).is_some()
}

/// A running watcher, stopped when dropped.
struct Watcher(tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ChannelsService {
    /// Keeps the watchers in step with the channels, until dropped.
    pub async fn run_watchers(self: Arc<Self>) {
        let mut watchers: HashMap<ChannelId, (String, Watcher)> = HashMap::new();
        loop {
            match self.watched_channels().await {
                Ok(wanted) => {
                    watchers.retain(|id, (version, task)| {
                        wanted.get(id).map(|(v, _)| v) == Some(version) && !task.0.is_finished()
                    });
                    for (id, (version, what)) in wanted {
                        watchers.entry(id.clone()).or_insert_with(|| {
                            let task = tokio::spawn(self.clone().watch(id, what));
                            (version, Watcher(task))
                        });
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not list the channels to watch"),
            }
            // A change made on this node is seen at once; one made on another, within a tick.
            let _ = tokio::time::timeout(SYNC_EVERY, self.watched_changed.notified()).await;
        }
    }

    async fn watched_channels(
        &self,
    ) -> Result<HashMap<ChannelId, (String, Watched)>, sb_store::StoreError> {
        let mut wanted = HashMap::new();
        for kind in [ChannelKind::Email, ChannelKind::Telegram] {
            for stored in self.store.channels.channels_of_kind(kind).await? {
                if let Some(what) = watched(&stored.channel) {
                    wanted.insert(stored.channel.id.clone(), (version_of(&stored), what));
                }
            }
        }
        Ok(wanted)
    }

    /// Lets go of every channel this node watches (the node stops): another node, or this one
    /// restarted, goes on at once.
    pub async fn stop_watching(&self) {
        if let Err(err) = self.store.channels.release_inbound(&self.node).await {
            tracing::warn!(error = %err, "could not let go of the watched channels");
        }
    }

    /// Watches one channel for as long as the task lives, trying again after failures.
    async fn watch(self: Arc<Self>, id: ChannelId, what: Watched) {
        let mut failures = 0usize;
        loop {
            let once = match what {
                Watched::Mailbox => self.watch_mailbox_once(&id, &mut failures).await,
                Watched::TelegramUpdates => self.poll_telegram_once(&id, &mut failures).await,
            };
            let wait = match once {
                Ok(Ended::Gone) => return,
                Ok(Ended::NotOurs) => NOT_OURS_WAIT,
                Err(why) => {
                    tracing::warn!(channel = %id, error = %why, "a channel's inbound side could not be read");
                    if let Ok(Some(stored)) = self.store.channels.find_channel(&id).await {
                        let state = InboundState { error: Some(why), ..InboundState::of(&stored) };
                        let _ = self.save_inbound_state(&stored, &state).await;
                    }
                    let wait = RETRY_AFTER_SECS[failures.min(RETRY_AFTER_SECS.len() - 1)];
                    failures += 1;
                    Duration::from_secs(wait)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// The channel as it is now, `None` when it is gone.
    pub(super) async fn watched_channel(
        &self,
        id: &ChannelId,
    ) -> Result<Option<StoredChannel>, String> {
        self.store.channels.find_channel(id).await.map_err(|e| e.to_string())
    }

    /// Writes the watcher's state: `false` when the channel's inbound side was started afresh
    /// since `stored` was read (the watcher must stop: a new one starts from the fresh state).
    pub(super) async fn save_inbound_state(
        &self,
        stored: &StoredChannel,
        state: &InboundState,
    ) -> Result<bool, String> {
        let json = serde_json::to_string(state).unwrap_or_default();
        let (id, generation) = (&stored.channel.id, stored.inbound_generation);
        let saved = self.store.channels.set_inbound_state(id, &json, generation).await;
        saved.map_err(|e| e.to_string())
    }

    /// Holds (or renews) this node's claim on the channel's inbound side; false when another
    /// node has it.
    pub(super) async fn hold_inbound(&self, id: &ChannelId) -> Result<bool, String> {
        let now = Timestamp::now();
        let until = now.checked_add(LEASE).unwrap_or(now);
        let claimed = self.store.channels.claim_inbound(id, &self.node, now, until).await;
        claimed.map_err(|e| e.to_string())
    }
}
