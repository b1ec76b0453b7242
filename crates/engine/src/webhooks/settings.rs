//! How the webhook worker delivers (`[webhooks]` in the configuration), and when it retries.

use std::time::Duration;

use jiff::SignedDuration;
use sb_domain::Timestamp;

/// How the worker delivers (`[webhooks]` in the configuration).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often to look for due deliveries; new events wake the worker at once.
    pub poll_interval: Duration,
    /// The wait before each retry: the first after the first failure, and so on; the last
    /// repeats. Each wait is drawn between zero and this (full jitter).
    pub retry_delays: Vec<Duration>,
    /// No attempt is made later than this after the event; the delivery then fails for good.
    pub retry_window: Duration,
    /// The longest a receiver may take (the outbound client's ceiling applies too).
    pub timeout: Duration,
    pub max_in_flight: usize,
    pub max_in_flight_per_webhook: usize,
    /// At most this many of one tenant's deliveries at once on this node, so one tenant's
    /// hanging receivers cannot hold every slot.
    pub max_in_flight_per_tenant: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        let secs = Duration::from_secs;
        Self {
            poll_interval: secs(1),
            retry_delays: [5, 30, 120, 600, 1800, 3600, 7200].map(secs).to_vec(),
            retry_window: secs(24 * 3600),
            timeout: secs(5),
            max_in_flight: 8,
            max_in_flight_per_webhook: 2,
            max_in_flight_per_tenant: 4,
        }
    }
}

impl WebhookSettings {
    pub(crate) fn window(&self) -> SignedDuration {
        SignedDuration::try_from(self.retry_window).unwrap_or(SignedDuration::from_hours(24))
    }

    /// When to try again after attempt number `attempt` failed at `now`: a random point within
    /// that step's delay (full jitter), or `None` once that is past the retry window.
    pub(super) fn next_attempt(
        &self,
        attempt: u32,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let index = (attempt as usize).saturating_sub(1);
        let step = self.retry_delays.get(index).or(self.retry_delays.last())?;
        let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        let delay = SignedDuration::from_millis(i64::try_from(jitter(millis)).unwrap_or(i64::MAX));
        let at = now.checked_add(delay).ok()?;
        (at <= created_at.checked_add(self.window()).ok()?).then_some(at)
    }
}

/// A uniformly random number of milliseconds from 0 to `max`.
fn jitter(max: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("operating system random source failed");
    u64::from_le_bytes(bytes) % max.saturating_add(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_jitter_until_the_window_closes() {
        let settings = WebhookSettings::default();
        let created: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        for _ in 0..200 {
            let first = settings.next_attempt(1, created, created).unwrap();
            assert!(first >= created && first <= created + SignedDuration::from_secs(5));
            let sixth = settings.next_attempt(6, created, created).unwrap();
            assert!(sixth <= created + SignedDuration::from_hours(1));
            // Past the schedule, the last step (2 h) repeats.
            let late = created + SignedDuration::from_hours(10);
            let tenth = settings.next_attempt(10, created, late).unwrap();
            assert!(tenth >= late && tenth <= late + SignedDuration::from_hours(2));
        }
        // Nothing is scheduled past 24 h after the event.
        let end = created + SignedDuration::from_hours(24);
        assert_eq!(settings.next_attempt(30, created, end + SignedDuration::from_secs(1)), None);
        let none = WebhookSettings { retry_delays: Vec::new(), ..WebhookSettings::default() };
        assert_eq!(none.next_attempt(1, created, created), None);
        let spread: std::collections::BTreeSet<u64> = (0..100).map(|_| jitter(1000)).collect();
        assert!(spread.len() > 50 && spread.iter().all(|ms| *ms <= 1000), "full jitter spreads");
    }
}
