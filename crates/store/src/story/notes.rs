//! Notes sit after the message that was last when they were written, stay the tenant's, and go
//! with their conversation.

use sb_domain::{Author, ConversationId, MessageId, StaffMessage, TenantId};

use super::conversations::{conversation, widget};
use super::{assert_not_found, now};
use crate::{NewMessage, NewNote, Store};

pub(super) async fn notes(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = widget(tenant, "Notes");
    store.create_widget(&shop, None).await.unwrap();
    let chat = conversation(tenant, &shop.id);
    store.create_conversation(&chat, "notes-token-hash").await.unwrap();
    fn note<'a>(tenant: &'a TenantId, chat: &'a ConversationId, id: &'a MessageId) -> NewNote<'a> {
        NewNote {
            id,
            tenant,
            conversation: chat,
            author_user_id: None,
            text: "a note",
            created_at: now(),
        }
    }
    let (first_id, second_id) = (MessageId::new(), MessageId::new());
    let before = store.add_note(note(tenant, &chat.id, &first_id)).await.unwrap();
    assert_eq!((before.seq, before.private, before.author), (0, true, Author::Operator));
    let hello = MessageId::new();
    let message = NewMessage {
        id: &hello,
        conversation_id: &chat.id,
        author: Author::Visitor,
        author_user_id: None,
        text: "hello",
        translation: None,
        created_at: now(),
        action: None,
        attachments: &[],
        search_terms: "",
        source: None,
    };
    let m1 = store.append_message(tenant, message).await.unwrap();
    let after = store.add_note(note(tenant, &chat.id, &second_id)).await.unwrap();
    assert_eq!((after.seq, after.text.as_str()), (m1.seq, "a note"));
    assert_eq!(store.get_note(tenant, &second_id).await.unwrap(), after);

    assert_eq!(
        store.list_notes(tenant, &chat.id, 0).await.unwrap(),
        [before.clone(), after.clone()]
    );
    assert_eq!(store.list_notes(tenant, &chat.id, 1).await.unwrap(), std::slice::from_ref(&after));
    let merged = StaffMessage::merge(
        store.list_messages(tenant, &chat.id, 0, 10).await.unwrap(),
        store.list_notes(tenant, &chat.id, 0).await.unwrap(),
    );
    assert_eq!(
        merged,
        [StaffMessage::Note(before), StaffMessage::Message(m1), StaffMessage::Note(after)]
    );
    // Notes never show among the messages.
    assert_eq!(store.list_messages(tenant, &chat.id, 0, 10).await.unwrap().len(), 1);

    // Another tenant can neither write nor read them.
    let foreign = MessageId::new();
    let theirs = note(other, &chat.id, &foreign);
    assert_not_found(store.add_note(theirs).await);
    assert!(store.list_notes(other, &chat.id, 0).await.unwrap().is_empty());
    assert_not_found(store.get_note(other, &second_id).await);

    store.delete_widget(tenant, &shop.id).await.unwrap();
    assert_not_found(store.get_note(tenant, &second_id).await);
}
