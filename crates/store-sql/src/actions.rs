//! Pending actions (safe writes). Proposals are written with the handling that made them
//! (see `finish_message`); decisions are compare-and-set on `updated_at`, so a double click or
//! two operators at once decide once.

use async_trait::async_trait;
use sb_domain::action::{ActionState, PendingAction};
use sb_domain::{ActionId, ConversationId, TenantId, Timestamp};
use sb_store::{ActionDecision, ActionStore, Page, PageRequest, StoreResult};

use crate::json::to_json;
use crate::{Db, Query, Row, SqlStore, each, q};

macro_rules! action_columns {
    () => {
        "id, tenant_id, conversation_id, message_id, endpoint_id, endpoint_name, proposed_by_json, \
         summary, request_json, fingerprint, variables_json, continuation_json, approval, state, \
         visitor_confirmed_at, operator_approved_at, decided_by, note, outcome_json, expires_at, \
         created_at, updated_at"
    };
}

fn action_from_row(row: &Row) -> StoreResult<PendingAction> {
    Ok(PendingAction {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        conversation_id: row.parse("conversation_id")?,
        message_id: row.parse("message_id")?,
        endpoint_id: row.parse("endpoint_id")?,
        endpoint_name: row.text("endpoint_name")?,
        proposed_by: row.json("proposed_by_json")?,
        summary: row.text("summary")?,
        request: row.json("request_json")?,
        fingerprint: row.text("fingerprint")?,
        variables: row.json("variables_json")?,
        continuation: row.json("continuation_json")?,
        approval: row.parse("approval")?,
        state: row.parse("state")?,
        visitor_confirmed_at: row.opt_ts("visitor_confirmed_at")?,
        operator_approved_at: row.opt_ts("operator_approved_at")?,
        decided_by: row.opt_parse("decided_by")?,
        note: row.opt_text("note")?,
        outcome: row.opt_json("outcome_json")?,
        expires_at: row.ts("expires_at")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
    })
}

/// The INSERT of a proposed action, for the unit that stores the handling which proposed it.
pub(crate) fn insert_action(a: &PendingAction) -> Query {
    let sql = concat!(
        "INSERT INTO pending_actions (",
        action_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22)"
    );
    q(sql)
        .text(a.id.as_str())
        .text(a.tenant_id.as_str())
        .text(a.conversation_id.as_str())
        .text(a.message_id.as_str())
        .text(a.endpoint_id.as_str())
        .text(&a.endpoint_name)
        .json(to_json(&a.proposed_by))
        .text(&a.summary)
        .json(to_json(&a.request))
        .text(&a.fingerprint)
        .json(to_json(&a.variables))
        .json(to_json(&a.continuation))
        .text(a.approval.as_str())
        .text(a.state.as_str())
        .opt_ts(a.visitor_confirmed_at)
        .opt_ts(a.operator_approved_at)
        .opt_text(a.decided_by.as_ref().map(|u| u.as_str()))
        .opt_text(a.note.as_deref())
        .opt_json(a.outcome.as_ref().map(to_json))
        .ts(a.expires_at)
        .ts(a.created_at)
        .ts(a.updated_at)
}

/// Records how an agreed action ended, with the handling that ran it.
pub(crate) fn settle_action(
    tenant: &TenantId,
    id: &ActionId,
    state: ActionState,
    outcome: &serde_json::Value,
) -> Query {
    q("UPDATE pending_actions SET state = $1, outcome_json = $2, updated_at = $3 \
       WHERE tenant_id = $4 AND id = $5")
    .text(state.as_str())
    .json(to_json(outcome))
    .ts(Timestamp::now())
    .text(tenant.as_str())
    .text(id.as_str())
}

#[async_trait]
impl<D: Db> ActionStore for SqlStore<D> {
    async fn get_action(&self, tenant: &TenantId, id: &ActionId) -> StoreResult<PendingAction> {
        let sql = concat!(
            "SELECT ",
            action_columns!(),
            " FROM pending_actions WHERE tenant_id = $1 AND id = $2"
        );
        action_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn list_actions(
        &self,
        tenant: &TenantId,
        state: Option<ActionState>,
        page: &PageRequest,
    ) -> StoreResult<Page<PendingAction>> {
        let query = match state {
            Some(state) => q(concat!(
                "SELECT ",
                action_columns!(),
                " FROM pending_actions WHERE tenant_id = $1 AND state = $2 AND id > $3 \
                 ORDER BY id LIMIT $4"
            ))
            .text(tenant.as_str())
            .text(state.as_str()),
            None => q(concat!(
                "SELECT ",
                action_columns!(),
                " FROM pending_actions WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
            ))
            .text(tenant.as_str()),
        };
        self.fetch_page(query, page, each(action_from_row), |a| a.id.to_string()).await
    }

    async fn conversation_actions(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<PendingAction>> {
        let sql = concat!(
            "SELECT ",
            action_columns!(),
            " FROM pending_actions WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY id"
        );
        let rows =
            self.db.fetch_all(q(sql).text(tenant.as_str()).text(conversation.as_str())).await?;
        rows.iter().map(action_from_row).collect()
    }

    async fn decide_action(&self, d: &ActionDecision<'_>) -> StoreResult<bool> {
        let query = q("UPDATE pending_actions SET state = $1, visitor_confirmed_at = $2, \
                       operator_approved_at = $3, decided_by = COALESCE($4, decided_by), \
                       note = COALESCE($5, note), updated_at = $6 \
                       WHERE tenant_id = $7 AND id = $8 AND updated_at = $9 AND state = $10")
        .text(d.state.as_str())
        .opt_ts(d.visitor_confirmed_at)
        .opt_ts(d.operator_approved_at)
        .opt_text(d.decided_by.map(|u| u.as_str()))
        .opt_text(d.note)
        .ts(d.now)
        .text(d.tenant.as_str())
        .text(d.id.as_str())
        .ts(d.seen)
        .text(ActionState::Pending.as_str());
        Ok(self.db.execute(query).await? == 1)
    }

    async fn expired_actions(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PendingAction>> {
        let sql = concat!(
            "SELECT ",
            action_columns!(),
            " FROM pending_actions WHERE state = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3"
        );
        let query = q(sql).text(ActionState::Pending.as_str()).ts(now).int(i64::from(limit));
        self.db.fetch_all(query).await?.iter().map(action_from_row).collect()
    }
}
