//! Handing a conversation to people: a named operator, a team (its least busy available member),
//! or whoever is available.

use sb_domain::{Conversation, ConversationStatus, TeamId, User, UserId};
use sb_store::{ConversationState, StoreError};

use crate::{ConversationsService, EngineError};

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
}
