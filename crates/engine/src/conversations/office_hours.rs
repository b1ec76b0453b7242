//! Office hours at work: the widget learns whether its people are there and when they are
//! back; a visitor outside the hours may leave an e-mail address, which the team sees in the
//! conversation; rules read `widget.open`.

use sb_domain::{Author, Availability, Conversation, Email, Timestamp, ValidationError, Widget};
use schemars::JsonSchema;
use serde::Serialize;

use super::ConversationsService;
use crate::EngineError;

/// What the widget shows about its hours.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HoursNow {
    #[serde(flatten)]
    pub availability: Availability,
    /// The widget's own words for "away", if it has them.
    pub offline_message: Option<String>,
    /// Whether to ask for an e-mail address while away.
    pub ask_email: bool,
}

impl ConversationsService {
    /// The widget's hours as they stand now (none without hours).
    pub async fn hours_now(&self, widget: &Widget) -> Result<Option<HoursNow>, EngineError> {
        let Some(hours) = &widget.office_hours else { return Ok(None) };
        let tenant = self.accounts.tenant_by_id(&widget.tenant_id).await?;
        Ok(Some(HoursNow {
            availability: hours.availability(&tenant.time_zone, Timestamp::now()),
            offline_message: hours.offline_message.clone(),
            ask_email: hours.ask_email_offline,
        }))
    }

    /// The visitor leaves an e-mail address to be answered at: kept on the conversation and
    /// its contact (unverified), and said in the conversation so the team sees it.
    pub async fn leave_email(
        &self,
        conversation: &Conversation,
        email: &str,
    ) -> Result<(), EngineError> {
        let email = Email::parse(email.trim())
            .map_err(|e| ValidationError { field: "email".into(), ..e })?
            .to_string();
        let tenant = &conversation.tenant_id;
        let mut visitor = conversation.visitor.clone();
        if visitor.email.as_deref() != Some(email.as_str()) {
            visitor.email = Some(email.clone());
            visitor.email_verified = false;
        }
        self.store.conversations.update_visitor(tenant, &conversation.id, &visitor).await?;
        if let Some(contact) = &conversation.contact_id {
            let mut found = self.store.contacts.get_contact(tenant, contact).await?;
            if !found.verified {
                found.email = Some(email.clone());
                found.last_seen_at = Timestamp::now();
                self.store.contacts.record_visit(&found, None).await?;
            }
        }
        let text = format!("The visitor left an e-mail address for the reply: {email}");
        self.post_message(conversation, Author::System, None, &text, None).await?;
        Ok(())
    }
}
