//! Who may do what with webhooks: admins only; another tenant's do not exist.

use sb_domain::{PageRequest, WebhookId};

use super::WebhookDraft;
use crate::testing::{assert_forbidden, assert_not_found, assert_permitted, world};

fn draft() -> WebhookDraft {
    WebhookDraft {
        url: Some("https://hooks.example.test/switchboard".into()),
        events: Some(vec!["conversation.created".into()]),
        ..WebhookDraft::default()
    }
}

#[tokio::test]
async fn only_admins_see_and_change_webhooks() {
    let w = world().await;
    let webhooks = &w.services.webhooks;
    assert_forbidden(webhooks.create_webhook(&w.operator, draft()).await);
    let id = webhooks.create_webhook(&w.admin, draft()).await.unwrap().webhook.id;
    assert_forbidden(webhooks.list_webhooks(&w.operator, &PageRequest::first(10)).await);
    assert_forbidden(webhooks.get_webhook(&w.operator, &id).await);
    assert_forbidden(webhooks.update_webhook(&w.operator, &id, draft()).await);
    assert_forbidden(webhooks.rotate_webhook_secret(&w.operator, &id).await);
    assert_forbidden(webhooks.delete_webhook(&w.operator, &id).await);
    assert_forbidden(webhooks.webhook_deliveries(&w.operator, &id, &PageRequest::first(10)).await);
    // Operators' attempts do not use up the admins' test allowance.
    for _ in 0..=super::TESTS_PER_MINUTE {
        assert_forbidden(webhooks.test_webhook(&w.operator, &id).await);
    }
    assert_permitted(webhooks.test_webhook(&w.admin, &id).await);
    assert_permitted(webhooks.webhook_deliveries(&w.admin, &id, &PageRequest::first(10)).await);
    assert_permitted(webhooks.get_webhook(&w.admin, &id).await);
    assert_permitted(webhooks.rotate_webhook_secret(&w.admin, &id).await);
    assert_permitted(webhooks.delete_webhook(&w.admin, &id).await);
}

#[tokio::test]
async fn another_tenants_webhooks_do_not_exist() {
    let w = world().await;
    let webhooks = &w.services.webhooks;
    let id = webhooks.create_webhook(&w.admin, draft()).await.unwrap().webhook.id;
    assert_not_found(webhooks.get_webhook(&w.stranger, &id).await);
    assert_not_found(webhooks.delete_webhook(&w.stranger, &id).await);
    assert_not_found(webhooks.test_webhook(&w.stranger, &id).await);
    assert_not_found(webhooks.get_webhook(&w.admin, &WebhookId::new()).await);
}
