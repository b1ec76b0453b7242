//! What handling a message reads of its tenant's configuration — the tenant's settings, the
//! widget, its rules, an endpoint and its connection, the AI's tools — kept per node between
//! messages. Loading them costs a database round trip each (and decoding a widget's rules costs
//! milliseconds at a thousand rules), so each message instead reads one number, the tenant's
//! configuration revision, which every configuration change bumps in its own transaction on any
//! node; when it has moved, this node starts over for that tenant. Items load on first use.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use sb_domain::{ConnectionId, Endpoint, EndpointId, Rule, Tenant, TenantId, Widget, WidgetId};
use sb_store::{StoreResult, StoredConnection};

use crate::{ConversationsService, EngineError};

/// Tenants whose configuration is kept; past this, the cache starts over (a crude but safe
/// bound).
const MAX_TENANTS: usize = 10_000;

#[derive(Default)]
pub(crate) struct ConfigCache {
    tenants: Mutex<HashMap<TenantId, Arc<TenantConfig>>>,
}

/// One tenant's configuration as of one revision.
pub(crate) struct TenantConfig {
    revision: i64,
    tenant: Slot<(), Tenant>,
    widgets: Slot<WidgetId, Widget>,
    rules: Slot<WidgetId, Arc<[Rule]>>,
    endpoints: Slot<EndpointId, Endpoint>,
    connections: Slot<ConnectionId, StoredConnection>,
    ai_tools: Slot<(), Arc<[Endpoint]>>,
}

/// Items of one kind, by key.
struct Slot<K, V>(Mutex<HashMap<K, V>>);

impl<K: Eq + Hash, V: Clone> Slot<K, V> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    /// The item under `key`, loaded with `load` when missing. Two messages may load the same
    /// item at once; both get a current value, and the later one stays.
    async fn get<E>(&self, key: K, load: impl AsyncFnOnce() -> Result<V, E>) -> Result<V, E> {
        if let Some(value) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(value.clone());
        }
        let value = load().await?;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(key, value.clone());
        Ok(value)
    }
}

impl TenantConfig {
    fn new(revision: i64) -> Self {
        Self {
            revision,
            tenant: Slot::new(),
            widgets: Slot::new(),
            rules: Slot::new(),
            endpoints: Slot::new(),
            connections: Slot::new(),
            ai_tools: Slot::new(),
        }
    }
}

impl ConversationsService {
    /// `tenant`'s configuration as of now: one read of the revision, the rest as cached.
    pub(crate) async fn config(&self, tenant: &TenantId) -> Result<Arc<TenantConfig>, EngineError> {
        // The revision first: a change landing while an item loads makes the next message
        // start over.
        let revision = self.store.rules.config_revision(tenant).await?;
        let mut tenants = self.config_cache.tenants.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(config) = tenants.get(tenant).filter(|c| c.revision == revision) {
            return Ok(config.clone());
        }
        // Starting over for the tenant (the revision moved on some node — a configuration
        // change, or an erasure — or this node let its cache go): answers kept for the
        // tenant's endpoints go too, so an erased contact's data does not outlive its erasure
        // in another node's memory.
        self.connector.forget_answers(tenant);
        if tenants.len() >= MAX_TENANTS {
            tenants.clear();
        }
        let config = Arc::new(TenantConfig::new(revision));
        tenants.insert(tenant.clone(), config.clone());
        Ok(config)
    }

    pub(crate) async fn cached_tenant(
        &self,
        config: &TenantConfig,
        tenant: &TenantId,
    ) -> StoreResult<Tenant> {
        config.tenant.get((), async || self.accounts.tenant_by_id(tenant).await).await
    }

    pub(crate) async fn cached_widget(
        &self,
        config: &TenantConfig,
        tenant: &TenantId,
        widget: &WidgetId,
    ) -> StoreResult<Widget> {
        let load = async || Ok(self.store.widgets.get_widget(tenant, widget).await?.widget);
        config.widgets.get(widget.clone(), load).await
    }

    /// The enabled rules that apply to `widget`, in evaluation order.
    pub(crate) async fn cached_rules(
        &self,
        config: &TenantConfig,
        tenant: &TenantId,
        widget: &WidgetId,
    ) -> StoreResult<Arc<[Rule]>> {
        let load = async || Ok(self.store.rules.rules_for_widget(tenant, widget).await?.into());
        config.rules.get(widget.clone(), load).await
    }

    pub(crate) async fn cached_endpoint(
        &self,
        config: &TenantConfig,
        tenant: &TenantId,
        id: &EndpointId,
    ) -> StoreResult<Endpoint> {
        config.endpoints.get(id.clone(), async || self.connections.endpoint(tenant, id).await).await
    }

    pub(crate) async fn cached_connection(
        &self,
        config: &TenantConfig,
        tenant: &TenantId,
        id: &ConnectionId,
    ) -> StoreResult<StoredConnection> {
        let load = async || self.connections.connection(tenant, id).await;
        config.connections.get(id.clone(), load).await
    }

    /// The endpoints the AI may call as tools.
    pub(crate) async fn cached_ai_tools(
        &self,
        config: &TenantConfig,
        tenant: &TenantId,
    ) -> StoreResult<Arc<[Endpoint]>> {
        let load = async || Ok(self.connections.ai_tool_endpoints(tenant).await?.into());
        config.ai_tools.get((), load).await
    }
}
