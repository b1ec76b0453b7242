//! Canned replies: the account's saved answers. Admins keep the list; operators insert one from
//! the reply box by its shortcut, filled in for the open conversation — the same `{variables}`
//! rules use (what rules and APIs set, `visitor.*`, `conversation.*`, `widget.*`, `now.*`).

use sb_domain::template::Template;
use sb_domain::{
    CannedReply, CannedReplyId, ConversationId, Role, Timestamp, canned_shortcut, canned_text,
};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::ConversationsService;
use super::process::built_ins;
use crate::{Actor, EngineError};

/// A canned reply filled in for one conversation.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FilledReply {
    pub id: CannedReplyId,
    pub shortcut: String,
    /// The reply for this conversation; a value it does not know stays as `{name}`, to be
    /// filled by hand.
    pub text: String,
    /// The variables this conversation has no value for.
    pub missing: Vec<String>,
}

impl ConversationsService {
    pub async fn create_canned_reply(
        &self,
        actor: &Actor,
        shortcut: &str,
        text: &str,
    ) -> Result<CannedReply, EngineError> {
        actor.require(Role::Admin)?;
        let now = Timestamp::now();
        let reply = CannedReply {
            id: CannedReplyId::new(),
            tenant_id: actor.tenant_id.clone(),
            shortcut: canned_shortcut(shortcut)?,
            text: canned_text(text)?,
            created_at: now,
            updated_at: now,
        };
        self.store.canned.create_canned_reply(&reply).await?;
        Ok(reply)
    }

    pub async fn list_canned_replies(
        &self,
        actor: &Actor,
    ) -> Result<Vec<CannedReply>, EngineError> {
        actor.require(Role::Operator)?;
        Ok(self.store.canned.list_canned_replies(&actor.tenant_id).await?)
    }

    pub async fn update_canned_reply(
        &self,
        actor: &Actor,
        id: &CannedReplyId,
        shortcut: Option<&str>,
        text: Option<&str>,
    ) -> Result<CannedReply, EngineError> {
        actor.require(Role::Admin)?;
        let mut reply = self.store.canned.get_canned_reply(&actor.tenant_id, id).await?;
        if let Some(shortcut) = shortcut {
            reply.shortcut = canned_shortcut(shortcut)?;
        }
        if let Some(text) = text {
            reply.text = canned_text(text)?;
        }
        reply.updated_at = Timestamp::now();
        self.store.canned.update_canned_reply(&reply).await?;
        Ok(reply)
    }

    pub async fn delete_canned_reply(
        &self,
        actor: &Actor,
        id: &CannedReplyId,
    ) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.canned.delete_canned_reply(&actor.tenant_id, id).await?)
    }

    /// Every canned reply, filled in for the conversation.
    pub async fn filled_canned_replies(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<Vec<FilledReply>, EngineError> {
        actor.require(Role::Operator)?;
        let tenant_id = &actor.tenant_id;
        let conversation = self.store.conversations.get_conversation(tenant_id, id).await?;
        let config = self.config(tenant_id).await?;
        let tenant = self.cached_tenant(&config, tenant_id).await?;
        let widget = self.cached_widget(&config, tenant_id, &conversation.widget_id).await?;
        let mut vars = conversation.variables.clone();
        // Switchboard's own values are only ever its own: none kept from before survives.
        vars.retain(|name, _| !sb_domain::is_built_in(name) || super::process::kept_built_in(name));
        vars.extend(built_ins(&tenant, &widget, &conversation, None));
        let replies = self.store.canned.list_canned_replies(tenant_id).await?;
        Ok(replies
            .into_iter()
            .map(|reply| {
                let Ok(template) = Template::parse("text", &reply.text) else {
                    return FilledReply {
                        id: reply.id,
                        shortcut: reply.shortcut,
                        text: reply.text,
                        missing: Vec::new(),
                    };
                };
                let (mut text, missing) = template.render_text(&vars);
                if !missing.is_empty() {
                    // Rendered again with each unknown value standing for itself.
                    let mut marked = vars.clone();
                    for name in &missing {
                        marked.insert(name.clone(), Value::String(format!("{{{name}}}")));
                    }
                    text = template.render_text(&marked).0;
                }
                FilledReply { id: reply.id, shortcut: reply.shortcut, text, missing }
            })
            .collect())
    }
}
