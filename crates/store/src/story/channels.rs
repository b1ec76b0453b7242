use sb_domain::{Author, Channel, ChannelId, ChannelKind, ChannelRef, MessageId, TenantId};
use serde_json::json;

use super::conversations::{conversation, widget};
use super::{assert_conflict, assert_not_found, now};
use crate::{ChannelThread, Constraint, NewMessage, Store, StoredChannel};

fn later(seconds: i64) -> sb_domain::Timestamp {
    now().checked_add(jiff::SignedDuration::from_secs(seconds)).unwrap()
}

pub(super) async fn channels(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = widget(tenant, "Channel shop");
    store.create_widget(&shop, None).await.unwrap();
    let channel = Channel {
        id: ChannelId::new(),
        tenant_id: tenant.clone(),
        kind: ChannelKind::Telegram,
        name: "Shop bot".into(),
        widget_id: shop.id.clone(),
        settings: json!({"api_base_url": "https://api.telegram.org"}),
        active: true,
        created_at: now(),
        updated_at: now(),
    };
    store.create_channel(&channel, Some("sealed-1")).await.unwrap();
    let twin = Channel { id: ChannelId::new(), ..channel.clone() };
    assert_conflict(store.create_channel(&twin, None).await, Constraint::ChannelName);
    let stored = StoredChannel {
        channel: channel.clone(),
        sealed_secrets: Some("sealed-1".into()),
        inbound_state: None,
        inbound_generation: 0,
    };
    assert_eq!(store.get_channel(tenant, &channel.id).await.unwrap(), stored);
    assert_eq!(store.find_channel(&channel.id).await.unwrap(), Some(stored.clone()));
    assert_not_found(store.get_channel(other, &channel.id).await);
    assert!(store.list_channels(other).await.unwrap().is_empty());

    // Secrets change only when given.
    let renamed = Channel { name: "Support bot".into(), active: false, ..channel.clone() };
    store.update_channel(&renamed, None).await.unwrap();
    let kept = store.get_channel(tenant, &channel.id).await.unwrap();
    assert_eq!(
        (kept.channel.name.as_str(), kept.sealed_secrets.as_deref()),
        ("Support bot", Some("sealed-1"))
    );
    store.update_channel(&renamed, Some(Some("sealed-2"))).await.unwrap();
    let listed = store.list_channels(tenant).await.unwrap();
    assert_eq!(listed[0].sealed_secrets.as_deref(), Some("sealed-2"));
    assert_not_found(
        store.update_channel(&Channel { tenant_id: other.clone(), ..renamed }, None).await,
    );

    // An item received twice is one; an item's thread is found by its id.
    let (noted, stale) = (later(0), later(-120));
    let note = |id: &'static str, thread: Option<&'static str>, at, stale_before| {
        store.note_inbound(&channel.id, id, thread, at, stale_before)
    };
    assert!(note("update-1", None, noted, stale).await.unwrap());
    assert!(!note("update-1", Some("42"), later(1), later(-119)).await.unwrap(), "being taken");
    store.forget_inbound(&channel.id, "update-1").await.unwrap();
    assert!(note("update-1", None, noted, stale).await.unwrap());
    // Noted and never taken (its node died): after a while, it is noted anew; once taken, never.
    assert!(note("update-1", None, later(200), later(80)).await.unwrap(), "abandoned");
    store.mark_inbound_taken(&channel.id, "update-1", later(201)).await.unwrap();
    assert!(!note("update-1", None, later(900), later(780)).await.unwrap(), "taken");
    assert_eq!(store.inbound_thread(&channel.id, "update-1").await.unwrap(), None);
    assert!(note("mail-1@example.org", Some("42"), noted, stale).await.unwrap());
    let found = store.inbound_thread(&channel.id, "mail-1@example.org").await.unwrap();
    assert_eq!(found.as_deref(), Some("42"));
    assert_eq!(store.inbound_thread(&channel.id, "mail-2@example.org").await.unwrap(), None);
    // Old notes go; newer ones stay.
    assert!(note("old-1", None, later(-100_000), later(-100_120)).await.unwrap());
    assert_eq!(store.prune_inbound(later(-50_000)).await.unwrap(), 1);
    assert!(note("old-1", None, noted, stale).await.unwrap(), "forgotten");
    let kept = store.inbound_thread(&channel.id, "mail-1@example.org").await.unwrap();
    assert_eq!(kept.as_deref(), Some("42"));

    // The inbound side: one node at a time, until its claim runs out.
    assert!(store.claim_inbound(&channel.id, "node-a", later(0), later(60)).await.unwrap());
    assert!(!store.claim_inbound(&channel.id, "node-b", later(30), later(90)).await.unwrap());
    assert!(store.claim_inbound(&channel.id, "node-a", later(30), later(90)).await.unwrap());
    assert!(store.claim_inbound(&channel.id, "node-b", later(91), later(151)).await.unwrap());

    // The inbound side's state, and every channel of a kind across accounts.
    assert!(store.set_inbound_state(&channel.id, r#"{"last_uid":7}"#, 0).await.unwrap());
    // Started afresh: the state goes, and a watcher of the old generation writes nothing.
    store.reset_inbound(&channel.id).await.unwrap();
    let fresh = store.get_channel(tenant, &channel.id).await.unwrap();
    assert_eq!((fresh.inbound_state, fresh.inbound_generation), (None, 1));
    assert!(!store.set_inbound_state(&channel.id, r#"{"last_uid":9}"#, 0).await.unwrap());
    assert!(store.set_inbound_state(&channel.id, r#"{"last_uid":7}"#, 1).await.unwrap());
    // A stopping node lets go of its claims at once.
    store.release_inbound("node-b").await.unwrap();
    assert!(store.claim_inbound(&channel.id, "node-c", later(92), later(152)).await.unwrap());
    let of_kind = store.channels_of_kind(ChannelKind::Telegram).await.unwrap();
    assert_eq!(of_kind.len(), 1);
    assert_eq!(of_kind[0].inbound_state.as_deref(), Some(r#"{"last_uid":7}"#));
    assert!(store.channels_of_kind(ChannelKind::Email).await.unwrap().is_empty());

    // A thread, its replies due, claimed by one node at a time, delivered or failed.
    let mut chat = conversation(tenant, &shop.id);
    chat.channel = ChannelRef::channel(ChannelKind::Telegram, &channel.id);
    store.create_conversation(&chat, "chat-token").await.unwrap();
    assert_eq!(store.get_conversation(tenant, &chat.id).await.unwrap().channel, chat.channel);
    let thread = ChannelThread {
        tenant_id: tenant.clone(),
        conversation_id: chat.id.clone(),
        channel_id: channel.id.clone(),
        thread_key: "42".into(),
        delivered_seq: 0,
        last_inbound_at: now(),
        attempts: 0,
        template_sent_at: None,
        reply_context: None,
    };
    store.create_thread(&thread).await.unwrap();
    store.set_reply_context(tenant, &chat.id, r#"{"to":"ann@example.org"}"#).await.unwrap();
    assert_not_found(store.set_reply_context(other, &chat.id, "{}").await);
    let thread =
        ChannelThread { reply_context: Some(r#"{"to":"ann@example.org"}"#.into()), ..thread };
    // A second conversation for the same chat (two first messages at once) is refused.
    let twin_chat = conversation(tenant, &shop.id);
    store.create_conversation(&twin_chat, "twin-token").await.unwrap();
    let again = ChannelThread { conversation_id: twin_chat.id.clone(), ..thread.clone() };
    assert_conflict(store.create_thread(&again).await, Constraint::ChannelThread);
    assert_eq!(store.find_thread(tenant, &channel.id, "42").await.unwrap(), Some(thread.clone()));
    assert_eq!(store.find_thread(other, &channel.id, "42").await.unwrap(), None);
    let claim =
        |at: i64, by: &'static str| store.claim_due_threads(later(at), later(at + 60), by, 10);
    assert!(claim(0, "node-a").await.unwrap().is_empty(), "nothing to send");

    for (author, text) in [(Author::Visitor, "hi"), (Author::Bot, "hello")] {
        append(store, tenant, &chat.id, author, text).await;
    }
    assert!(claim(0, "node-a").await.unwrap().is_empty(), "the channel is paused");
    let active = Channel { active: true, name: "Support bot".into(), ..channel.clone() };
    store.update_channel(&active, None).await.unwrap();
    let claimed = claim(0, "node-a").await.unwrap();
    assert_eq!(claimed, std::slice::from_ref(&thread));
    assert!(claim(0, "node-b").await.unwrap().is_empty(), "claimed once");
    // A claim that ran out is another node's: the first one's writes change nothing.
    let taken = claim(61, "node-b").await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(!store.mark_delivered(&thread, "node-a", 2).await.unwrap(), "node-a lost its claim");
    store.mark_delivery_failed(&thread, "node-a", "late", later(9_999)).await.unwrap();
    store.mark_delivery_failed(&taken[0], "node-b", "502", later(200)).await.unwrap();
    let failing = store.failing_deliveries(tenant, &channel.id).await.unwrap();
    assert_eq!(failing, (1, Some("502".to_owned())));
    assert_eq!(store.failing_deliveries(other, &channel.id).await.unwrap(), (0, None));
    store.release_thread(&taken[0], "node-b").await.unwrap();
    assert!(claim(130, "node-a").await.unwrap().is_empty(), "not yet due");
    let retried = claim(201, "node-a").await.unwrap();
    assert_eq!(retried[0].attempts, 1, "node-a's late failure was not counted");
    assert!(store.mark_delivered(&retried[0], "node-a", 2).await.unwrap());
    assert_eq!(store.failing_deliveries(tenant, &channel.id).await.unwrap(), (0, None), "sent");
    assert!(!store.mark_delivered(&retried[0], "node-a", 1).await.unwrap(), "never backwards");
    store.release_thread(&retried[0], "node-a").await.unwrap();
    assert!(claim(300, "node-a").await.unwrap().is_empty(), "all sent");

    // Held for the customer (WhatsApp's window) until they write again.
    append(store, tenant, &chat.id, Author::Bot, "later").await;
    let held = claim(400, "node-a").await.unwrap();
    let template_sent = later(400);
    store.hold_thread(&held[0], "node-a", Some(template_sent), later(86_400)).await.unwrap();
    store.release_thread(&held[0], "node-a").await.unwrap();
    assert!(claim(500, "node-a").await.unwrap().is_empty(), "held");
    let touched = later(600);
    store.touch_thread(tenant, &chat.id, touched).await.unwrap();
    let due = claim(601, "node-a").await.unwrap();
    assert_eq!(due[0].template_sent_at, Some(template_sent), "the customer wrote: due again");
    // A hold decided before the customer wrote again does not stick.
    let wrote_again = later(602);
    store.touch_thread(tenant, &chat.id, wrote_again).await.unwrap();
    store.hold_thread(&due[0], "node-a", Some(template_sent), later(86_400)).await.unwrap();
    assert!(store.mark_delivered(&due[0], "node-a", 3).await.unwrap());
    store.release_thread(&due[0], "node-a").await.unwrap();
    let thread_now = store.get_thread(tenant, &chat.id).await.unwrap().unwrap();
    assert_eq!(
        (thread_now.delivered_seq, thread_now.attempts, thread_now.last_inbound_at),
        (3, 0, wrote_again)
    );
    append(store, tenant, &chat.id, Author::Operator, "one more").await;
    assert_eq!(claim(603, "node-a").await.unwrap().len(), 1, "due: the hold did not stick");

    // Deleting the channel drops its threads; the conversation stays.
    assert_not_found(store.delete_channel(other, &channel.id).await);
    store.delete_channel(tenant, &channel.id).await.unwrap();
    assert_eq!(store.get_thread(tenant, &chat.id).await.unwrap(), None);
    assert!(store.get_conversation(tenant, &chat.id).await.is_ok());
}

async fn append(
    store: &dyn Store,
    tenant: &TenantId,
    conversation: &sb_domain::ConversationId,
    author: Author,
    text: &str,
) {
    let id = MessageId::new();
    let message = NewMessage {
        id: &id,
        conversation_id: conversation,
        author,
        author_user_id: None,
        text,
        translation: None,
        created_at: now(),
        action: None,
        attachments: &[],
        search_terms: "",
        source: None,
    };
    store.append_message(tenant, message).await.unwrap();
}
