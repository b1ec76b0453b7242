//! Retention finds only closed conversations past their tenant's period; erasure and
//! deletion stay within the tenant; the audit log pages newest first with the actor's e-mail.

use std::collections::BTreeMap;

use sb_domain::{AuditEntry, AuditId, Contact, ContactId, ConversationStatus, TenantId, Timestamp};
use serde_json::json;

use super::conversations::{conversation, widget};
use super::{assert_not_found, now};
use crate::{PageRequest, Store};

pub(super) async fn privacy(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = widget(tenant, "Retention");
    store.create_widget(&shop, None).await.unwrap();
    let days_ago = |days: i64| {
        Timestamp::from_millisecond(now().as_millisecond() - days * 86_400_000).unwrap()
    };
    let make = |status: ConversationStatus, age: i64| {
        let mut c = conversation(tenant, &shop.id);
        c.status = status;
        c.created_at = days_ago(age);
        c.updated_at = days_ago(age);
        c
    };
    let old_closed = make(ConversationStatus::Closed, 40);
    let new_closed = make(ConversationStatus::Closed, 5);
    let old_open = make(ConversationStatus::Open, 40);
    for (i, c) in [&old_closed, &new_closed, &old_open].into_iter().enumerate() {
        store.create_conversation(c, &format!("retention-token-{i}")).await.unwrap();
    }
    // Without a retention period nothing expires.
    let ours = |list: Vec<(TenantId, sb_domain::ConversationId)>| {
        list.into_iter().filter(|(t, _)| t == tenant).map(|(_, c)| c).collect::<Vec<_>>()
    };
    assert!(ours(store.expired_conversations(now(), 100).await.unwrap()).is_empty());
    let mut settings = store.get_tenant(tenant).await.unwrap();
    settings.retention_days = Some(30);
    store.update_tenant(&settings).await.unwrap();
    assert_eq!(store.get_tenant(tenant).await.unwrap().retention_days, Some(30));
    assert_eq!(
        ours(store.expired_conversations(now(), 100).await.unwrap()),
        std::slice::from_ref(&old_closed.id)
    );
    assert_not_found(store.delete_conversation(other, &old_closed.id).await);
    store.delete_conversation(tenant, &old_closed.id).await.unwrap();
    assert_not_found(store.get_conversation(tenant, &old_closed.id).await);
    assert!(ours(store.expired_conversations(now(), 100).await.unwrap()).is_empty());

    // Contacts: one long gone with nothing left goes; a recent one, and an old one with a
    // conversation, stay.
    let person = |days: i64| Contact {
        id: ContactId::new(),
        tenant_id: tenant.clone(),
        name: Some("Old".into()),
        email: None,
        user_id: None,
        verified: false,
        language: None,
        attributes: BTreeMap::new(),
        first_seen_at: days_ago(days),
        last_seen_at: days_ago(days),
    };
    let (gone, recent, talking) = (person(40), person(2), person(40));
    for c in [&gone, &recent, &talking] {
        store.create_contact(c, None).await.unwrap();
    }
    let mut theirs = conversation(tenant, &shop.id);
    theirs.contact_id = Some(talking.id.clone());
    store.create_conversation(&theirs, "retention-token-contact").await.unwrap();
    // Another account cannot erase this one's contact.
    assert_not_found(store.erase_contact(other, &recent.id).await);
    assert_eq!(store.get_contact(tenant, &recent.id).await.unwrap(), recent);
    assert!(store.delete_idle_contacts(now()).await.unwrap() >= 1);
    assert_not_found(store.get_contact(tenant, &gone.id).await);
    store.get_contact(tenant, &recent.id).await.unwrap();
    store.get_contact(tenant, &talking.id).await.unwrap();
    // Erasing a contact takes what still points at it.
    store.erase_contact(tenant, &talking.id).await.unwrap();
    assert_not_found(store.get_conversation(tenant, &theirs.id).await);
    settings.retention_days = None;
    store.update_tenant(&settings).await.unwrap();
    assert_not_found(store.erase_contact(other, &ContactId::new()).await);
    store.delete_widget(tenant, &shop.id).await.unwrap();

    let entry = |action: &str, at: i64| AuditEntry {
        id: AuditId::new(),
        tenant_id: tenant.clone(),
        at: Timestamp::from_millisecond(now().as_millisecond() + at).unwrap(),
        actor_user_id: None,
        actor_email: None,
        actor_api_key_id: None,
        action: action.into(),
        target: Some("ctc_x".into()),
        details: json!({"conversations": 2}),
    };
    let (first, second) = (entry("contact.exported", 0), entry("contact.erased", 1));
    store.record_audit(&first).await.unwrap();
    store.record_audit(&second).await.unwrap();
    let page = store.list_audit(tenant, &PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items, [second]);
    let rest =
        store.list_audit(tenant, &PageRequest { after: page.next, limit: 10 }).await.unwrap();
    assert_eq!(rest.items, [first]);
    assert!(store.list_audit(other, &PageRequest::first(10)).await.unwrap().items.is_empty());
    store.scrub().await.unwrap();
}
