//! The rules each message is walked through, kept per widget between messages. Loading and
//! decoding a widget's rules from the database costs far more than evaluating them (milliseconds
//! at a thousand rules), so each node keeps them and reloads only when the tenant's rules
//! revision — bumped in the transaction of every rule change, on any node — has moved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sb_domain::{Rule, TenantId, WidgetId};

use crate::{ConversationsService, EngineError};

/// Widgets whose rules are kept; past this, the cache starts over (a crude but safe bound).
const MAX_WIDGETS: usize = 10_000;

struct Cached {
    revision: i64,
    rules: Arc<[Rule]>,
}

#[derive(Default)]
pub(crate) struct RuleCache {
    widgets: Mutex<HashMap<(TenantId, WidgetId), Cached>>,
}

impl ConversationsService {
    /// The enabled rules that apply to `widget`, in evaluation order, current as of this call.
    pub(crate) async fn rules_for(
        &self,
        tenant: &TenantId,
        widget: &WidgetId,
    ) -> Result<Arc<[Rule]>, EngineError> {
        // The revision first: a change landing while the rules load makes the next call reload.
        let revision = self.store.rules.rules_revision(tenant).await?;
        let key = (tenant.clone(), widget.clone());
        {
            let widgets = self.rule_cache.widgets.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = widgets.get(&key).filter(|c| c.revision == revision) {
                return Ok(cached.rules.clone());
            }
        }
        let rules: Arc<[Rule]> = self.store.rules.rules_for_widget(tenant, widget).await?.into();
        let mut widgets = self.rule_cache.widgets.lock().unwrap_or_else(|p| p.into_inner());
        if widgets.len() >= MAX_WIDGETS {
            widgets.clear();
        }
        widgets.insert(key, Cached { revision, rules: rules.clone() });
        Ok(rules)
    }
}
