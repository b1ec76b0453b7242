//! Labels: the account's tags for conversations. Admins define them; operators and the
//! `ADD_LABEL` rule action put them on conversations; the inbox filters by them.

use sb_domain::events::ConversationEvent;
use sb_domain::{
    ConversationId, DEFAULT_COLOR, Label, LabelId, MAX_LABELS, Role, TenantId, Timestamp,
    ValidationError, label_name, validate_color,
};
use serde_json::json;

use super::ConversationsService;
use super::process::Run;
use crate::{Actor, EngineError};

impl ConversationsService {
    pub async fn create_label(
        &self,
        actor: &Actor,
        name: &str,
        color: Option<&str>,
    ) -> Result<Label, EngineError> {
        actor.require(Role::Admin)?;
        let color = match color {
            Some(color) => validate_color(color).map_err(|mut e| {
                e.field = "color".into();
                e
            })?,
            None => DEFAULT_COLOR.to_owned(),
        };
        let label = Label {
            id: LabelId::new(),
            tenant_id: actor.tenant_id.clone(),
            name: label_name(name, "name")?,
            color,
            created_at: Timestamp::now(),
        };
        self.store.labels.create_label(&label).await?;
        Ok(label)
    }

    pub async fn list_labels(&self, actor: &Actor) -> Result<Vec<Label>, EngineError> {
        actor.require(Role::Operator)?;
        Ok(self.store.labels.list_labels(&actor.tenant_id).await?)
    }

    /// Deletes the label; it comes off every conversation (rules that add it then skip it).
    pub async fn delete_label(&self, actor: &Actor, id: &LabelId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        self.store.labels.delete_label(&actor.tenant_id, id).await?;
        Ok(())
    }

    /// Replaces the conversation's labels with `names`, each one of the account's.
    pub async fn set_labels(
        &self,
        actor: &Actor,
        id: &ConversationId,
        names: &[String],
    ) -> Result<Vec<String>, EngineError> {
        actor.require(Role::Operator)?;
        let known = self.store.labels.list_labels(&actor.tenant_id).await?;
        let mut labels = Vec::new();
        for (i, raw) in names.iter().enumerate() {
            let field = format!("labels[{i}]");
            let name = label_name(raw, field.clone())?;
            if !known.iter().any(|l| l.name == name) {
                let message = format!("the account has no label “{name}”: create it first");
                return Err(ValidationError::new(field, "unknown_label", message).into());
            }
            labels.push(name);
        }
        labels.sort();
        labels.dedup();
        if labels.len() > MAX_LABELS {
            let message = format!("a conversation carries at most {MAX_LABELS} labels");
            return Err(ValidationError::new("labels", "too_many", message).into());
        }
        self.store.conversations.get_conversation(&actor.tenant_id, id).await?;
        self.save_labels(&actor.tenant_id, id, labels).await
    }

    async fn save_labels(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        labels: Vec<String>,
    ) -> Result<Vec<String>, EngineError> {
        self.store.conversations.set_conversation_labels(tenant, id, &labels).await?;
        self.events.publish(ConversationEvent::LabelsChanged {
            tenant_id: tenant.clone(),
            conversation_id: id.clone(),
            labels: labels.clone(),
        });
        Ok(labels)
    }

    /// `ADD_LABEL`: puts the label on the conversation, if the account still has it.
    pub(super) async fn add_label(&self, run: &mut Run<'_>, name: &str) -> Result<(), EngineError> {
        let tenant = run.tenant.id.clone();
        let known = self.store.labels.list_labels(&tenant).await?;
        if !known.iter().any(|l| l.name == name) {
            self.note(run, "label_missing", json!({"label": name})).await;
            return Ok(());
        }
        let conversation = run.conversation.id.clone();
        let mut labels =
            self.store.conversations.get_conversation(&tenant, &conversation).await?.labels;
        if labels.iter().any(|l| l == name) {
            return Ok(());
        }
        if labels.len() >= MAX_LABELS {
            self.note(run, "label_not_added", json!({"label": name, "reason": "too_many"})).await;
            return Ok(());
        }
        labels.push(name.to_owned());
        labels.sort();
        self.save_labels(&tenant, &conversation, labels).await?;
        self.note(run, "label_added", json!({"label": name})).await;
        Ok(())
    }
}
