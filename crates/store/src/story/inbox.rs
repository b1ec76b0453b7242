//! The inbox list and read marks: latest activity first with an exact cursor, the newest
//! message's first line, and unread per person — never across tenants.

use jiff::SignedDuration;
use sb_domain::{
    Author, Conversation, ConversationId, ListedConversation, MessageId, TenantId, UserId,
};

use super::conversations::{conversation, widget};
use super::{assert_not_found, now};
use crate::{ConversationFilter, NewMessage, PageRequest, Store, StoreError};

pub(super) async fn inbox(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = widget(tenant, "Inbox");
    store.create_widget(&shop, None).await.unwrap();
    let users = store.list_users(tenant, &PageRequest::default()).await.unwrap().items;
    let (ann, bob) = (&users[0].id, &users[1].id);
    let t0 = now();
    let at = |secs| t0 + SignedDuration::from_secs(secs);
    let started = |secs| Conversation { created_at: at(secs), ..conversation(tenant, &shop.id) };
    let [a, b, c] = [started(1), started(2), started(3)];
    for (i, item) in [&a, &b, &c].into_iter().enumerate() {
        store.create_conversation(item, &format!("inbox-token-{i}")).await.unwrap();
    }
    let filter = ConversationFilter { widget_id: Some(shop.id.clone()), ..Default::default() };
    let list = async |reader: Option<&UserId>| {
        let page = PageRequest::default();
        store.list_conversations(tenant, &filter, reader, &page).await.unwrap().items
    };
    let ids = |items: &[ListedConversation]| {
        items.iter().map(|l| l.conversation.id.clone()).collect::<Vec<_>>()
    };
    let unread = async |reader: &UserId, id: &ConversationId| {
        list(Some(reader)).await.into_iter().find(|l| l.conversation.id == *id).unwrap().unread
    };

    let listed = list(Some(ann)).await;
    assert_eq!(ids(&listed), [c.id.clone(), b.id.clone(), a.id.clone()], "newest first");
    assert!(listed.iter().all(|l| l.last_message.is_none() && !l.unread));

    // A message moves its conversation up; its first line is what the list shows.
    let say = async |id: &ConversationId, author: Author, text: &str, secs| {
        let message = NewMessage {
            id: &MessageId::new(),
            conversation_id: id,
            author,
            author_user_id: None,
            text,
            translation: None,
            created_at: at(secs),
            action: None,
            attachments: &[],
            search_terms: "",
            source: None,
        };
        store.append_message(tenant, message).await.unwrap();
    };
    say(&a.id, Author::Visitor, "Where is my order?\nIt is 4521.", 10).await;
    let listed = list(Some(ann)).await;
    assert_eq!(ids(&listed), [a.id.clone(), c.id.clone(), b.id.clone()], "latest activity first");
    let last = listed[0].last_message.as_ref().unwrap();
    assert_eq!((last.author, last.text.as_str()), (Author::Visitor, "Where is my order?"));
    assert_eq!(last.created_at, at(10));
    assert!(listed[0].unread && !listed[1].unread);
    assert!(unread(bob, &a.id).await, "unread for everyone who has not read it");
    assert!(!list(None).await[0].unread, "nobody asking: nothing unread");

    // Page by page, ties in activity included, nothing is skipped or repeated.
    let tie = Conversation { created_at: at(3), ..conversation(tenant, &shop.id) };
    store.create_conversation(&tie, "inbox-token-tie").await.unwrap();
    let mut paged = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let got = store.list_conversations(tenant, &filter, Some(ann), &page).await.unwrap();
        paged.extend(ids(&got.items));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let (first_of_tie, second_of_tie) = if tie.id > c.id { (&tie, &c) } else { (&c, &tie) };
    let expected = [&a, first_of_tie, second_of_tie, &b].map(|x| x.id.clone());
    assert_eq!(paged, expected);
    let bad = PageRequest { after: Some("not-a-cursor".into()), limit: 5 };
    let none = store.list_conversations(tenant, &filter, Some(ann), &bad).await.unwrap();
    assert!(none.items.is_empty() && none.next.is_none());

    // Read marks are per person, and only a visitor's new words make it unread again.
    store.mark_read(tenant, &a.id, ann).await.unwrap();
    assert!(!unread(ann, &a.id).await);
    assert!(unread(bob, &a.id).await, "Bob has not read it");
    say(&a.id, Author::Operator, "Let me look.", 11).await;
    assert!(!unread(ann, &a.id).await, "a reply is nothing new to read");
    assert_eq!(list(Some(ann)).await[0].last_message.as_ref().unwrap().author, Author::Operator);
    say(&a.id, Author::Visitor, "Thanks!", 12).await;
    assert!(unread(ann, &a.id).await);
    store.mark_read(tenant, &a.id, ann).await.unwrap();
    store.mark_read(tenant, &a.id, ann).await.unwrap();
    assert!(!unread(ann, &a.id).await, "marking twice is marking once");

    // Never across tenants: not another tenant's conversation, nor another tenant's person.
    assert_not_found(store.mark_read(other, &a.id, ann).await);
    assert_not_found(store.mark_read(tenant, &ConversationId::new(), ann).await);
    let outsider = store.list_users(other, &PageRequest::default()).await.unwrap().items;
    let result = store.mark_read(tenant, &b.id, &outsider[0].id).await;
    assert!(matches!(result, Err(StoreError::MissingReference)), "{result:?}");
    let everything = PageRequest::default();
    let theirs = store.list_conversations(other, &filter, Some(ann), &everything).await.unwrap();
    assert!(theirs.items.is_empty());

    store.delete_widget(tenant, &shop.id).await.unwrap();
    assert!(list(Some(ann)).await.is_empty(), "marks go with their conversations");
}
