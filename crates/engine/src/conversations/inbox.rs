//! The inbox: conversations by latest activity for the person asking, and what they have read.

use sb_domain::{ConversationId, ListedConversation, Role, ValidationError};
use sb_store::{ActivityCursor, ConversationFilter, Page, PageRequest};

use super::ConversationsService;
use crate::{Actor, EngineError};

impl ConversationsService {
    /// Latest activity first, each with its newest message and whether the actor has unread
    /// visitor messages in it (an API key that belongs to nobody has read nothing and is told
    /// nothing is unread).
    pub async fn list_conversations(
        &self,
        actor: &Actor,
        filter: &ConversationFilter,
        page: &PageRequest,
    ) -> Result<Page<ListedConversation>, EngineError> {
        if page.after.as_deref().is_some_and(|cursor| ActivityCursor::parse(cursor).is_none()) {
            let message = "not a cursor this list gave: pass the `next` value of the previous page";
            return Err(ValidationError::new("cursor", "invalid_field", message).into());
        }
        let reader = actor.user_id.as_ref();
        Ok(self
            .store
            .conversations
            .list_conversations(&actor.tenant_id, filter, reader, page)
            .await?)
    }

    /// Marks everything in the conversation so far as read by the actor. Another tenant's
    /// conversation is not found.
    pub async fn mark_read(&self, actor: &Actor, id: &ConversationId) -> Result<(), EngineError> {
        actor.require(Role::Operator)?;
        self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        let Some(user) = &actor.user_id else {
            return Err(EngineError::Refused {
                code: "no_user",
                message: "read marks are kept per person, and this API key belongs to nobody",
            });
        };
        Ok(self.store.conversations.mark_read(&actor.tenant_id, id, user).await?)
    }
}

#[cfg(test)]
mod tests {
    use sb_domain::Author;

    use super::super::VisitorStart;
    use super::super::widgets::WidgetDraft;
    use crate::EngineError;
    use crate::testing::{assert_not_found, world};

    #[tokio::test]
    async fn read_marks_belong_to_a_person_of_the_conversations_tenant() {
        let w = world().await;
        let conversations = &w.services.conversations;
        let draft = WidgetDraft { name: Some("Shop".into()), ..WidgetDraft::default() };
        let id = conversations.create_widget(&w.admin, draft).await.unwrap().widget.id;
        let widget = conversations.visitor_widget(&id, None).await.unwrap();
        let start = VisitorStart {
            time_zone: Some("America/New_York".into()),
            user_agent: Some("Mozilla/5.0 Gecko/20100101 Firefox/133.0".into()),
            ..VisitorStart::default()
        };
        let conversation = conversations.start_conversation(&widget, start).await.unwrap();
        let conversation = conversation.conversation;
        assert_eq!(conversation.visitor.time_zone.as_deref(), Some("America/New_York"));
        assert_eq!(conversation.visitor.browser.as_deref(), Some("Firefox"));
        conversations.post_message(&conversation, Author::Visitor, None, "Hi", None).await.unwrap();
        let id = &conversation.id;

        let (everyone, page) = (Default::default(), Default::default());
        let unread = async |actor| {
            let listed = conversations.list_conversations(actor, &everyone, &page);
            listed.await.unwrap().items[0].unread
        };
        assert!(unread(&w.operator).await && unread(&w.admin).await);
        conversations.mark_read(&w.operator, id).await.unwrap();
        assert!(!unread(&w.operator).await);
        assert!(unread(&w.admin).await, "the admin has not read it");

        assert_not_found(conversations.mark_read(&w.stranger, id).await);
        let nobody = crate::Actor { user_id: None, ..w.admin.clone() };
        assert!(!unread(&nobody).await, "a key of nobody's has nothing unread");
        let refused = conversations.mark_read(&nobody, id).await;
        assert!(
            matches!(refused, Err(EngineError::Refused { code: "no_user", .. })),
            "{refused:?}"
        );
        let bad_cursor = sb_store::PageRequest { after: Some("cnv_x".into()), limit: 5 };
        let listed = conversations.list_conversations(&w.admin, &everyone, &bad_cursor);
        assert!(matches!(listed.await, Err(EngineError::Invalid(e)) if e.field == "cursor"));
    }
}
