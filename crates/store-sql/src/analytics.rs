//! What analytics keeps of conversations: how each ended, and how long the visitor waited for
//! the first reply of the assistant and of a person.

use async_trait::async_trait;
use sb_domain::analytics::{
    FirstResponse, HourCount, Outcome, OutcomeFacts, Percentiles, QuestionGap,
};
use sb_domain::{Author, ConversationId, MessageId, TenantId, Timestamp, WidgetId};
use sb_store::{AnalyticsStore, FinishedMessage, MAX_METRICS, NewMessage, StoreResult};

use crate::{Db, Query, SqlStore, expect_found, q};

/// An hour's start (UTC), in milliseconds: where a count goes.
pub(crate) fn hour_of(at: Timestamp) -> i64 {
    let ms = at.as_millisecond();
    ms - ms.rem_euclid(3_600_000)
}

/// Adds to a count: a row of its own in `analytics_deltas`, folded into `analytics_counts`
/// later ([`AnalyticsStore::fold_counts`]). An insert waits on no other writer, so messages of
/// one widget-hour written on several nodes at once do not queue on one row, and two units
/// adding to the same counts in different orders cannot deadlock.
macro_rules! add_count {
    ($select:expr) => {
        concat!(
            "INSERT INTO analytics_deltas (tenant_id, hour, widget_id, metric, count) ",
            $select
        )
    };
}

/// The counts as reports read them: `columns` summed over the folded totals and over the
/// deltas added since, each table filtered by `scope` on its own index, then added up.
fn summed_counts(columns: &str, scope: &str) -> String {
    format!(
        "SELECT {columns}, CAST(SUM(n) AS BIGINT) AS count FROM (\
         SELECT {columns}, SUM(count) AS n FROM analytics_counts WHERE {scope} GROUP BY {columns} \
         UNION ALL \
         SELECT {columns}, SUM(count) AS n FROM analytics_deltas WHERE {scope} GROUP BY {columns}\
         ) a GROUP BY {columns} ORDER BY {columns}"
    )
}

/// A report's counts: of `$2..$3`, of widget `$4` or all.
const REPORT_SCOPE: &str =
    "tenant_id = $1 AND hour >= $2 AND hour < $3 AND ($4 = '' OR widget_id = $4)";

/// The counts of `$2..$3` per metric (of widget `$4`, or all).
static METRIC_TOTALS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| summed_counts("metric", REPORT_SCOPE));

/// `$4` added to metric `$3` of the hour at `$5`, for the widget of conversation `$2`.
const ADD_FOR_CONVERSATION: &str = add_count!(
    "SELECT c.tenant_id, $5, c.widget_id, $3, $4 FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2"
);

/// The same, for the conversation of message `$2`.
const ADD_FOR_MESSAGE: &str = add_count!(
    "SELECT c.tenant_id, $5, c.widget_id, $3, $4 FROM messages m \
     JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id \
     WHERE m.tenant_id = $1 AND m.id = $2"
);

/// Adds `n` to `metric` of the hour at `at`, for `conversation`'s widget.
pub(crate) fn count(
    tenant: &TenantId,
    conversation: &ConversationId,
    at: Timestamp,
    metric: &str,
    n: i64,
) -> Query {
    q(ADD_FOR_CONVERSATION)
        .text(tenant.as_str())
        .text(conversation.as_str())
        .text(metric)
        .int(n)
        .int(hour_of(at))
}

/// Adds `n` to `metric` of the hour at `at`, for the widget of `message`'s conversation.
pub(crate) fn count_for_message(
    tenant: &TenantId,
    message: &MessageId,
    at: Timestamp,
    metric: &str,
    n: i64,
) -> Query {
    q(ADD_FOR_MESSAGE)
        .text(tenant.as_str())
        .text(message.as_str())
        .text(metric)
        .int(n)
        .int(hour_of(at))
}

/// What a handled message counts beside its replies: the rules that fired, and each endpoint's
/// calls and failures.
pub(crate) fn on_turn(finished: &FinishedMessage<'_>) -> Vec<Query> {
    let (tenant, message) = (finished.tenant, finished.message);
    let mut unit = Vec::new();
    for entry in finished.traces.iter().filter(|e| e.kind == "rule_fired") {
        if let Some(rule) = entry.data.get("rule_id").and_then(|r| r.as_str()) {
            unit.push(count_for_message(tenant, message, entry.at, &format!("rule:{rule}"), 1));
        }
    }
    if let Some(reason) = finished.gap {
        unit.push(q(GAP).text(tenant.as_str()).text(message.as_str()).text(reason));
    }
    for stats in finished.call_stats {
        let endpoint = stats.endpoint_id.as_str();
        let as_count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let calls = format!("calls:{endpoint}");
        unit.push(count_for_message(tenant, message, stats.hour, &calls, as_count(stats.calls)));
        if stats.errors > 0 {
            let failures = format!("failures:{endpoint}");
            unit.push(count_for_message(
                tenant,
                message,
                stats.hour,
                &failures,
                as_count(stats.errors),
            ));
        }
    }
    unit
}

/// Keeps visitor message `$2` as a knowledge gap for reason `$3` (once).
const GAP: &str = "INSERT INTO question_gaps \
     (message_id, tenant_id, conversation_id, widget_id, text, reason, asked_at) \
     SELECT m.id, m.tenant_id, m.conversation_id, c.widget_id, m.text, $3, m.created_at \
     FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id \
     WHERE m.tenant_id = $1 AND m.id = $2 AND m.author = 'visitor' AND m.text <> '' \
     ON CONFLICT (message_id) DO NOTHING";

/// The visitor message reply `$2` answered: the last one before it.
macro_rules! answered_by {
    () => {
        "(SELECT v.id FROM messages r JOIN messages v ON v.tenant_id = r.tenant_id \
          AND v.conversation_id = r.conversation_id AND v.author = 'visitor' AND v.seq < r.seq \
          WHERE r.tenant_id = $1 AND r.id = $2 ORDER BY v.seq DESC LIMIT 1)"
    };
}

/// A reply marked not helpful makes its question a gap; marked helpful again, it is not.
pub(crate) const GAP_NOT_HELPFUL: &str = concat!(
    "INSERT INTO question_gaps (message_id, tenant_id, conversation_id, widget_id, text, reason, asked_at) \
     SELECT m.id, m.tenant_id, m.conversation_id, c.widget_id, m.text, 'not_helpful', m.created_at \
     FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.id = m.conversation_id \
     WHERE m.tenant_id = $1 AND m.text <> '' AND m.id = ",
    answered_by!(),
    " ON CONFLICT (message_id) DO NOTHING"
);
pub(crate) const UNGAP_HELPFUL: &str = concat!(
    "DELETE FROM question_gaps WHERE tenant_id = $1 AND reason = 'not_helpful' AND message_id = ",
    answered_by!()
);

/// A conversation the assistant answers for the first time is one it was involved in (read
/// before the first reply is recorded below).
const INVOLVED: &str = add_count!(
    "SELECT c.tenant_id, $3, c.widget_id, 'assistant_involved', 1 FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.first_assistant_ms IS NULL \
     AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $1 AND m.conversation_id = $2 \
      AND m.author = 'visitor')"
);

/// What storing `m` counts, in order: a visitor's message, an assistant's reply by its source
/// (and its first), a person's first reply.
pub(crate) fn on_message(tenant: &TenantId, m: &NewMessage<'_>) -> Vec<Query> {
    let mut unit = Vec::new();
    let conversation = m.conversation_id;
    match (m.author, m.source) {
        (Author::Visitor, _) => {
            unit.push(count(tenant, conversation, m.created_at, "visitor_messages", 1))
        }
        (Author::Bot, source) => {
            if let Some(source) = source {
                let metric = format!("reply:{}", source.as_str());
                unit.push(count(tenant, conversation, m.created_at, &metric, 1));
            }
            let involved = q(INVOLVED).text(tenant.as_str()).text(conversation.as_str());
            unit.push(involved.int(hour_of(m.created_at)));
        }
        _ => {}
    }
    unit.extend(first_response(tenant, m));
    unit
}

/// The first reply of the assistant (`$1` its time) counts from the visitor's first message.
const FIRST_ASSISTANT: &str = "UPDATE conversations SET first_assistant_ms = $1 - \
     (SELECT MIN(m.created_at) FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor') \
     WHERE tenant_id = $2 AND id = $3 AND first_assistant_ms IS NULL \
     AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor')";

/// A person's first reply counts from the latest hand-over before it, or from the visitor's
/// first message when there was none.
const FIRST_PERSON: &str = "UPDATE conversations SET first_person_ms = $1 - COALESCE( \
     (SELECT MAX(t.created_at) FROM trace_events t WHERE t.tenant_id = $2 \
      AND t.conversation_id = $3 AND t.kind = 'assigned' AND t.created_at <= $1), \
     (SELECT MIN(m.created_at) FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor')) \
     WHERE tenant_id = $2 AND id = $3 AND first_person_ms IS NULL \
     AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = $2 AND m.conversation_id = $3 \
      AND m.author = 'visitor')";

/// The statement that records `m` as the first reply of its kind, if it is one.
fn first_response(tenant: &TenantId, m: &NewMessage<'_>) -> Option<Query> {
    let sql = match m.author {
        Author::Bot => FIRST_ASSISTANT,
        Author::Operator => FIRST_PERSON,
        Author::Visitor | Author::System => return None,
    };
    Some(q(sql).ts(m.created_at).text(tenant.as_str()).text(m.conversation_id.as_str()))
}

const FACTS: &str = "SELECT \
     (SELECT COUNT(*) FROM messages m WHERE m.tenant_id = $1 AND m.conversation_id = $2 \
      AND m.author = 'operator') AS operator_messages, \
     (c.assigned_user_id IS NOT NULL OR c.assigned_team_id IS NOT NULL OR EXISTS \
      (SELECT 1 FROM trace_events t WHERE t.tenant_id = $1 AND t.conversation_id = $2 \
       AND t.kind = 'assigned')) AS handed_over, \
     COALESCE((SELECT m.author FROM messages m WHERE m.tenant_id = $1 AND m.conversation_id = $2 \
      AND m.author <> 'system' ORDER BY m.seq DESC LIMIT 1), '') AS last_author, \
     (SELECT r.score FROM ratings r WHERE r.tenant_id = $1 AND r.conversation_id = $2) AS rating \
     FROM conversations c WHERE c.tenant_id = $1 AND c.id = $2";

/// Takes the conversation's decided outcome back out of its hour's counts.
const UNCOUNT_OUTCOME: &str = add_count!(
    "SELECT c.tenant_id, c.outcome_at - (c.outcome_at % 3600000), c.widget_id, \
     'outcome:' || c.outcome, -1 FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.outcome IS NOT NULL AND c.outcome_at IS NOT NULL"
);
const UNCOUNT_CLOSED: &str = add_count!(
    "SELECT c.tenant_id, c.outcome_at - (c.outcome_at % 3600000), c.widget_id, 'closed', -1 \
     FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.outcome IS NOT NULL AND c.outcome_at IS NOT NULL"
);

/// Counts the conversation's decided outcome in the hour it was decided.
const COUNT_OUTCOME: &str = add_count!(
    "SELECT c.tenant_id, c.outcome_at - (c.outcome_at % 3600000), c.widget_id, \
     'outcome:' || c.outcome, 1 FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.outcome IS NOT NULL AND c.outcome_at IS NOT NULL"
);
const COUNT_CLOSED: &str = add_count!(
    "SELECT c.tenant_id, c.outcome_at - (c.outcome_at % 3600000), c.widget_id, 'closed', 1 \
     FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.outcome IS NOT NULL AND c.outcome_at IS NOT NULL"
);
/// A decided conversation opened again (`$3` the hour).
const REOPENED: &str = add_count!(
    "SELECT c.tenant_id, $3, c.widget_id, 'reopened', 1 FROM conversations c \
     WHERE c.tenant_id = $1 AND c.id = $2 AND c.outcome IS NOT NULL"
);

/// Takes the conversation's earlier rating back out of its hour's counts.
pub(crate) const UNCOUNT_RATING: &str = add_count!(
    "SELECT r.tenant_id, r.rated_at - (r.rated_at % 3600000), c.widget_id, \
     'rating:' || r.score, -1 FROM ratings r \
     JOIN conversations c ON c.tenant_id = r.tenant_id AND c.id = r.conversation_id \
     WHERE r.tenant_id = $1 AND r.conversation_id = $2"
);

/// Takes a reply's earlier mark back out of its hour's counts.
pub(crate) const UNCOUNT_FEEDBACK: &str = add_count!(
    "SELECT f.tenant_id, f.given_at - (f.given_at % 3600000), c.widget_id, \
     CASE WHEN f.helpful THEN 'helpful:' ELSE 'not_helpful:' END || COALESCE(m.source, 'none'), -1 \
     FROM message_feedback f \
     JOIN messages m ON m.tenant_id = f.tenant_id AND m.id = f.message_id \
     JOIN conversations c ON c.tenant_id = f.tenant_id AND c.id = f.conversation_id \
     WHERE f.tenant_id = $1 AND f.message_id = $2"
);

/// Counts a reply's mark by the reply's source.
pub(crate) const COUNT_FEEDBACK: &str = add_count!(
    "SELECT f.tenant_id, f.given_at - (f.given_at % 3600000), c.widget_id, \
     CASE WHEN f.helpful THEN 'helpful:' ELSE 'not_helpful:' END || COALESCE(m.source, 'none'), 1 \
     FROM message_feedback f \
     JOIN messages m ON m.tenant_id = f.tenant_id AND m.id = f.message_id \
     JOIN conversations c ON c.tenant_id = f.tenant_id AND c.id = f.conversation_id \
     WHERE f.tenant_id = $1 AND f.message_id = $2"
);

/// The statements recording how the conversation ended (`None`: open again), after whatever
/// changed its status in the same unit: its earlier outcome leaves its hour's counts, the new
/// one is counted in this hour — or, with `keep_time` (a rating changed it), in the hour it
/// closed. The update comes last but two and returns the conversation ([`outcome_written`]).
pub(crate) fn outcome_statements(
    tenant: &TenantId,
    conversation: &ConversationId,
    outcome: Option<Outcome>,
    keep_time: bool,
) -> Vec<Query> {
    let now = Timestamp::now();
    let (t, c) = (tenant.as_str(), conversation.as_str());
    // Opened again: counted once, and only when it had been decided.
    let mut unit = match outcome {
        None => vec![q(REOPENED).text(t).text(c).int(hour_of(now))],
        Some(_) => Vec::new(),
    };
    unit.extend([q(UNCOUNT_OUTCOME).text(t).text(c), q(UNCOUNT_CLOSED).text(t).text(c)]);
    unit.push(
        q("UPDATE conversations SET outcome = $1, \
           outcome_at = CASE WHEN $1 IS NULL THEN NULL \
             WHEN $2 AND outcome_at IS NOT NULL THEN outcome_at ELSE $3 END \
           WHERE tenant_id = $4 AND id = $5 RETURNING id")
        .opt_text(outcome.map(|o| o.as_str()))
        .boolean(keep_time)
        .ts(now)
        .text(t)
        .text(c),
    );
    unit.extend([q(COUNT_OUTCOME).text(t).text(c), q(COUNT_CLOSED).text(t).text(c)]);
    unit
}

/// Whether the update of [`outcome_statements`], at the end of `written`, found the
/// conversation.
pub(crate) fn outcome_written(written: &[Vec<crate::Row>]) -> StoreResult<()> {
    let update = written.len().checked_sub(3).and_then(|i| written.get(i));
    expect_found(update.map_or(0, |rows| rows.len() as u64))
}

/// The counts of `$2..$3` by hour and metric (of widget `$4`, or all), of the metrics named in
/// `$5…` (all when `$5` is empty).
static HOUR_COUNTS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let names: Vec<String> = (0..MAX_METRICS).map(|i| format!("${}", i + 5)).collect();
    let scope = format!("{REPORT_SCOPE} AND ($5 = '' OR metric IN ({}))", names.join(", "));
    summed_counts("hour, metric", &scope)
});

/// The conversations started in `$2..$3` (of widget `$4`, or all) that got each first reply.
const WAITS: &str = "SELECT COUNT(first_assistant_ms) AS assistant, \
     COUNT(first_person_ms) AS people FROM conversations \
     WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
     AND ($4 = '' OR widget_id = $4)";

/// The wait at 0-based position `$5` among them, shortest first (an index holds them all).
const NTH_ASSISTANT: &str = "SELECT first_assistant_ms AS wait FROM conversations \
     WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
     AND ($4 = '' OR widget_id = $4) AND first_assistant_ms IS NOT NULL \
     ORDER BY first_assistant_ms LIMIT 1 OFFSET $5";
const NTH_PERSON: &str = "SELECT first_person_ms AS wait FROM conversations \
     WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
     AND ($4 = '' OR widget_id = $4) AND first_person_ms IS NOT NULL \
     ORDER BY first_person_ms LIMIT 1 OFFSET $5";

#[async_trait]
impl<D: Db> AnalyticsStore for SqlStore<D> {
    async fn outcome_facts(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> StoreResult<OutcomeFacts> {
        let query = q(FACTS).text(tenant.as_str()).text(conversation.as_str());
        let row = self.db.fetch_one(query).await?;
        Ok(OutcomeFacts {
            operator_messages: u32::try_from(row.int("operator_messages")?).unwrap_or(u32::MAX),
            handed_over: row.boolean("handed_over")?,
            // A conversation the visitor asked nothing in is no answer of the assistant's.
            last_visitor_message_answered: !matches!(
                row.text("last_author")?.as_str(),
                "visitor" | ""
            ),
            rating: row.opt_int("rating")?.and_then(|r| u8::try_from(r).ok()),
        })
    }

    async fn fold_counts(&self, batch: u32) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        // Exactly the rows this fold deleted: a fold on another node at the same moment gets
        // the others (PostgreSQL skips rows deleted under it).
        let moved = tx
            .fetch_all(
                q("DELETE FROM analytics_deltas WHERE id IN \
                   (SELECT id FROM analytics_deltas ORDER BY id LIMIT $1) \
                   RETURNING tenant_id, hour, widget_id, metric, count")
                .int(i64::from(batch)),
            )
            .await?;
        let mut sums = std::collections::BTreeMap::<(String, i64, String, String), i64>::new();
        for row in &moved {
            let key = (
                row.text("tenant_id")?,
                row.int("hour")?,
                row.text("widget_id")?,
                row.text("metric")?,
            );
            *sums.entry(key).or_default() += row.int("count")?;
        }
        // In key order, so two folds adding to the same totals never wait on each other in a
        // circle.
        for ((tenant, hour, widget, metric), n) in sums.into_iter().filter(|(_, n)| *n != 0) {
            tx.execute(
                q("INSERT INTO analytics_counts (tenant_id, hour, widget_id, metric, count) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, hour, widget_id, metric) \
                   DO UPDATE SET count = analytics_counts.count + excluded.count")
                .text(tenant)
                .int(hour)
                .text(widget)
                .text(metric)
                .int(n),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(moved.len() as u64)
    }

    async fn hour_counts(
        &self,
        tenant: &TenantId,
        widget: Option<&WidgetId>,
        from: Timestamp,
        to: Timestamp,
        metrics: Option<&[&str]>,
    ) -> StoreResult<Vec<HourCount>> {
        let query = q(&HOUR_COUNTS)
            .text(tenant.as_str())
            .int(from.as_millisecond())
            .int(to.as_millisecond())
            .text(widget.map(|w| w.as_str()).unwrap_or_default());
        // Unused places repeat the first name, which `IN` does not count twice; more names than
        // places read every metric (callers pick theirs from the rows).
        let names = metrics.filter(|m| m.len() <= MAX_METRICS).unwrap_or_default();
        let first = names.first().copied().unwrap_or_default();
        let query = (0..MAX_METRICS).fold(query, |q, i| q.text(*names.get(i).unwrap_or(&first)));
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|row| {
                Ok(HourCount {
                    hour: row.int("hour")?,
                    metric: row.text("metric")?,
                    count: row.int("count")?,
                })
            })
            .collect()
    }

    async fn question_gaps(
        &self,
        tenant: &TenantId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<QuestionGap>> {
        let query = q("SELECT message_id, conversation_id, widget_id, text, reason, asked_at \
             FROM question_gaps WHERE tenant_id = $1 AND asked_at >= $2 AND asked_at < $3 \
             ORDER BY asked_at DESC, message_id DESC LIMIT $4")
        .text(tenant.as_str())
        .ts(from)
        .ts(to)
        .int(i64::from(limit));
        let rows = self.db.fetch_all(query).await?;
        rows.iter()
            .map(|row| {
                Ok(QuestionGap {
                    message_id: row.parse("message_id")?,
                    conversation_id: row.parse("conversation_id")?,
                    widget_id: row.parse("widget_id")?,
                    text: row.text("text")?,
                    reason: row.text("reason")?,
                    asked_at: row.ts("asked_at")?,
                })
            })
            .collect()
    }

    async fn metric_totals(
        &self,
        tenant: &TenantId,
        widget: Option<&WidgetId>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(String, i64)>> {
        let query = q(&METRIC_TOTALS)
            .text(tenant.as_str())
            .int(from.as_millisecond())
            .int(to.as_millisecond())
            .text(widget.map(|w| w.as_str()).unwrap_or_default());
        let rows = self.db.fetch_all(query).await?;
        rows.iter().map(|row| Ok((row.text("metric")?, row.int("count")?))).collect()
    }

    async fn first_responses(
        &self,
        tenant: &TenantId,
        widget: Option<&WidgetId>,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<FirstResponse> {
        let scope = |sql: &'static str| {
            q(sql)
                .text(tenant.as_str())
                .ts(from)
                .ts(to)
                .text(widget.map(|w| w.as_str()).unwrap_or_default())
        };
        let counted = self.db.fetch_one(scope(WAITS)).await?;
        let mut found = FirstResponse::default();
        for (sql, column, into) in [
            (NTH_ASSISTANT, "assistant", &mut found.assistant),
            (NTH_PERSON, "people", &mut found.people),
        ] {
            let n = usize::try_from(counted.int(column)?).unwrap_or(0);
            into.count = n;
            for (p, slot) in [(50, &mut into.p50), (90, &mut into.p90)] {
                if let Some(rank) = Percentiles::rank(n, p) {
                    let row = self.db.fetch_one(scope(sql).int(rank as i64 - 1)).await?;
                    *slot = row.opt_int("wait")?;
                }
            }
        }
        Ok(found)
    }
}
