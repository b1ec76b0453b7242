//! Telegram bots that fetch their updates (`updates: "polling"`): for a server Telegram cannot
//! reach (no public address). The node holding the bot asks `getUpdates` again and again, each
//! time waiting a few seconds for updates to come, takes each update as the webhook would, and
//! moves its offset past it — which tells Telegram it was taken. The offset is kept in the
//! channel's inbound state, so a restart takes up where it stopped; an update that cannot be
//! taken is asked for again a few times, then skipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_channels::telegram::{TelegramSettings, parse_updates};
use sb_domain::{ChannelId, ChannelKind, Timestamp};

use super::ChannelsService;
use super::watch::{Ended, InboundState, RENEW_EVERY};
use crate::EngineError;

/// An empty answer quicker than this waits this long before the next question.
const QUICKEST_EMPTY_ANSWER: Duration = Duration::from_secs(1);
/// What `getUpdates` is left of the outbound ceiling beyond its own wait.
const ANSWER_MARGIN: Duration = Duration::from_secs(2);

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
        // Telegram waits up to this long for an update: within the outbound ceiling.
        let ceiling = self.connector.http().config().max_timeout;
        let wait = ceiling.saturating_sub(ANSWER_MARGIN).as_secs();
        let mut state = InboundState::of(&stored);
        let mut renewed: Option<Instant> = None;
        loop {
            if renewed.is_none_or(|at| at.elapsed() >= RENEW_EVERY) {
                if !self.hold_inbound(id).await? {
                    return Ok(Ended::NotOurs);
                }
                state.reached_at = Some(Timestamp::now());
                if !self.save_inbound_state(&stored, &state).await? {
                    return Ok(Ended::Gone);
                }
                renewed = Some(Instant::now());
            }
            let offset = state.offset.unwrap_or(0);
            let asked = Instant::now();
            let request = settings.get_updates(token.expose(), offset, wait);
            let answer = match self.call(ChannelKind::Telegram, &token, request).await {
                Ok(answer) => answer,
                // The bot still has a webhook (set before it was switched to polling): it goes.
                Err(why) if why.contains("answered 409") && why.contains("webhook") => {
                    let delete = settings.delete_webhook(token.expose());
                    self.call(ChannelKind::Telegram, &token, delete).await?;
                    continue;
                }
                Err(why) => return Err(why),
            };
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
                    match taken {
                        Ok(()) | Err(EngineError::Invalid(_)) => {}
                        Err(err) if state.give_up_on(update_id) => {
                            tracing::error!(channel = %id, update_id, error = %err, "a Telegram update that could not be taken was skipped");
                        }
                        // Not stored: the offset stays, and Telegram gives the update again.
                        Err(err) => {
                            let _ = self.save_inbound_state(&stored, &state).await;
                            return Err(err.to_string());
                        }
                    }
                }
                state.offset = Some(update_id + 1);
                if state.error.take().is_some() {
                    renewed = None; // It works again: say so at once.
                }
                if !self.save_inbound_state(&stored, &state).await? {
                    return Ok(Ended::Gone);
                }
            }
            // A round went through: failures start counting again.
            *failures = 0;
        }
    }
}
