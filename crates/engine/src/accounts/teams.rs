//! Teams: groups of operators that conversations can be routed to.

use sb_domain::{Role, Team, TeamId, TeamName, TenantId, Timestamp, UserId, ValidationError};
use sb_store::{Page, PageRequest, StoreError, TeamUpdate};

use super::AccountsService;
use crate::{Actor, EngineError};

impl AccountsService {
    /// Checks that every id names a user of the actor's tenant, reporting the first that does
    /// not as `member_ids[i]`. Repeated ids are folded into one.
    async fn tenant_members(
        &self,
        tenant: &TenantId,
        ids: Vec<UserId>,
    ) -> Result<Vec<UserId>, EngineError> {
        let mut members: Vec<UserId> = Vec::with_capacity(ids.len());
        for (index, id) in ids.into_iter().enumerate() {
            match self.store.accounts.get_user(tenant, &id).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(ValidationError::new(
                        format!("member_ids[{index}]"),
                        "unknown_user",
                        format!("no user {id} in this tenant"),
                    )
                    .into());
                }
                Err(other) => return Err(other.into()),
            }
            if !members.contains(&id) {
                members.push(id);
            }
        }
        Ok(members)
    }

    /// Creates a team (admins).
    pub async fn create_team(
        &self,
        actor: &Actor,
        name: &str,
        member_ids: Vec<UserId>,
    ) -> Result<Team, EngineError> {
        actor.require(Role::Admin)?;
        let team = Team {
            id: TeamId::new(),
            tenant_id: actor.tenant_id.clone(),
            name: TeamName::parse(name)?,
            member_ids: self.tenant_members(&actor.tenant_id, member_ids).await?,
            created_at: Timestamp::now(),
        };
        Ok(self.store.teams.create_team(&team).await?)
    }

    /// Renames a team or replaces its members (admins).
    pub async fn update_team(
        &self,
        actor: &Actor,
        id: &TeamId,
        name: Option<&str>,
        member_ids: Option<Vec<UserId>>,
    ) -> Result<Team, EngineError> {
        actor.require(Role::Admin)?;
        let members = match member_ids {
            Some(ids) => Some(self.tenant_members(&actor.tenant_id, ids).await?),
            None => None,
        };
        let update =
            TeamUpdate { name: name.map(TeamName::parse).transpose()?, member_ids: members };
        Ok(self.store.teams.update_team(&actor.tenant_id, id, &update).await?)
    }

    /// The tenant's teams; anyone of the tenant may see them (to hand conversations over).
    pub async fn list_teams(
        &self,
        actor: &Actor,
        page: &PageRequest,
    ) -> Result<Page<Team>, EngineError> {
        Ok(self.store.teams.list_teams(&actor.tenant_id, page).await?)
    }

    pub async fn get_team(&self, actor: &Actor, id: &TeamId) -> Result<Team, EngineError> {
        Ok(self.store.teams.get_team(&actor.tenant_id, id).await?)
    }

    /// Deletes a team (admins).
    pub async fn delete_team(&self, actor: &Actor, id: &TeamId) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.teams.delete_team(&actor.tenant_id, id).await?)
    }
}
