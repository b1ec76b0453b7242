//! A budget of backend calls per tenant and minute, so that a flood of visitor messages (or a
//! rule that loops through lookups) cannot turn Switchboard into a hammer on a tenant's backend.
//! Per node, like the other rate limits.

use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sb_domain::TenantId;

pub(crate) struct OutboundBudget {
    /// `None`: no budget.
    limiter: Option<DefaultKeyedRateLimiter<TenantId>>,
}

impl OutboundBudget {
    /// `per_minute` calls, refilled evenly, all of them available in a burst; 0: unlimited.
    pub(crate) fn per_minute(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        Self { limiter }
    }

    /// Takes one call from the tenant's budget; false when none is left.
    pub(crate) fn take(&self, tenant: &TenantId) -> bool {
        self.limiter.as_ref().is_none_or(|l| l.check_key(tenant).is_ok())
    }
}
