//! Canned replies stay their tenant's, keep one shortcut each, and sort by shortcut.

use sb_domain::{CannedReply, CannedReplyId, TenantId};

use super::{assert_conflict, assert_not_found, now};
use crate::{Constraint, Store};

fn reply(tenant: &TenantId, shortcut: &str) -> CannedReply {
    CannedReply {
        id: CannedReplyId::new(),
        tenant_id: tenant.clone(),
        shortcut: shortcut.into(),
        text: format!("Text of {shortcut}, {{visitor.name}}"),
        created_at: now(),
        updated_at: now(),
    }
}

pub(super) async fn canned_replies(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let refund = reply(tenant, "refund");
    let hello = reply(tenant, "hello");
    store.create_canned_reply(&refund).await.unwrap();
    store.create_canned_reply(&hello).await.unwrap();
    assert_conflict(
        store.create_canned_reply(&reply(tenant, "refund")).await,
        Constraint::CannedShortcut,
    );
    // Another tenant may use the same shortcut.
    store.create_canned_reply(&reply(other, "refund")).await.unwrap();
    assert_eq!(store.list_canned_replies(tenant).await.unwrap(), [hello.clone(), refund.clone()]);

    let changed = CannedReply { text: "New text".into(), updated_at: now(), ..refund.clone() };
    store.update_canned_reply(&changed).await.unwrap();
    assert_eq!(store.get_canned_reply(tenant, &refund.id).await.unwrap(), changed);
    assert_not_found(store.get_canned_reply(other, &refund.id).await);
    let theirs = CannedReply { tenant_id: other.clone(), ..changed.clone() };
    assert_not_found(store.update_canned_reply(&theirs).await);
    assert_not_found(store.delete_canned_reply(other, &refund.id).await);
    store.delete_canned_reply(tenant, &refund.id).await.unwrap();
    assert_eq!(store.list_canned_replies(tenant).await.unwrap(), [hello]);
}
