//! Files stay with their conversation (found only through it, gone with it), and search finds
//! a conversation by every word it was given, within its tenant only.

use sb_domain::attachment::AttachmentRef;
use sb_domain::{AttachmentId, Author, ConversationId, MessageId, TenantId};

use super::conversations::{conversation, widget};
use super::{assert_not_found, now};
use crate::{ConversationFilter, NewAttachment, NewMessage, PageRequest, SearchWord, Store};

fn listed(conversation: &ConversationId, name: &str, size: u64) -> AttachmentRef {
    let id = AttachmentId::new();
    AttachmentRef {
        url: AttachmentRef::staff_url(conversation, &id),
        id,
        name: name.to_owned(),
        content_type: "application/pdf".to_owned(),
        size,
    }
}

fn message<'a>(
    id: &'a MessageId,
    chat: &'a ConversationId,
    files: &'a [AttachmentRef],
    terms: &'a str,
) -> NewMessage<'a> {
    NewMessage {
        id,
        conversation_id: chat,
        author: Author::Visitor,
        author_user_id: None,
        text: "",
        translation: None,
        created_at: now(),
        action: None,
        attachments: files,
        search_terms: terms,
        source: None,
    }
}

pub(super) async fn attachments(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = widget(tenant, "Files");
    store.create_widget(&shop, None).await.unwrap();
    let chat = conversation(tenant, &shop.id);
    store.create_conversation(&chat, "files-token-hash").await.unwrap();
    let elsewhere = conversation(tenant, &shop.id);
    store.create_conversation(&elsewhere, "files-other-hash").await.unwrap();

    let bytes = b"%PDF-1.7 invoice 4521".to_vec();
    let files = [listed(&chat.id, "invoice.pdf", bytes.len() as u64)];
    let upload = [NewAttachment { listed: &files[0], bytes: &bytes }];
    let id = MessageId::new();
    let sent = message(&id, &chat.id, &files, "invoice pdf");
    let stored = store.append_message_with_files(tenant, sent, &upload).await.unwrap();
    assert_eq!(stored.attachments, files);
    let listed_back = store.list_messages(tenant, &chat.id, 0, 10).await.unwrap();
    assert_eq!(listed_back[0].attachments, files);

    let file = &files[0].id;
    assert_eq!(store.attachment(tenant, &chat.id, file).await.unwrap(), (files[0].clone(), bytes));
    // Only through its own conversation, of its own tenant.
    assert_not_found(store.attachment(tenant, &elsewhere.id, file).await);
    assert_not_found(store.attachment(other, &chat.id, file).await);
    assert!(
        store.contact_attachments(tenant, &sb_domain::ContactId::new()).await.unwrap().is_empty()
    );
    // Nothing is left to sweep: the file has its row.
    assert_eq!(store.sweep_attachment_files(now()).await.unwrap(), 0);

    search(store, tenant, &chat.id, &elsewhere.id).await;
    backlog(store, tenant, &elsewhere.id).await;

    store.delete_conversation(tenant, &chat.id).await.unwrap();
    assert_not_found(store.attachment(tenant, &chat.id, file).await);
    assert_eq!(store.sweep_attachment_files(now()).await.unwrap(), 0, "removed with it");
}

fn word(terms: &[&str], text: &str) -> SearchWord {
    SearchWord { terms: terms.iter().map(|t| (*t).to_owned()).collect(), text: text.to_owned() }
}

async fn found(
    store: &dyn Store,
    tenant: &TenantId,
    filter: ConversationFilter,
) -> Vec<ConversationId> {
    let page = store.list_conversations(tenant, &filter, None, &PageRequest::first(50)).await;
    page.unwrap().items.into_iter().map(|c| c.conversation.id).collect()
}

async fn search(
    store: &dyn Store,
    tenant: &TenantId,
    chat: &ConversationId,
    elsewhere: &ConversationId,
) {
    store.add_search_terms(tenant, elsewhere, "refund order").await.unwrap();
    store.add_search_terms(tenant, elsewhere, "order").await.unwrap();
    let only = |words: Vec<SearchWord>| ConversationFilter { words, ..Default::default() };
    assert_eq!(
        found(store, tenant, only(vec![word(&["invoice"], "invoice")])).await,
        std::slice::from_ref(chat)
    );
    // Any of a word's forms; every word.
    let forms = only(vec![word(&["orders", "order"], "orders")]);
    assert_eq!(found(store, tenant, forms).await, std::slice::from_ref(elsewhere));
    let both = only(vec![word(&["order"], "order"), word(&["invoice"], "invoice")]);
    assert!(found(store, tenant, both).await.is_empty());
    // A word may also be part of a label.
    store.set_conversation_labels(tenant, chat, &["vip-gold".to_owned()]).await.unwrap();
    assert_eq!(
        found(store, tenant, only(vec![word(&["zzz"], "gold")])).await,
        std::slice::from_ref(chat)
    );
    // Started within the range: `from` included, `to` excluded.
    let started = store.get_conversation(tenant, chat).await.unwrap().created_at;
    let millisecond = jiff::SignedDuration::from_millis(1);
    let range = |from, to| ConversationFilter {
        from: Some(from),
        to: Some(to),
        words: vec![word(&["invoice"], "invoice")],
        ..Default::default()
    };
    let within = range(started, started + millisecond);
    assert_eq!(found(store, tenant, within).await, std::slice::from_ref(chat));
    assert!(found(store, tenant, range(started - millisecond, started)).await.is_empty());
    assert!(
        found(store, tenant, range(started + millisecond, started + millisecond * 2))
            .await
            .is_empty()
    );
}

/// The backlog: every conversation queued once, each leaving with its words.
async fn backlog(store: &dyn Store, tenant: &TenantId, chat: &ConversationId) {
    // Whatever earlier stories left, worked off first.
    work_off(store).await;
    let queued = store.queue_search_rebuild().await.unwrap();
    assert!(queued >= 2, "{queued}");
    assert_eq!(store.queue_search_rebuild().await.unwrap(), 0, "once each");
    let waiting = store.search_backlog(1000).await.unwrap();
    assert_eq!(waiting.len() as u64, queued);
    assert!(waiting.windows(2).all(|w| w[0].id < w[1].id), "by id");
    store.rebuild_search_terms(tenant, chat, "parcel").await.unwrap();
    assert!(!store.search_backlog(1000).await.unwrap().iter().any(|c| &c.id == chat));
    let parcel =
        ConversationFilter { words: vec![word(&["parcel"], "parcel")], ..Default::default() };
    assert_eq!(found(store, tenant, parcel).await, std::slice::from_ref(chat));
    // Words from before stay.
    let refund =
        ConversationFilter { words: vec![word(&["refund"], "refund")], ..Default::default() };
    assert_eq!(found(store, tenant, refund).await, std::slice::from_ref(chat));
    work_off(store).await;
}

/// Works the backlog off (each rebuild must take its conversation off it).
async fn work_off(store: &dyn Store) {
    for waiting in store.search_backlog(10_000).await.unwrap() {
        store.rebuild_search_terms(&waiting.tenant_id, &waiting.id, "").await.unwrap();
    }
    assert!(store.search_backlog(10).await.unwrap().is_empty());
}
