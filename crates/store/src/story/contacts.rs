//! Contacts are found by verified user or by browser, searched by name, e-mail and user id,
//! listed latest seen first, and gather their conversations — each tenant its own.

use std::collections::BTreeMap;

use sb_domain::{Contact, ContactId, TenantId};
use serde_json::json;

use super::conversations::{conversation, widget};
use super::{assert_conflict, assert_not_found, now};
use crate::{Constraint, ContactKey, PageRequest, Store};

fn contact(tenant: &TenantId, name: &str, user: Option<&str>) -> Contact {
    Contact {
        id: ContactId::new(),
        tenant_id: tenant.clone(),
        name: Some(name.into()),
        email: Some(format!("{}@example.com", name.to_lowercase())),
        user_id: user.map(str::to_owned),
        verified: user.is_some(),
        language: Some("de".into()),
        attributes: BTreeMap::new(),
        first_seen_at: now(),
        last_seen_at: now(),
    }
}

pub(super) async fn contacts(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let ann = contact(tenant, "Ann", Some("cust-1"));
    let bob = contact(tenant, "Bob", None);
    store.create_contact(&ann, None).await.unwrap();
    store.create_contact(&bob, Some("browser-hash-b")).await.unwrap();
    assert_conflict(
        store.create_contact(&contact(tenant, "X", Some("cust-1")), None).await,
        Constraint::ContactUser,
    );
    assert_conflict(
        store.create_contact(&contact(tenant, "Y", None), Some("browser-hash-b")).await,
        Constraint::ContactBrowser,
    );
    let found = |key| store.find_contact(tenant, key);
    assert_eq!(found(ContactKey::VerifiedUser("cust-1")).await.unwrap(), Some(ann.clone()));
    assert_eq!(found(ContactKey::Browser("browser-hash-b")).await.unwrap(), Some(bob.clone()));
    assert_eq!(store.find_contact(other, ContactKey::VerifiedUser("cust-1")).await.unwrap(), None);

    // Bob signs in on the same browser, later: his contact becomes verified and seen later.
    let later = sb_domain::Timestamp::from_millisecond(now().as_millisecond() + 5).unwrap();
    let verified = Contact {
        user_id: Some("cust-2".into()),
        verified: true,
        attributes: BTreeMap::from([("plan".into(), json!("gold"))]),
        last_seen_at: later,
        ..bob.clone()
    };
    store.update_contact(&verified, None).await.unwrap();
    assert_eq!(store.get_contact(tenant, &bob.id).await.unwrap(), verified);
    assert_eq!(found(ContactKey::Browser("browser-hash-b")).await.unwrap(), Some(verified.clone()));
    assert_not_found(store.get_contact(other, &bob.id).await);
    let theirs = Contact { tenant_id: other.clone(), ..verified.clone() };
    assert_not_found(store.update_contact(&theirs, None).await);

    let all = store.list_contacts(tenant, None, &PageRequest::first(1)).await.unwrap();
    assert_eq!(all.items, std::slice::from_ref(&verified));
    let rest = PageRequest { after: all.next, limit: 10 };
    assert_eq!(
        store.list_contacts(tenant, None, &rest).await.unwrap().items,
        std::slice::from_ref(&ann)
    );
    let ten = PageRequest::first(10);
    let search = |q: &'static str| store.list_contacts(tenant, Some(q), &ten);
    assert_eq!(search("ann@").await.unwrap().items, std::slice::from_ref(&ann));
    assert_eq!(search("cust-2").await.unwrap().items, std::slice::from_ref(&verified));
    assert!(search("_").await.unwrap().items.is_empty(), "LIKE wildcards are literal");
    assert!(
        store.list_contacts(other, None, &PageRequest::first(10)).await.unwrap().items.is_empty()
    );

    let shop = widget(tenant, "Contacts");
    store.create_widget(&shop, None).await.unwrap();
    let mut first = conversation(tenant, &shop.id);
    first.contact_id = Some(ann.id.clone());
    store.create_conversation(&first, "contacts-token-1").await.unwrap();
    assert_eq!(
        store.get_conversation(tenant, &first.id).await.unwrap().contact_id,
        Some(ann.id.clone())
    );
    let history = store.contact_conversations(tenant, &ann.id).await.unwrap();
    assert_eq!(history.iter().map(|c| &c.id).collect::<Vec<_>>(), [&first.id]);
    assert!(store.contact_conversations(other, &ann.id).await.unwrap().is_empty());
    store.delete_widget(tenant, &shop.id).await.unwrap();
}
