use sb_domain::webhook::{DeliveryState, Webhook, WebhookEvent};
use sb_domain::{DeliveryId, TenantId, Timestamp, WebhookId};

use super::{assert_not_found, now};
use crate::{
    AttemptOutcome, AttemptRecord, Claim, NewDelivery, PageRequest, SealedKind, Store, StoreError,
};

fn webhook(tenant: &TenantId, url: &str, events: Vec<WebhookEvent>) -> Webhook {
    Webhook {
        id: WebhookId::new(),
        tenant_id: tenant.clone(),
        url: url.into(),
        events,
        description: "CRM sync".into(),
        active: true,
        disabled_reason: None,
        previous_secret_expires_at: None,
        created_at: now(),
        updated_at: now(),
    }
}

/// A fixed instant, so the story does not depend on when it runs.
fn at(seconds_after: i64) -> Timestamp {
    let start: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    Timestamp::from_millisecond(start.as_millisecond() + seconds_after * 1000).unwrap()
}

fn delivery(webhook: &Webhook, event: WebhookEvent, seconds: i64) -> NewDelivery {
    // Ids sort by creation: a pause keeps them in the order the story creates them.
    std::thread::sleep(std::time::Duration::from_millis(2));
    NewDelivery {
        id: DeliveryId::new(),
        tenant_id: webhook.tenant_id.clone(),
        webhook_id: webhook.id.clone(),
        event,
        payload: format!(r#"{{"type":"{event}","n":{seconds}}}"#),
        created_at: at(seconds),
    }
}

fn attempt(d: &NewDelivery, n: u32, seconds: i64, status: Option<u16>) -> AttemptRecord {
    AttemptRecord {
        tenant_id: d.tenant_id.clone(),
        delivery_id: d.id.clone(),
        webhook_id: d.webhook_id.clone(),
        attempt: n,
        at: at(seconds),
        status,
        latency_ms: 42,
        error_code: status.filter(|s| *s >= 300).map(|_| "http_error".into()),
        error_message: status.filter(|s| *s >= 300).map(|s| format!("the receiver answered {s}")),
        response_excerpt: Some("ok".into()),
    }
}

pub(super) async fn webhooks(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    use WebhookEvent::*;
    let crm = webhook(tenant, "https://crm.example.com/hooks", vec![MessageCreated]);
    let mut audit = webhook(
        tenant,
        "https://audit.example.com/in",
        vec![ConversationCreated, ConversationClosed],
    );
    let theirs = webhook(other, "https://other.example.com/", vec![MessageCreated]);
    store.create_webhook(&crm, "sealed-crm").await.unwrap();
    store.create_webhook(&audit, "sealed-audit").await.unwrap();
    store.create_webhook(&theirs, "sealed-theirs").await.unwrap();

    // Reading, listing, counting; another tenant finds nothing.
    let stored = store.get_webhook(tenant, &crm.id).await.unwrap();
    assert_eq!(stored.webhook, crm);
    assert_eq!(
        (stored.secret_sealed.as_str(), stored.previous_secret_sealed),
        ("sealed-crm", None)
    );
    assert_not_found(store.get_webhook(other, &crm.id).await);
    let first = store.list_webhooks(tenant, &PageRequest::first(1)).await.unwrap();
    assert_eq!(first.items.len(), 1);
    let rest = PageRequest { after: first.next.clone(), limit: 10 };
    let rest = store.list_webhooks(tenant, &rest).await.unwrap();
    let mut listed: Vec<WebhookId> =
        first.items.iter().chain(&rest.items).map(|w| w.id.clone()).collect();
    listed.sort();
    let mut ours = vec![crm.id.clone(), audit.id.clone()];
    ours.sort();
    assert_eq!((listed, rest.next), (ours, None));
    assert_eq!(store.count_webhooks(tenant).await.unwrap(), 2);

    // Changing, switching off; other tenants cannot.
    audit.events = vec![ConversationClosed];
    audit.description = String::new();
    audit.active = false;
    audit.updated_at = now();
    store.update_webhook(&audit).await.unwrap();
    assert_eq!(store.get_webhook(tenant, &audit.id).await.unwrap().webhook, audit);
    let active: Vec<WebhookId> =
        store.active_webhooks(tenant).await.unwrap().into_iter().map(|w| w.id).collect();
    assert_eq!(active, std::slice::from_ref(&crm.id));
    let mut stolen = audit.clone();
    stolen.tenant_id = other.clone();
    assert_not_found(store.update_webhook(&stolen).await);

    // Rotation keeps the previous secret until it expires; both are found by key rotation.
    assert_not_found(store.rotate_webhook_secret(other, &crm.id, "x", at(0)).await);
    store.rotate_webhook_secret(tenant, &crm.id, "sealed-crm-2", at(86_400)).await.unwrap();
    let rotated = store.get_webhook(tenant, &crm.id).await.unwrap();
    assert_eq!(rotated.secret_sealed, "sealed-crm-2");
    assert_eq!(rotated.previous_secret_sealed.as_deref(), Some("sealed-crm"));
    assert_eq!(rotated.webhook.previous_secret_expires_at, Some(at(86_400)));
    let sealed = store.list_sealed().await.unwrap();
    let kinds_of_crm: Vec<SealedKind> =
        sealed.iter().filter(|v| v.id == crm.id.as_str()).map(|v| v.kind).collect();
    assert_eq!(kinds_of_crm, [SealedKind::WebhookSecret, SealedKind::WebhookPreviousSecret]);
    let current = sealed
        .iter()
        .find(|v| v.kind == SealedKind::WebhookSecret && v.id == crm.id.as_str())
        .unwrap();
    assert!(store.replace_sealed(current, "sealed-crm-2b").await.unwrap());
    assert_eq!(store.get_webhook(tenant, &crm.id).await.unwrap().secret_sealed, "sealed-crm-2b");

    // Queueing: a delivery naming another tenant's webhook is left out.
    let one = delivery(&crm, MessageCreated, 0);
    let two = delivery(&crm, MessageCreated, 1);
    let three = delivery(&crm, MessageCreated, 2);
    let paused = delivery(&audit, ConversationClosed, 0);
    let mut astray = delivery(&theirs, MessageCreated, 0);
    astray.tenant_id = tenant.clone();
    let queued = [one.clone(), two.clone(), three.clone(), paused.clone(), astray.clone()];
    store.enqueue_deliveries(&queued).await.unwrap();
    store.enqueue_deliveries(&[]).await.unwrap();
    // Queueing again (a retried batch) adds nothing.
    store.enqueue_deliveries(&queued[..2]).await.unwrap();
    assert!(
        !store.due_deliveries_exist(at(-1)).await.unwrap(),
        "nothing is due before it was made"
    );
    assert!(store.due_deliveries_exist(at(0)).await.unwrap());

    // Claiming: one per webhook at a time, of active webhooks only, never twice while claimed.
    let lease = |s: i64| at(s + 60);
    let claimed = store.claim_deliveries(&Claim::new("node-a", at(5), lease(5), 10)).await.unwrap();
    assert_eq!(claimed.iter().map(|c| &c.id).collect::<Vec<_>>(), [&one.id]);
    let c = &claimed[0];
    assert_eq!(
        (c.url.as_str(), c.attempts, c.created_at),
        ("https://crm.example.com/hooks", 0, at(0))
    );
    assert_eq!(
        (c.secret_sealed.as_str(), c.previous_secret_sealed.as_deref()),
        ("sealed-crm-2b", Some("sealed-crm"))
    );
    assert_eq!((c.event, c.payload.as_str()), (MessageCreated, one.payload.as_str()));
    assert_eq!(c.previous_secret_expires_at, Some(at(86_400)));
    let skipped = store
        .claim_deliveries(&Claim {
            skip_webhooks: std::slice::from_ref(&crm.id),
            ..Claim::new("node-b", at(5), lease(5), 10)
        })
        .await
        .unwrap();
    assert!(skipped.is_empty(), "a webhook the worker is busy with is skipped");
    let skipped = store
        .claim_deliveries(&Claim {
            skip_tenants: std::slice::from_ref(tenant),
            ..Claim::new("node-b", at(5), lease(5), 10)
        })
        .await
        .unwrap();
    assert!(skipped.is_empty(), "a tenant the worker is busy with is skipped");
    let busy_elsewhere = [theirs.id.clone(), audit.id.clone()];
    let next = store
        .claim_deliveries(&Claim {
            skip_webhooks: &busy_elsewhere,
            skip_tenants: std::slice::from_ref(other),
            ..Claim::new("node-b", at(5), lease(5), 10)
        })
        .await
        .unwrap();
    assert_eq!(next.iter().map(|c| &c.id).collect::<Vec<_>>(), [&two.id], "others are skipped");
    assert!(
        store.claim_deliveries(&Claim::new("node-b", at(5), lease(5), 0)).await.unwrap().is_empty()
    );

    // A failed attempt schedules a retry and releases the claim.
    let retry = AttemptOutcome::Retry { at: at(30) };
    assert!(store.record_attempt("node-a", &attempt(&one, 1, 5, Some(500)), &retry).await.unwrap());
    // node-b's claim on `two` runs out; node-a takes it over, and node-b's late result is dropped.
    let taken = store.claim_deliveries(&Claim::new("node-a", at(70), lease(70), 1)).await.unwrap();
    assert_eq!(taken.iter().map(|c| &c.id).collect::<Vec<_>>(), [&two.id]);
    let late = attempt(&two, 1, 66, Some(200));
    assert!(!store.record_attempt("node-b", &late, &AttemptOutcome::Delivered).await.unwrap());
    assert!(
        store
            .record_attempt("node-a", &attempt(&two, 1, 71, Some(204)), &AttemptOutcome::Delivered)
            .await
            .unwrap()
    );
    // `three` (due since 2 s) comes before `one` (due at 30 s); it fails again.
    let oldest = store.claim_deliveries(&Claim::new("node-a", at(72), lease(72), 5)).await.unwrap();
    assert_eq!(oldest.iter().map(|c| &c.id).collect::<Vec<_>>(), [&three.id]);
    let later = AttemptOutcome::Retry { at: at(200) };
    assert!(
        store.record_attempt("node-a", &attempt(&three, 1, 72, Some(503)), &later).await.unwrap()
    );
    // `one` goes through on its second attempt.
    let again = store.claim_deliveries(&Claim::new("node-a", at(73), lease(73), 5)).await.unwrap();
    assert_eq!(again.iter().map(|c| (&c.id, c.attempts)).collect::<Vec<_>>(), [(&one.id, 1)]);
    let delivered = attempt(&one, 2, 73, Some(200));
    assert!(store.record_attempt("node-a", &delivered, &AttemptOutcome::Delivered).await.unwrap());
    // 410 Gone: failed for good, and the webhook switched off with the reason.
    assert!(
        store
            .claim_deliveries(&Claim::new("node-a", at(199), lease(199), 5))
            .await
            .unwrap()
            .is_empty()
    );
    let last = store.claim_deliveries(&Claim::new("node-a", at(201), lease(201), 5)).await.unwrap();
    assert_eq!(last.iter().map(|c| (&c.id, c.attempts)).collect::<Vec<_>>(), [(&three.id, 1)]);
    let gone = AttemptOutcome::FailedAndDisable { reason: "the receiver answered 410 Gone".into() };
    assert!(
        store.record_attempt("node-a", &attempt(&three, 2, 201, Some(410)), &gone).await.unwrap()
    );
    let crm_now = store.get_webhook(tenant, &crm.id).await.unwrap().webhook;
    assert!(!crm_now.active);
    assert_eq!(crm_now.disabled_reason.as_deref(), Some("the receiver answered 410 Gone"));
    assert!(!store.due_deliveries_exist(at(1000)).await.unwrap(), "inactive webhooks wait");

    // The log: newest first, with every attempt; pages; another tenant sees nothing.
    let page = store.list_deliveries(tenant, &crm.id, &PageRequest::first(2)).await.unwrap();
    assert_eq!(page.items.iter().map(|d| &d.id).collect::<Vec<_>>(), [&three.id, &two.id]);
    let three_logged = &page.items[0];
    assert_eq!((three_logged.state, three_logged.attempt_count), (DeliveryState::Failed, 2));
    assert_eq!((three_logged.next_attempt_at, three_logged.finished_at), (None, Some(at(201))));
    assert_eq!(
        three_logged.payload,
        serde_json::from_str::<serde_json::Value>(&three.payload).unwrap()
    );
    let statuses: Vec<_> = three_logged.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(503), Some(410)]);
    let two_logged = &page.items[1];
    assert_eq!(two_logged.attempts.len(), 1, "the late attempt was not logged");
    assert_eq!((two_logged.attempts[0].at, two_logged.attempts[0].status), (at(71), Some(204)));
    let rest = PageRequest { after: page.next.clone(), limit: 2 };
    let rest = store.list_deliveries(tenant, &crm.id, &rest).await.unwrap();
    assert_eq!((rest.items.len(), rest.next), (1, None));
    let one_logged = &rest.items[0];
    assert_eq!(
        (one_logged.state, one_logged.attempt_count, one_logged.event),
        (DeliveryState::Delivered, 2, MessageCreated)
    );
    let statuses: Vec<_> = one_logged.attempts.iter().map(|a| (a.attempt, a.status)).collect();
    assert_eq!(statuses, [(1, Some(500)), (2, Some(200))]);
    let error = one_logged.attempts[0].error.clone().unwrap();
    assert_eq!(
        (error.code.as_str(), error.message.as_str()),
        ("http_error", "the receiver answered 500")
    );
    assert_eq!(
        (one_logged.attempts[0].latency_ms, one_logged.attempts[0].response_excerpt.as_deref()),
        (42, Some("ok"))
    );
    assert!(one_logged.attempts[1].error.is_none());
    assert!(
        store
            .list_deliveries(other, &crm.id, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        store
            .list_deliveries(other, &theirs.id, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "the astray delivery was left out"
    );

    // The paused webhook's delivery expires after the window (an active webhook's is ended by
    // the worker, not here); old deliveries are pruned.
    let theirs_old = delivery(&theirs, MessageCreated, 0);
    store.enqueue_deliveries(std::slice::from_ref(&theirs_old)).await.unwrap();
    assert_eq!(store.fail_expired_deliveries(at(0), at(100)).await.unwrap(), 0);
    assert_eq!(store.fail_expired_deliveries(at(1), at(100)).await.unwrap(), 1);
    assert_eq!(store.fail_expired_deliveries(at(1), at(100)).await.unwrap(), 0, "once");
    let expired = store.list_deliveries(tenant, &audit.id, &PageRequest::default()).await.unwrap();
    assert_eq!(expired.items[0].state, DeliveryState::Failed);
    assert_eq!(expired.items[0].finished_at, Some(at(100)));
    let still = store.list_deliveries(other, &theirs.id, &PageRequest::default()).await.unwrap();
    assert_eq!(still.items[0].state, DeliveryState::Pending);
    assert_eq!(store.prune_deliveries(at(1)).await.unwrap(), 3, "those made at 0 s");
    let left = store.list_deliveries(tenant, &crm.id, &PageRequest::default()).await.unwrap();
    assert_eq!(left.items.iter().map(|d| &d.id).collect::<Vec<_>>(), [&three.id, &two.id]);

    // Deleting a webhook deletes its deliveries and their attempts.
    assert_not_found(store.delete_webhook(other, &crm.id).await);
    store.delete_webhook(tenant, &crm.id).await.unwrap();
    assert_not_found(store.get_webhook(tenant, &crm.id).await);
    assert!(
        store
            .list_deliveries(tenant, &crm.id, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let late = store.enqueue_deliveries(&[delivery(&crm, MessageCreated, 3)]).await;
    assert!(late.is_ok(), "a delivery for a deleted webhook is left out: {late:?}");
    assert!(!matches!(late, Err(StoreError::MissingReference)));
    store.delete_webhook(tenant, &audit.id).await.unwrap();
    store.delete_webhook(other, &theirs.id).await.unwrap();
    assert_eq!(store.count_webhooks(tenant).await.unwrap(), 0);
}
