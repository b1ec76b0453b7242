//! What a visitor's page may reach: an active widget from a site the widget allows, and with a
//! visitor token, that token's own conversation and nothing else.

use sb_domain::{Conversation, ConversationId, WidgetId};
use sb_secrets::sha256_hex;
use sb_store::StoredWidget;

use super::{ConversationsService, VISITOR_TOKEN_PREFIX};
use crate::EngineError;

const ORIGIN_NOT_ALLOWED: EngineError = EngineError::Refused {
    code: "origin_not_allowed",
    message: "this widget may not be used from this site; add the site to the widget's allowed origins",
};

impl ConversationsService {
    /// The widget `id` as the page at `origin` (the browser's `Origin`, when it sent one) may
    /// use it. Inactive widgets are not found.
    pub async fn visitor_widget(
        &self,
        id: &WidgetId,
        origin: Option<&str>,
    ) -> Result<StoredWidget, EngineError> {
        let stored = match self.store.widgets.find_widget(id).await? {
            Some(stored) if stored.widget.active => stored,
            _ => return Err(sb_store::StoreError::NotFound.into()),
        };
        match origin {
            Some(origin) if !stored.widget.allows_origin(origin) => Err(ORIGIN_NOT_ALLOWED),
            _ => Ok(stored),
        }
    }

    /// The conversation `id`, when `token` is its visitor token and the page at `origin` may
    /// use its widget. A token opens its own conversation only: any other id does not exist
    /// for it.
    pub async fn visitor_conversation(
        &self,
        token: &str,
        id: &ConversationId,
        origin: Option<&str>,
    ) -> Result<Conversation, EngineError> {
        let invalid = EngineError::Unauthenticated("the visitor token is not valid");
        if !token.starts_with(VISITOR_TOKEN_PREFIX) {
            return Err(invalid);
        }
        let conversation = self
            .store
            .conversations
            .find_conversation_by_token(&sha256_hex(token))
            .await?
            .ok_or(invalid)?;
        if conversation.id != *id {
            return Err(EngineError::NotFound("conversation"));
        }
        // Without an Origin there is no site to check (and no widget to read).
        let Some(origin) = origin else { return Ok(conversation) };
        let (tenant, widget) = (&conversation.tenant_id, &conversation.widget_id);
        if self.store.widgets.get_widget(tenant, widget).await?.widget.allows_origin(origin) {
            Ok(conversation)
        } else {
            Err(ORIGIN_NOT_ALLOWED)
        }
    }
}
