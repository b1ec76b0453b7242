use async_trait::async_trait;
use sb_domain::action::ActionCard;
use sb_domain::{
    Author, ChannelKind, ChannelRef, Conversation, ConversationId, ListedConversation, Message,
    MessageId, TenantId, Timestamp, TraceEvent, Translation, UserId,
};
use sb_store::{
    ConversationFilter, ConversationState, ConversationStore, FinishedMessage, NewMessage,
    NewTrace, OutcomeChange, Page, PageRequest, StoreError, StoreResult,
};

use std::sync::LazyLock;

use crate::json::to_json;
use crate::lists::{RowInserts, placeholders, row_inserts, row_inserts_for};
use crate::{Db, Query, Row, SqlStore, expect_found, q};

/// A conversation's columns, for [`conversation_from_row`].
macro_rules! columns {
    () => {
        "id, tenant_id, widget_id, status, assigned_user_id, assigned_team_id, visitor_json, \
         variables_json, created_at, updated_at, last_message_at, labels_json, contact_id, outcome, \
         outcome_at, channel_kind, channel_id"
    };
}
pub(crate) use columns as conversation_columns;

/// A message's columns, for [`message_from_row`].
macro_rules! message_columns {
    () => {
        "m.id, m.tenant_id, m.conversation_id, m.seq, m.author, m.author_user_id, m.text, \
         m.translation, m.translation_language, m.created_at, m.action_id, \
         a.summary AS action_summary, a.state AS action_state, a.expires_at AS action_expires_at, \
         a.approval AS action_approval, a.visitor_confirmed_at AS action_visitor_at, \
         a.operator_approved_at AS action_operator_at, m.attachments_json, m.source"
    };
}

/// Messages `m` with the action each may ask for, `a`: [`message_columns`] reads both.
macro_rules! messages_with_actions {
    () => {
        " FROM messages m LEFT JOIN pending_actions a ON a.id = m.action_id "
    };
}

/// Trace entries, up to each of `ROW_COUNTS` a statement, six parameters each; rows whose tenant is null are
/// padding and left out. VALUES columns are named column1, column2, … in both databases.
static INSERT_TRACES: LazyLock<RowInserts> = LazyLock::new(|| {
    row_inserts(|count| {
        let rows: Vec<String> =
            (0..count).map(|i| format!("({})", placeholders(i * 6 + 1, 6))).collect();
        format!(
            "INSERT INTO trace_events (tenant_id, conversation_id, message_id, kind, data_json, created_at) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6 \
             FROM (VALUES {}) AS v WHERE v.column1 IS NOT NULL",
            rows.join(", ")
        )
    })
});

/// Appending `m`: taking the conversation's next number, then the row with that number. Taking
/// the number updates (and so locks) the conversation row: concurrent appends to one
/// conversation queue up instead of colliding.
pub(crate) fn append_statements(tenant: &TenantId, m: &NewMessage<'_>) -> [Query; 2] {
    let next = q(
        "UPDATE conversations SET last_seq = last_seq + 1, last_message_at = $1, updated_at = $1 \
                  WHERE tenant_id = $2 AND id = $3 RETURNING last_seq",
    )
    .ts(m.created_at)
    .text(tenant.as_str())
    .text(m.conversation_id.as_str());
    let insert = q(
        "INSERT INTO messages (id, tenant_id, conversation_id, seq, author, author_user_id, text, \
                    created_at, processed, translation, translation_language, action_id, \
                    attachments_json, source) \
                    SELECT $1, $2, $3, c.last_seq, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
                    FROM conversations c WHERE c.tenant_id = $2 AND c.id = $3",
    )
    .text(m.id.as_str())
    .text(tenant.as_str())
    .text(m.conversation_id.as_str())
    .text(m.author.as_str())
    .opt_text(m.author_user_id.map(|u| u.as_str()))
    .text(m.text)
    .ts(m.created_at)
    // A visitor's message is handled by the engine unless it is only files (no words).
    .boolean(m.author != Author::Visitor || m.text.is_empty())
    .opt_text(m.translation.map(|t| t.text.clone()))
    .opt_text(m.translation.map(|t| t.language.clone()))
    .opt_text(m.action.map(|a| a.id.as_str()))
    .opt_json((!m.attachments.is_empty()).then(|| to_json(&m.attachments)))
    .opt_text(m.source.map(|s| s.as_str()));
    [next, insert]
}

/// The message `m` became, numbered `seq`.
pub(crate) fn stored(m: &NewMessage<'_>, seq: i64) -> Message {
    Message {
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        seq,
        author: m.author,
        author_user_id: m.author_user_id.cloned(),
        text: m.text.to_owned(),
        translation: m.translation.cloned(),
        created_at: m.created_at,
        action: m.action.map(|a| Box::new(ActionCard::from(a))),
        attachments: m.attachments.to_vec(),
        source: m.source,
    }
}

/// The statements that append `entries` to their conversations' traces.
fn trace_inserts(entries: &[NewTrace]) -> Vec<Query> {
    row_inserts_for(&INSERT_TRACES, q, entries, |query, entry| {
        query
            .text(entry.tenant.as_str())
            .text(entry.conversation.as_str())
            .opt_text(entry.message.as_ref().map(|m| m.as_str()))
            .text(&entry.kind)
            .json(to_json(&entry.data))
            .ts(entry.at)
    })
}

pub(crate) fn conversation_from_row(row: &Row) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: row.parse("id")?,
        tenant_id: row.parse("tenant_id")?,
        widget_id: row.parse("widget_id")?,
        status: row.parse("status")?,
        assigned_to: row.opt_parse("assigned_user_id")?,
        assigned_team: row.opt_parse("assigned_team_id")?,
        visitor: row.json("visitor_json")?,
        variables: row.json("variables_json")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
        last_message_at: row.opt_ts("last_message_at")?,
        labels: row.json("labels_json")?,
        contact_id: row.opt_parse("contact_id")?,
        outcome: row.opt_parse("outcome")?,
        closed_at: row.opt_ts("outcome_at")?,
        channel: match row.opt_text("channel_id")? {
            Some(id) => ChannelRef { kind: row.parse("channel_kind")?, id },
            None => ChannelRef { kind: ChannelKind::Widget, id: row.text("widget_id")? },
        },
    })
}

fn message_from_row(row: &Row) -> StoreResult<Message> {
    Ok(Message {
        id: row.parse("id")?,
        conversation_id: row.parse("conversation_id")?,
        seq: row.int("seq")?,
        author: row.parse("author")?,
        author_user_id: row.opt_parse("author_user_id")?,
        text: row.text("text")?,
        translation: match (row.opt_text("translation")?, row.opt_text("translation_language")?) {
            (Some(text), Some(language)) => Some(Translation { language, text }),
            _ => None,
        },
        created_at: row.ts("created_at")?,
        action: action_card(row)?,
        attachments: row.opt_json("attachments_json")?.unwrap_or_default(),
        source: row.opt_parse("source")?,
    })
}

/// The card of the action a message asks for, as the action stands now.
fn action_card(row: &Row) -> StoreResult<Option<Box<ActionCard>>> {
    let Some(id) = row.opt_parse("action_id")? else { return Ok(None) };
    let Some(state) = row.opt_parse("action_state")? else { return Ok(None) };
    let approval = row.parse("action_approval")?;
    let needs = sb_domain::action::needs(
        approval,
        row.opt_int("action_visitor_at")?.is_some(),
        row.opt_int("action_operator_at")?.is_some(),
    );
    Ok(Some(Box::new(ActionCard {
        id,
        summary: row.text("action_summary")?,
        state,
        expires_at: row.ts("action_expires_at")?,
        needs,
    })))
}

#[async_trait]
impl<D: Db> ConversationStore for SqlStore<D> {
    async fn create_conversation(&self, c: &Conversation, token_hash: &str) -> StoreResult<()> {
        let query = q(concat!(
            "INSERT INTO conversations (",
            columns!(),
            ", visitor_token_hash, last_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19)"
        ))
        .text(c.id.as_str())
        .text(c.tenant_id.as_str())
        .text(c.widget_id.as_str())
        .text(c.status.as_str())
        .opt_text(c.assigned_to.as_ref().map(|u| u.as_str()))
        .opt_text(c.assigned_team.as_ref().map(|t| t.as_str()))
        .json(to_json(&c.visitor))
        .json(to_json(&c.variables))
        .ts(c.created_at)
        .ts(c.updated_at)
        .opt_ts(c.last_message_at)
        .json(to_json(&c.labels))
        .opt_text(c.contact_id.as_ref().map(|id| id.as_str()))
        .opt_text(c.outcome.map(|o| o.as_str()))
        .opt_ts(c.closed_at)
        .text(c.channel.kind.as_str())
        .opt_text((c.channel.kind != ChannelKind::Widget).then(|| c.channel.id.clone()))
        .text(token_hash)
        .int(0);
        let started =
            crate::analytics::count(&c.tenant_id, &c.id, c.created_at, "conversations", 1);
        self.db.write_unit(vec![query, started]).await.map(drop)
    }

    async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
    ) -> StoreResult<Conversation> {
        let sql =
            concat!("SELECT ", columns!(), " FROM conversations WHERE tenant_id = $1 AND id = $2");
        conversation_from_row(
            &self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?,
        )
    }

    async fn find_conversation_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<Conversation>> {
        let sql =
            concat!("SELECT ", columns!(), " FROM conversations WHERE visitor_token_hash = $1");
        let row = self.db.fetch_optional(q(sql).text(token_hash)).await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    async fn list_conversations(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter,
        reader: Option<&UserId>,
        page: &PageRequest,
    ) -> StoreResult<Page<ListedConversation>> {
        self.inbox_page(tenant, filter, reader, page).await
    }

    async fn mark_read(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        user: &UserId,
    ) -> StoreResult<()> {
        self.mark_conversation_read(tenant, conversation, user).await
    }

    async fn set_conversation_state(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        state: &ConversationState,
        outcome: OutcomeChange,
    ) -> StoreResult<()> {
        let query = q(
            "UPDATE conversations SET status = $1, assigned_user_id = $2, assigned_team_id = $3, \
                       updated_at = $4 WHERE tenant_id = $5 AND id = $6 RETURNING id",
        )
        .text(state.status.as_str())
        .opt_text(state.assigned_to.as_ref().map(|u| u.as_str()))
        .opt_text(state.assigned_team.as_ref().map(|t| t.as_str()))
        .ts(Timestamp::now())
        .text(tenant.as_str())
        .text(id.as_str());
        let decided = match outcome {
            OutcomeChange::Unchanged => {
                return expect_found(self.db.fetch_all(query).await?.len() as u64);
            }
            OutcomeChange::Closed(outcome) => Some(outcome),
            OutcomeChange::Reopened => None,
        };
        let mut unit = vec![query];
        unit.extend(crate::analytics::outcome_statements(tenant, id, decided, false));
        crate::analytics::outcome_written(&self.db.write_unit(unit).await?)
    }

    async fn update_visitor(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        visitor: &sb_domain::Visitor,
    ) -> StoreResult<()> {
        let query = q("UPDATE conversations SET visitor_json = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
            .json(to_json(visitor))
            .ts(Timestamp::now())
            .text(tenant.as_str())
            .text(id.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn set_conversation_labels(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        labels: &[String],
    ) -> StoreResult<()> {
        let query = q("UPDATE conversations SET labels_json = $1, updated_at = $2 \
                       WHERE tenant_id = $3 AND id = $4")
        .json(to_json(labels))
        .ts(Timestamp::now())
        .text(tenant.as_str())
        .text(conversation.as_str());
        expect_found(self.db.execute(query).await?)
    }

    async fn append_message(&self, tenant: &TenantId, m: NewMessage<'_>) -> StoreResult<Message> {
        let mut unit = Vec::from(append_statements(tenant, &m));
        unit.extend(crate::search::term_inserts(tenant, m.conversation_id, m.search_terms));
        unit.extend(crate::analytics::on_message(tenant, &m));
        let written = self.db.write_unit(unit).await?;
        let row = written.first().and_then(|rows| rows.first()).ok_or(StoreError::NotFound)?;
        let seq = row.int("last_seq")?;
        Ok(stored(&m, seq))
    }

    async fn list_messages(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            messages_with_actions!(),
            "WHERE m.tenant_id = $1 AND m.conversation_id = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4"
        );
        let query = q(sql)
            .text(tenant.as_str())
            .text(conversation.as_str())
            .int(after_seq)
            .int(i64::from(limit));
        self.db.fetch_all(query).await?.iter().map(message_from_row).collect()
    }

    async fn get_message(&self, tenant: &TenantId, id: &MessageId) -> StoreResult<Message> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            messages_with_actions!(),
            "WHERE m.tenant_id = $1 AND m.id = $2"
        );
        message_from_row(&self.db.fetch_one(q(sql).text(tenant.as_str()).text(id.as_str())).await?)
    }

    async fn finish_message(&self, finished: &FinishedMessage<'_>) -> StoreResult<Vec<Message>> {
        let tenant = finished.tenant;
        let mut unit: Vec<Query> =
            finished.replies.iter().flat_map(|m| append_statements(tenant, m)).collect();
        // Replies first: their numbers are read back by position below.
        unit.extend(finished.proposed.iter().map(crate::actions::insert_action));
        if let Some((id, state, outcome)) = finished.settled {
            unit.push(crate::actions::settle_action(tenant, id, state, outcome));
        }
        unit.extend(trace_inserts(finished.traces));
        unit.extend(crate::analytics::on_turn(finished));
        let stats = finished.call_stats.iter();
        unit.extend(stats.map(|delta| crate::call_stats::add_call_stats(tenant, delta)));
        for reply in finished.replies {
            unit.extend(crate::analytics::on_message(tenant, reply));
            unit.extend(crate::search::term_inserts(
                tenant,
                reply.conversation_id,
                reply.search_terms,
            ));
        }
        if let Some((conversation, variables)) = finished.variables {
            unit.extend(crate::search::term_inserts(tenant, conversation, finished.variable_terms));
            unit.push(
                q("UPDATE conversations SET variables_json = $1, updated_at = $2 \
                   WHERE tenant_id = $3 AND id = $4")
                .json(to_json(variables))
                .ts(Timestamp::now())
                .text(tenant.as_str())
                .text(conversation.as_str()),
            );
        }
        unit.push(
            q("UPDATE messages SET processed = $1 WHERE tenant_id = $2 AND id = $3 RETURNING id")
                .boolean(true)
                .text(tenant.as_str())
                .text(finished.message.as_str()),
        );
        let written = self.db.write_unit(unit).await?;
        if written.last().is_none_or(|rows| rows.is_empty()) {
            return Err(StoreError::NotFound);
        }
        // Each reply's number is what its first statement returned.
        let numbers = written.iter().step_by(2).take(finished.replies.len());
        finished
            .replies
            .iter()
            .zip(numbers)
            .map(|(m, rows)| {
                let row = rows.first().ok_or(StoreError::NotFound)?;
                Ok(stored(m, row.int("last_seq")?))
            })
            .collect()
    }

    async fn unprocessed_messages(
        &self,
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(TenantId, Message)>> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            messages_with_actions!(),
            "WHERE m.processed = FALSE AND m.created_at >= $1 ORDER BY m.created_at, m.seq LIMIT $2"
        );
        let rows = self.db.fetch_all(q(sql).ts(since).int(i64::from(limit))).await?;
        rows.iter().map(|row| Ok((row.parse("tenant_id")?, message_from_row(row)?))).collect()
    }

    async fn next_unprocessed(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Option<Message>> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            messages_with_actions!(),
            "WHERE m.tenant_id = $1 AND m.conversation_id = $2 AND m.processed = FALSE \
             ORDER BY m.seq LIMIT 1"
        );
        // `FALSE` written out, not bound: only then may the partial index of waiting messages
        // answer it.
        let query = q(sql).text(tenant.as_str()).text(conversation.as_str());
        self.db.fetch_all(query).await?.first().map(message_from_row).transpose()
    }

    async fn take_lease(
        &self,
        conversation: &ConversationId,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        // One statement: a new lease, or this holder's own extended, or an expired one taken
        // over. Anything else leaves the row alone and returns nothing.
        let query = q("INSERT INTO conversation_leases (conversation_id, holder, expires_at) \
                       VALUES ($1, $2, $3) ON CONFLICT (conversation_id) DO UPDATE \
                       SET holder = excluded.holder, expires_at = excluded.expires_at \
                       WHERE conversation_leases.holder = excluded.holder \
                       OR conversation_leases.expires_at < $4 RETURNING holder")
        .text(conversation.as_str())
        .text(holder)
        .ts(until)
        .ts(now);
        Ok(!self.db.fetch_all(query).await?.is_empty())
    }

    async fn release_lease(&self, conversation: &ConversationId, holder: &str) -> StoreResult<()> {
        let query = q("DELETE FROM conversation_leases WHERE conversation_id = $1 AND holder = $2")
            .text(conversation.as_str())
            .text(holder);
        self.db.execute(query).await.map(drop)
    }

    async fn release_lease_when_idle(
        &self,
        conversation: &ConversationId,
        holder: &str,
    ) -> StoreResult<bool> {
        let query =
            q("DELETE FROM conversation_leases WHERE conversation_id = $1 AND holder = $2 \
                       AND NOT EXISTS (SELECT 1 FROM messages \
                       WHERE conversation_id = $1 AND processed = FALSE)")
            .text(conversation.as_str())
            .text(holder);
        Ok(self.db.execute(query).await? > 0)
    }

    async fn append_traces(&self, entries: &[NewTrace]) -> StoreResult<()> {
        // One statement per hundred entries: a batch costs one round trip, not one per entry.
        for query in trace_inserts(entries) {
            self.db.execute(query).await?;
        }
        Ok(())
    }

    async fn list_trace(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<TraceEvent>> {
        let query = q("SELECT seq, conversation_id, message_id, kind, data_json, created_at FROM trace_events \
                       WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY seq")
        .text(tenant.as_str())
        .text(conversation.as_str());
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|row| {
                Ok(TraceEvent {
                    seq: row.int("seq")?,
                    conversation_id: row.parse("conversation_id")?,
                    message_id: row.opt_parse("message_id")?,
                    kind: row.text("kind")?,
                    data: row.json("data_json")?,
                    at: row.ts("created_at")?,
                })
            })
            .collect()
    }

    async fn pending_counts(
        &self,
        tenant: &TenantId,
        users: &[UserId],
    ) -> StoreResult<Vec<(UserId, i64)>> {
        let query = q("SELECT assigned_user_id, COUNT(*) AS pending FROM conversations \
                       WHERE tenant_id = $1 AND status = $2 AND assigned_user_id IS NOT NULL \
                       GROUP BY assigned_user_id")
        .text(tenant.as_str())
        .text("pending");
        let mut counts: Vec<(UserId, i64)> = users.iter().map(|u| (u.clone(), 0)).collect();
        for row in self.db.fetch_all(query).await? {
            let user: UserId = row.parse("assigned_user_id")?;
            if let Some(entry) = counts.iter_mut().find(|(u, _)| *u == user) {
                entry.1 = row.int("pending")?;
            }
        }
        Ok(counts)
    }

    async fn set_translation(
        &self,
        tenant: &TenantId,
        message: &MessageId,
        translation: &Translation,
    ) -> StoreResult<()> {
        let query = q("UPDATE messages SET translation = $1, translation_language = $2 WHERE tenant_id = $3 AND id = $4")
            .text(&translation.text)
            .text(&translation.language)
            .text(tenant.as_str())
            .text(message.as_str());
        expect_found(self.db.execute(query).await?)
    }
}
