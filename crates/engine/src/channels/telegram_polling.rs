//! Telegram bots that fetch their updates (`updates: "polling"`): for a server Telegram cannot
//! reach (no public address). The node holding the bot asks `getUpdates` again and again, each
//! time waiting a few seconds for updates to come, takes each update as the webhook would, and
//! moves its offset past it — which tells Telegram it was taken. The offset is kept in the
//! channel's inbound state, so a restart takes up where it stopped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_channels::telegram::{TelegramSettings, parse_updates};
use sb_domain::{ChannelId, ChannelKind, Timestamp};

use super::ChannelsService;
use super::watch::{Ended, InboundState};

/// How often the claim on the bot is renewed and the state written while polling goes well.
const RENEW_EVERY: Duration = Duration::from_secs(60);
/// An empty answer quicker than this waits this long before the next question.
const QUICKEST_EMPTY_ANSWER: Duration = Duration::from_secs(1);

impl ChannelsService {
    /// Polls the bot for as long as this node holds it and the channel polls.
    pub(super) async fn poll_telegram_once(
        self: &Arc<Self>,
        id: &ChannelId,
        failures: &mut usize,
    ) -> Result<Ended, String> {
        let Some(stored) = self.watched_channel(id).await? else { return Ok(Ended::Gone) };
        let (settings, _) =
            TelegramSettings::parse(&stored.channel.settings).map_err(|e| e.to_string())?;
        if !settings.polling {
            return Ok(Ended::Gone);
        }
        let secrets = self.open_secrets(&stored).map_err(|e| e.to_string())?;
        let token = secrets.token(ChannelKind::Telegram);
        let mut state = InboundState::of(&stored);
        let mut renewed: Option<Instant> = None;
        loop {
            if renewed.is_none_or(|at| at.elapsed() >= RENEW_EVERY) {
                if !self.hold_inbound(id).await? {
                    return Ok(Ended::NotOurs);
                }
                state.reached_at = Some(Timestamp::now());
                self.save_inbound_state(id, &state).await?;
                renewed = Some(Instant::now());
            }
            let offset = state.offset.unwrap_or(0);
            let request = settings.get_updates(token.expose(), offset);
            let asked = Instant::now();
            let answer = self.call(ChannelKind::Telegram, &token, request).await?;
            *failures = 0;
            if state.error.take().is_some() {
                // It works again: say so at once.
                renewed = None;
            }
            let updates = parse_updates(&answer)?;
            if updates.is_empty() && asked.elapsed() < QUICKEST_EMPTY_ANSWER {
                // An API that answers "nothing" at once (not waiting as asked) is not asked
                // again at once.
                tokio::time::sleep(QUICKEST_EMPTY_ANSWER).await;
            }
            for (update_id, incoming) in updates {
                if let Some(incoming) = incoming {
                    let taken = self
                        .take_to_the_end(stored.clone(), secrets.clone(), incoming, "telegram")
                        .await;
                    // Not stored: the offset stays, and Telegram gives the update again.
                    taken.map_err(|e| e.to_string())?;
                }
                state.offset = Some(update_id + 1);
                self.save_inbound_state(id, &state).await?;
            }
        }
    }
}
