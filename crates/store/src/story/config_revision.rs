//! Every change to a tenant's configuration moves its revision, in the change's own
//! transaction, and no other tenant's: what each node's configuration cache relies on.

use sb_domain::{AiSettings, AuthConfig, TenantId};

use super::connections::{connection, endpoint};
use super::conversations::widget;
use super::now;
use crate::Store;

pub(super) async fn config_revision(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let revision = async |tenant: &TenantId| store.config_revision(tenant).await.unwrap();
    let theirs = revision(other).await;
    let mut seen = revision(tenant).await;
    let mut moved = async |what: &str| {
        let now_at = revision(tenant).await;
        assert!(now_at > seen, "{what} moves the configuration revision");
        seen = now_at;
    };

    let mut settings = store.get_tenant(tenant).await.unwrap();
    settings.time_zone = "Europe/Berlin".into();
    store.update_tenant(&settings).await.unwrap();
    moved("the tenant's settings").await;

    let mut shop = widget(tenant, "Revision shop");
    store.create_widget(&shop, None).await.unwrap();
    moved("a new widget").await;
    shop.greeting = Some("Hello again".into());
    store.update_widget(&shop, None).await.unwrap();
    moved("a changed widget").await;

    let mut api = connection(tenant, "Revision API", AuthConfig::None);
    store.create_connection(&api, None).await.unwrap();
    moved("a new connection").await;
    api.base_url = "https://api.example.com/v2".into();
    store.update_connection(&api, None).await.unwrap();
    moved("a changed connection").await;
    let mut order = endpoint(&api, "revision_order");
    store.create_endpoint(&order).await.unwrap();
    moved("a new endpoint").await;
    order.request.path = "/v2/orders/{order_id}".into();
    store.update_endpoint(&order).await.unwrap();
    moved("a changed endpoint").await;
    store.create_endpoints(&[endpoint(&api, "revision_batch")]).await.unwrap();
    moved("imported endpoints").await;
    store.delete_endpoint(tenant, &order.id).await.unwrap();
    moved("a deleted endpoint").await;
    store.delete_connection(tenant, &api.id).await.unwrap();
    moved("a deleted connection").await;
    store.delete_widget(tenant, &shop.id).await.unwrap();
    moved("a deleted widget").await;

    let ai = AiSettings {
        tenant_id: tenant.clone(),
        provider: "openai".into(),
        base_url: String::new(),
        model: "small".into(),
        instructions: String::new(),
        embedding_model: String::new(),
        updated_at: now(),
    };
    store.put_ai_settings(&ai, None).await.unwrap();
    moved("AI settings").await;
    store.delete_ai_settings(tenant).await.unwrap();
    moved("removed AI settings").await;

    assert_eq!(revision(other).await, theirs, "another tenant's revision stays");
}
