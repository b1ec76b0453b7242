//! Handing a conversation to people: a named operator, a team (its least busy available member),
//! or whoever is available.

use sb_domain::events::ConversationEvent;
use sb_domain::{Author, Conversation, ConversationStatus, TeamId, User, UserId};
use sb_store::{ConversationState, StoreError};
use serde_json::json;

use super::fixed_texts::FixedText;
use super::process::Run;
use crate::{ConversationsService, EngineError};

/// What became of a hand-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandOver {
    /// The operator or team named no longer exists: nothing changed.
    Failed,
    /// An available person has the conversation.
    Attended,
    /// Handed to people, but nobody available has it: it waits for whoever comes back.
    Unattended,
}

/// Who should take the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignTarget {
    User(UserId),
    Team(TeamId),
    AnyAvailable,
}

impl ConversationsService {
    /// The available candidate with the fewest pending conversations (ties: the earliest user).
    async fn least_busy(
        &self,
        conversation: &Conversation,
        candidates: Vec<User>,
    ) -> Result<Option<UserId>, EngineError> {
        if candidates.is_empty() {
            return Ok(None);
        }
        let ids: Vec<UserId> = candidates.into_iter().map(|u| u.id).collect();
        let counts = self.store.conversations.pending_counts(&conversation.tenant_id, &ids).await?;
        Ok(counts
            .into_iter()
            .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)))
            .map(|(id, _)| id))
    }

    /// Works out the new owner. A named user or team must belong to the conversation's tenant.
    pub(crate) async fn route(
        &self,
        conversation: &Conversation,
        target: &AssignTarget,
    ) -> Result<ConversationState, EngineError> {
        let tenant = &conversation.tenant_id;
        let (assigned_to, assigned_team) = match target {
            AssignTarget::User(user) => {
                self.accounts.user(tenant, user).await?;
                (Some(user.clone()), None)
            }
            AssignTarget::Team(team) => {
                let team = self.accounts.team(tenant, team).await?;
                let available = self.accounts.available_users(tenant).await?;
                let members =
                    available.into_iter().filter(|u| team.member_ids.contains(&u.id)).collect();
                (self.least_busy(conversation, members).await?, Some(team.id))
            }
            AssignTarget::AnyAvailable => {
                let available = self.accounts.available_users(tenant).await?;
                (self.least_busy(conversation, available).await?, None)
            }
        };
        Ok(ConversationState { status: ConversationStatus::Pending, assigned_to, assigned_team })
    }

    /// Whether anyone in the tenant takes conversations now.
    pub(crate) async fn operator_online(
        &self,
        conversation: &Conversation,
    ) -> Result<bool, StoreError> {
        Ok(!self.accounts.available_users(&conversation.tenant_id).await?.is_empty())
    }

    /// Hands the conversation to people (`ASSIGN_TO_OPERATOR`) and tells the visitor honestly
    /// whether someone is there.
    pub(crate) async fn hand_over(
        &self,
        run: &mut Run<'_>,
        target: AssignTarget,
        note: Option<&str>,
    ) -> Result<(), EngineError> {
        let text = match self.hand_over_quietly(run, target, note).await? {
            HandOver::Failed => return Ok(()),
            HandOver::Attended => self.fixed_text(run, FixedText::Handover, true).await,
            HandOver::Unattended => self.nobody_available(run, true).await,
        };
        run.turn.reply(Author::System, &text, None);
        Ok(())
    }

    /// What the visitor is told when nobody can take the conversation now: that it waits, and
    /// where the answer will come (their e-mail, when they gave one).
    pub(crate) async fn nobody_available(&self, run: &Run<'_>, ask_provider: bool) -> String {
        match run.conversation.visitor.email.clone() {
            Some(email) => self
                .fixed_text(run, FixedText::NobodyAvailableEmail, ask_provider)
                .await
                .replace("{email}", &email),
            None => self.fixed_text(run, FixedText::NobodyAvailable, ask_provider).await,
        }
    }

    /// Hands the conversation to people (or their queue) and notes why; what became of it.
    /// The caller tells the visitor; the team is told here (realtime, and the
    /// `conversation.unattended` webhook when nobody has it).
    pub(crate) async fn hand_over_quietly(
        &self,
        run: &mut Run<'_>,
        target: AssignTarget,
        note: Option<&str>,
    ) -> Result<HandOver, EngineError> {
        let state = match self.route(&run.conversation, &target).await {
            Ok(state) => state,
            Err(EngineError::Store(StoreError::NotFound)) => {
                let reason = "the operator or team no longer exists";
                self.note(run, "assign_failed", json!({"reason": reason})).await;
                return Ok(HandOver::Failed);
            }
            Err(other) => return Err(other),
        };
        // Routing to a team or anyone picks only available people; a person named in the rule
        // gets it even when away, and then nobody is there either.
        let attended = match (&target, &state.assigned_to) {
            (AssignTarget::User(user), _) => self
                .accounts
                .available_users(&run.conversation.tenant_id)
                .await?
                .iter()
                .any(|u| &u.id == user),
            (_, assigned) => assigned.is_some(),
        };
        let mut conversation = run.conversation.clone();
        self.set_state(&mut conversation, state).await?;
        run.conversation = conversation;
        run.handed_over = true;
        let (to, team) = (&run.conversation.assigned_to, &run.conversation.assigned_team);
        let data = json!({"to": to, "team": team, "note": note, "attended": attended});
        self.note(run, "assigned", data).await;
        self.events.publish(ConversationEvent::HandedOver {
            tenant_id: run.conversation.tenant_id.clone(),
            conversation_id: run.conversation.id.clone(),
            assigned_to: to.clone(),
            assigned_team: team.clone(),
            attended,
        });
        Ok(if attended { HandOver::Attended } else { HandOver::Unattended })
    }
}
