use sb_domain::{Email, InvitationId, Role, SessionId, TenantId, Timestamp, UserId};

use super::{assert_conflict, assert_not_found, new_user, now};
use crate::{Constraint, Invitation, NewSession, Store};

fn session(tenant: &TenantId, user: &UserId, token: &str) -> NewSession {
    let at = now();
    NewSession {
        id: SessionId::new(),
        tenant_id: tenant.clone(),
        user_id: user.clone(),
        token_hash: token.into(),
        csrf_hash: format!("csrf-{token}"),
        created_at: at,
        expires_at: Timestamp::from_millisecond(at.as_millisecond() + 60_000).unwrap(),
    }
}

fn later(minutes: i64) -> Timestamp {
    Timestamp::from_millisecond(now().as_millisecond() + minutes * 60_000).unwrap()
}

pub(super) async fn credentials(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let user =
        store.create_user(tenant, &new_user("keys@acme.test", Role::Operator)).await.unwrap();
    let (kept, ended) = (session(tenant, &user.id, "kept"), session(tenant, &user.id, "ended"));
    store.create_session(&kept).await.unwrap();
    store.create_session(&ended).await.unwrap();
    // A new password ends every session but the one that set it, and earlier reset links.
    store.create_password_reset(tenant, &user.id, "old-link", later(30)).await.unwrap();
    store.set_password(tenant, &user.id, "new-hash", Some(&kept.id)).await.unwrap();
    assert_eq!(store.password_hash(tenant, &user.id).await.unwrap(), "new-hash");
    assert!(store.find_session("kept", now()).await.unwrap().is_some());
    assert!(store.find_session("ended", now()).await.unwrap().is_none());
    assert_eq!(store.use_password_reset("old-link", now()).await.unwrap(), None);
    assert_not_found(store.set_password(other, &user.id, "x", None).await);
    assert_not_found(store.password_hash(other, &user.id).await);

    // Reset links work once, and not after they expire.
    store.create_password_reset(tenant, &user.id, "link", later(30)).await.unwrap();
    let found = store.use_password_reset("link", now()).await.unwrap();
    assert_eq!(found, Some((tenant.clone(), user.id.clone())));
    assert_eq!(store.use_password_reset("link", now()).await.unwrap(), None, "used");
    store.create_password_reset(tenant, &user.id, "late", later(30)).await.unwrap();
    assert_eq!(store.use_password_reset("late", later(31)).await.unwrap(), None, "expired");

    // Invitations: listed while pending, accepted once, both the user and the mark or neither.
    let invitation = Invitation {
        id: InvitationId::new(),
        tenant_id: tenant.clone(),
        email: Email::parse("joiner@acme.test").unwrap(),
        role: Role::Admin,
        invited_by: Some(user.id.clone()),
        created_at: now(),
        expires_at: later(60),
    };
    store.create_invitation(&invitation, "invite").await.unwrap();
    assert_eq!(
        store.list_invitations(tenant, now()).await.unwrap(),
        std::slice::from_ref(&invitation)
    );
    assert_eq!(store.list_invitations(other, now()).await.unwrap(), []);
    assert_eq!(
        store.list_invitations(tenant, later(61)).await.unwrap(),
        [],
        "expired ones are not"
    );
    let joined = UserId::new();
    let created = store.accept_invitation("invite", &joined, "hash", now()).await.unwrap().unwrap();
    assert_eq!(
        (created.id, created.role, created.tenant_id),
        (joined, Role::Admin, tenant.clone())
    );
    assert_eq!(created.email.as_str(), "joiner@acme.test");
    // Accepting means signing in: a hand-over in that first session reaches them.
    assert!(created.available);
    assert_eq!(store.accept_invitation("invite", &UserId::new(), "h", now()).await.unwrap(), None);
    assert_eq!(store.list_invitations(tenant, now()).await.unwrap(), []);

    // An address taken meanwhile: the invitation stays unused.
    let clash = Invitation {
        id: InvitationId::new(),
        email: Email::parse("keys@acme.test").unwrap(),
        ..invitation
    };
    store.create_invitation(&clash, "clash").await.unwrap();
    assert_conflict(
        store.accept_invitation("clash", &UserId::new(), "h", now()).await,
        Constraint::UserEmail,
    );
    assert_eq!(store.list_invitations(tenant, now()).await.unwrap().len(), 1);
    assert_not_found(store.delete_invitation(other, &clash.id).await);
    store.delete_invitation(tenant, &clash.id).await.unwrap();
    assert_eq!(store.accept_invitation("clash", &UserId::new(), "h", now()).await.unwrap(), None);
}
