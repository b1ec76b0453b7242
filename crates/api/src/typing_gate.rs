//! What a WebSocket client may send: a few frames a second, of which typing signals reach the
//! other side at most once a second per conversation. A client that floods is disconnected, so
//! an operator's inbox never drowns in typing events (or in the resyncs that follow them).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sb_domain::ConversationId;

/// More text frames than this within one second closes the socket (policy violation). Clients
/// send a typing signal every two seconds at most, so this is far above honest use.
pub(crate) const MAX_FRAMES_PER_SECOND: u32 = 20;
/// The shortest gap between two typing events relayed for one conversation.
pub(crate) const TYPING_GAP: Duration = Duration::from_secs(1);
/// Conversations remembered per socket; an operator's socket types into many.
const MAX_CONVERSATIONS: usize = 256;

/// Counts a socket's incoming frames in one-second windows.
#[derive(Debug)]
pub(crate) struct FloodGate {
    window_start: Instant,
    frames: u32,
}

impl FloodGate {
    pub(crate) fn new(now: Instant) -> Self {
        Self { window_start: now, frames: 0 }
    }

    /// Whether the frame arriving at `now` keeps the client within its allowance.
    pub(crate) fn admit(&mut self, now: Instant) -> bool {
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.frames = 0;
        }
        self.frames += 1;
        self.frames <= MAX_FRAMES_PER_SECOND
    }
}

#[derive(Debug, Clone, Copy)]
struct Relayed {
    typing: bool,
    at: Instant,
    /// A change that arrived within the gap, relayed once the gap is over.
    pending: Option<bool>,
}

/// Coalesces one socket's typing signals per conversation.
#[derive(Debug, Default)]
pub(crate) struct TypingCoalescer {
    conversations: HashMap<ConversationId, Relayed>,
}

impl TypingCoalescer {
    /// A signal arrived: `Some(typing)` to relay now, `None` to hold or drop it.
    pub(crate) fn offer(
        &mut self,
        conversation: &ConversationId,
        typing: bool,
        now: Instant,
    ) -> Option<bool> {
        if let Some(relayed) = self.conversations.get_mut(conversation) {
            if now.duration_since(relayed.at) < TYPING_GAP {
                relayed.pending = (typing != relayed.typing).then_some(typing);
                return None;
            }
            *relayed = Relayed { typing, at: now, pending: None };
            return Some(typing);
        }
        if self.conversations.len() >= MAX_CONVERSATIONS {
            self.conversations.retain(|_, r| now.duration_since(r.at) < TYPING_GAP);
        }
        self.conversations.insert(conversation.clone(), Relayed { typing, at: now, pending: None });
        Some(typing)
    }

    /// When the next held change is due, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.conversations.values().filter(|r| r.pending.is_some()).map(|r| r.at + TYPING_GAP).min()
    }

    /// The held changes whose gap is over at `now`, to relay.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(ConversationId, bool)> {
        let mut out = Vec::new();
        for (conversation, relayed) in &mut self.conversations {
            if let Some(typing) = relayed.pending
                && now.duration_since(relayed.at) >= TYPING_GAP
            {
                *relayed = Relayed { typing, at: now, pending: None };
                out.push((conversation.clone(), typing));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_after_the_allowance_and_a_new_second_starts_afresh() {
        let start = Instant::now();
        let mut gate = FloodGate::new(start);
        let admitted = (0..1000).filter(|_| gate.admit(start)).count();
        assert_eq!(admitted, MAX_FRAMES_PER_SECOND as usize);
        assert!(gate.admit(start + Duration::from_secs(1)));
    }

    #[test]
    fn typing_is_relayed_at_most_once_a_gap_and_the_last_change_is_never_lost() {
        let start = Instant::now();
        let conversation = ConversationId::new();
        let mut typing = TypingCoalescer::default();
        assert_eq!(typing.offer(&conversation, true, start), Some(true));
        // 20,000 signals within the gap: none relayed.
        let relayed = (0..20_000)
            .filter_map(|n| {
                typing.offer(&conversation, n % 2 == 0, start + Duration::from_micros(n))
            })
            .count();
        assert_eq!(relayed, 0);
        // The last one (false) differs from what was relayed: it is held, then relayed.
        let due = typing.next_due().unwrap();
        assert_eq!(due, start + TYPING_GAP);
        assert!(typing.due(due - Duration::from_millis(1)).is_empty());
        assert_eq!(typing.due(due), vec![(conversation.clone(), false)]);
        assert_eq!(typing.next_due(), None);
        // The same state again within the gap is simply dropped.
        assert_eq!(typing.offer(&conversation, false, due), None);
        assert_eq!(typing.next_due(), None);
        // Another conversation has its own gap.
        assert_eq!(typing.offer(&ConversationId::new(), true, due), Some(true));
    }
}
