use async_trait::async_trait;
use sb_domain::{Team, TeamId, TeamName, TenantId, UserId};
use sb_store::{Page, PageRequest, StoreError, StoreResult, TeamStore, TeamUpdate};

use crate::{Db, Row, SqlStore, Tx, q};

/// Selects teams (through the `picked` subquery) joined with their members, one row per member.
macro_rules! select_teams {
    ($picked:literal) => {
        concat!(
            "SELECT t.id, t.tenant_id, t.name, t.created_at, m.user_id FROM (",
            $picked,
            ") t LEFT JOIN team_members m ON m.team_id = t.id ORDER BY t.id, m.user_id"
        )
    };
}

/// Folds the one-row-per-member result back into teams, keeping their order.
fn teams_from_rows(rows: &[Row]) -> StoreResult<Vec<Team>> {
    let mut teams: Vec<Team> = Vec::new();
    for row in rows {
        let id: TeamId = row.parse("id")?;
        if teams.last().is_none_or(|t| t.id != id) {
            teams.push(Team {
                id,
                tenant_id: row.parse("tenant_id")?,
                name: TeamName::from_stored(row.text("name")?),
                member_ids: Vec::new(),
                created_at: row.ts("created_at")?,
            });
        }
        if let (Some(team), Some(member)) = (teams.last_mut(), row.opt_parse("user_id")?) {
            team.member_ids.push(member);
        }
    }
    Ok(teams)
}

async fn insert_members(
    tx: &mut Box<dyn Tx>,
    tenant: &TenantId,
    team: &TeamId,
    members: &[UserId],
) -> StoreResult<()> {
    for member in members {
        tx.execute(
            q("INSERT INTO team_members (tenant_id, team_id, user_id) VALUES ($1, $2, $3)")
                .text(tenant.as_str())
                .text(team.as_str())
                .text(member.as_str()),
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl<D: Db> TeamStore for SqlStore<D> {
    async fn create_team(&self, team: &Team) -> StoreResult<Team> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("INSERT INTO teams (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4)")
                .text(team.id.as_str())
                .text(team.tenant_id.as_str())
                .text(team.name.as_str())
                .ts(team.created_at),
        )
        .await?;
        insert_members(&mut tx, &team.tenant_id, &team.id, &team.member_ids).await?;
        tx.commit().await?;
        self.get_team(&team.tenant_id, &team.id).await
    }

    async fn get_team(&self, tenant: &TenantId, id: &TeamId) -> StoreResult<Team> {
        let rows = self
            .db
            .fetch_all(
                q(select_teams!("SELECT * FROM teams WHERE tenant_id = $1 AND id = $2"))
                    .text(tenant.as_str())
                    .text(id.as_str()),
            )
            .await?;
        teams_from_rows(&rows)?.pop().ok_or(StoreError::NotFound)
    }

    async fn list_teams(&self, tenant: &TenantId, page: &PageRequest) -> StoreResult<Page<Team>> {
        let sql = select_teams!(
            "SELECT * FROM teams WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let query = q(sql).text(tenant.as_str());
        self.fetch_page(query, page, teams_from_rows, |t| t.id.to_string()).await
    }

    async fn update_team(
        &self,
        tenant: &TenantId,
        id: &TeamId,
        update: &TeamUpdate,
    ) -> StoreResult<Team> {
        let mut tx = self.db.begin().await?;
        // Touching the row first both proves it exists in this tenant and locks it.
        let name = update.name.as_ref().map(|n| n.as_str().to_owned());
        let found = tx
            .execute(
                q("UPDATE teams SET name = COALESCE($1, name) WHERE tenant_id = $2 AND id = $3")
                    .opt_text(name)
                    .text(tenant.as_str())
                    .text(id.as_str()),
            )
            .await?;
        if found == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(members) = &update.member_ids {
            tx.execute(q("DELETE FROM team_members WHERE team_id = $1").text(id.as_str())).await?;
            insert_members(&mut tx, tenant, id, members).await?;
        }
        tx.commit().await?;
        self.get_team(tenant, id).await
    }

    async fn delete_team(&self, tenant: &TenantId, id: &TeamId) -> StoreResult<()> {
        self.delete_owned(delete_owned_sql!("teams"), tenant.as_str(), id.as_str()).await
    }
}
