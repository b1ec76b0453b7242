//! The mailbox watchers of a node: one task per e-mail channel with a mailbox, started for new
//! channels, restarted when one changes, stopped when it goes — and all stopped with the node
//! (each is aborted when its handle is dropped).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sb_channels::email::EmailSettings;
use sb_domain::{ChannelId, ChannelKind, Timestamp};

use crate::channels::ChannelsService;

/// How often a node looks for mailboxes added, changed or removed on other nodes.
const SYNC_EVERY: Duration = Duration::from_secs(10);

/// A running watcher, stopped when dropped.
struct Watcher(tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ChannelsService {
    /// Keeps the watchers in step with the channels, until dropped.
    pub async fn run_mailboxes(self: Arc<Self>) {
        let mut watchers: HashMap<ChannelId, (Timestamp, Watcher)> = HashMap::new();
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
                        wanted.get(id) == Some(version) && !task.0.is_finished()
                    });
                    for (id, version) in wanted {
                        watchers.entry(id.clone()).or_insert_with(|| {
                            (version, Watcher(tokio::spawn(self.clone().watch_mailbox(id))))
                        });
                    }
                }
                Err(err) => tracing::warn!(error = %err, "could not list the mailboxes to watch"),
            }
            // A change made on this node is seen at once; one made on another, within a tick.
            let _ = tokio::time::timeout(SYNC_EVERY, self.mailboxes_changed.notified()).await;
        }
    }
}
