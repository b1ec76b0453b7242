//! Brute-force protection for login and signup: attempts are counted per client address and per
//! account (e-mail), so neither one address nor a botnet aimed at one account gets far.
//! Limits are per node; with several nodes behind a balancer the effective limit is N times.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

pub struct LoginLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn rejection(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    ApiError::rate_limited(wait.as_secs().max(1))
}

impl LoginLimits {
    pub fn new(per_ip: u32, per_account: u32) -> Self {
        Self {
            per_ip: RateLimiter::keyed(per_minute(per_ip)),
            per_account: RateLimiter::keyed(per_minute(per_account)),
        }
    }

    /// Counts one attempt from `ip` (and for `account`, when given); fails with 429 when either
    /// is over its limit.
    pub fn check(&self, ip: IpAddr, account: Option<&str>) -> Result<(), ApiError> {
        self.per_ip.check_key(&ip).map_err(rejection)?;
        if let Some(account) = account {
            let key = account.trim().to_lowercase();
            self.per_account.check_key(&key).map_err(rejection)?;
        }
        Ok(())
    }

    /// Forgets keys whose buckets are full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

/// Limits on the public visitor API, so one client cannot flood a tenant's inbox or backends.
pub struct VisitorLimits {
    starts_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    messages_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    messages_per_conversation: DefaultKeyedRateLimiter<sb_domain::ConversationId>,
    /// Caps on a whole widget, whatever the addresses: many clients (a botnet, a runaway
    /// script on the tenant's page) cannot flood one inbox either.
    starts_per_widget: DefaultKeyedRateLimiter<sb_domain::WidgetId>,
    messages_per_widget: DefaultKeyedRateLimiter<sb_domain::WidgetId>,
}

/// Per-minute visitor limits.
pub struct VisitorQuotas {
    pub starts_per_ip: u32,
    pub messages_per_conversation: u32,
    pub starts_per_widget: u32,
    pub messages_per_widget: u32,
}

impl VisitorLimits {
    pub fn new(quotas: &VisitorQuotas) -> Self {
        let messages = quotas.messages_per_conversation;
        Self {
            starts_per_ip: RateLimiter::keyed(per_minute(quotas.starts_per_ip)),
            messages_per_ip: RateLimiter::keyed(per_minute(messages.saturating_mul(4))),
            messages_per_conversation: RateLimiter::keyed(per_minute(messages)),
            starts_per_widget: RateLimiter::keyed(per_minute(quotas.starts_per_widget)),
            messages_per_widget: RateLimiter::keyed(per_minute(quotas.messages_per_widget)),
        }
    }

    pub fn check_start(&self, ip: IpAddr, widget: &sb_domain::WidgetId) -> Result<(), ApiError> {
        self.starts_per_ip.check_key(&ip).map_err(rejection)?;
        self.starts_per_widget.check_key(widget).map_err(rejection)
    }

    pub fn check_message(
        &self,
        ip: IpAddr,
        conversation: &sb_domain::Conversation,
    ) -> Result<(), ApiError> {
        self.messages_per_ip.check_key(&ip).map_err(rejection)?;
        self.messages_per_conversation.check_key(&conversation.id).map_err(rejection)?;
        self.messages_per_widget.check_key(&conversation.widget_id).map_err(rejection)
    }

    pub fn forget_idle(&self) {
        self.starts_per_ip.retain_recent();
        self.messages_per_ip.retain_recent();
        self.messages_per_conversation.retain_recent();
        self.starts_per_widget.retain_recent();
        self.messages_per_widget.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_per_address_and_per_account() {
        let limits = LoginLimits::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits.check(a, Some("x@example.com")).is_ok());
        assert!(limits.check(b, Some("X@example.com ")).is_ok());
        let err = limits.check(b, Some("x@example.com")).unwrap_err();
        assert_eq!(err.code, "rate_limited");
        assert!(err.retry_after.unwrap() >= 1);
        assert!(limits.check(a, None).is_ok());
        assert!(limits.check(a, None).is_ok());
        assert_eq!(limits.check(a, None).unwrap_err().status, 429);
    }
}
