//! Scenario 9, analytics at a million messages: the summary of a 400-day range read from the
//! hourly counts (as the product keeps them), beside the naive report — the same figures
//! counted from every message and conversation of the range — on the same SQLite file.
//!
//! The corpus is written with plain SQL in large transactions (writing a million messages
//! through the engine would take the benchmark an hour), and the hourly counts are made from
//! exactly those rows by the definitions the product counts by; the tests prove the product
//! writes the same counts as it goes (`crates/server/tests/api/analytics.rs`).

use std::time::{Duration, Instant};

use sb_engine::conversations::DayRange;

use crate::report::{Stats, Verdict, micros, out};

const MESSAGES_PER_CONVERSATION: usize = 10;
const DAYS: i64 = 400;
const RUNS: usize = 20;

pub struct Row {
    pub messages: usize,
    pub build: Duration,
    pub counted: Stats,
    pub naive: Stats,
}

pub async fn measure(messages: usize) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/analytics.db", dir.path().display());
    let account = crate::store::account(&url, dir.path()).await?;
    let tenant = account.actor.tenant_id.to_string();
    let widget = account.widget.widget.id.to_string();
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let started = Instant::now();
    let end = sb_domain::Timestamp::now().as_millisecond();
    let begin = end - DAYS * 86_400_000;
    let conversations = messages / MESSAGES_PER_CONVERSATION;
    let step = (end - begin) / conversations.max(1) as i64;
    let sources = ["rule", "api", "kb", "ai", "fallback"];
    let outcomes = ["assistant_resolved", "resolved_with_person", "handed_over", "abandoned"];
    let mut counts: std::collections::HashMap<(i64, &str), i64> = std::collections::HashMap::new();
    let hour = |ms: i64| ms - ms.rem_euclid(3_600_000);
    // The newest 1% are counted as the product counts between folds: a row per change, not
    // yet folded into the hourly totals (more than a busy minute's worth).
    let unfolded_from = conversations - conversations / 100;
    let mut unfolded: Vec<(i64, &str)> = Vec::new();
    for batch in 0..conversations.div_ceil(5_000) {
        let mut tx = pool.begin().await?;
        for c in batch * 5_000..((batch + 1) * 5_000).min(conversations) {
            let at = begin + c as i64 * step;
            let id = format!("cnv_{c:026}");
            let outcome = outcomes[c % 4];
            sqlx::query(
                "INSERT INTO conversations (id, tenant_id, widget_id, status, visitor_json, \
                 visitor_token_hash, variables_json, last_seq, created_at, updated_at, \
                 last_message_at, outcome, outcome_at, first_assistant_ms) \
                 VALUES (?1, ?2, ?3, 'closed', '{}', ?1, '{}', ?4, ?5, ?5, ?5, ?6, ?5, ?7)",
            )
            .bind(&id)
            .bind(&tenant)
            .bind(&widget)
            .bind(MESSAGES_PER_CONVERSATION as i64)
            .bind(at)
            .bind(outcome)
            .bind((c % 5_000) as i64)
            .execute(&mut *tx)
            .await?;
            let mut add = |at: i64, metric: &'static str| {
                if c >= unfolded_from {
                    unfolded.push((hour(at), metric));
                } else {
                    *counts.entry((hour(at), metric)).or_default() += 1;
                }
            };
            add(at, "conversations");
            add(at, "closed");
            add(
                at,
                [
                    "outcome:assistant_resolved",
                    "outcome:resolved_with_person",
                    "outcome:handed_over",
                    "outcome:abandoned",
                ][c % 4],
            );
            for m in 0..MESSAGES_PER_CONVERSATION {
                let visitor = m % 2 == 0;
                let source = (!visitor).then(|| sources[(c + m) % 5]);
                sqlx::query(
                    "INSERT INTO messages (id, tenant_id, conversation_id, seq, author, text, \
                     created_at, processed, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8)",
                )
                .bind(format!("msg_{c:020}{m:06}"))
                .bind(&tenant)
                .bind(&id)
                .bind(m as i64 + 1)
                .bind(if visitor { "visitor" } else { "bot" })
                .bind("Where is my order? It has not arrived yet.")
                .bind(at + m as i64)
                .bind(source)
                .execute(&mut *tx)
                .await?;
                let metric = match source {
                    None => "visitor_messages",
                    Some(s) => {
                        ["reply:rule", "reply:api", "reply:kb", "reply:ai", "reply:fallback"]
                            [sources.iter().position(|x| *x == s).unwrap_or(0)]
                    }
                };
                add(at, metric);
            }
        }
        tx.commit().await?;
    }
    let mut tx = pool.begin().await?;
    for ((hour, metric), count) in &counts {
        sqlx::query("INSERT INTO analytics_counts (tenant_id, hour, widget_id, metric, count) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(&tenant)
            .bind(hour)
            .bind(&widget)
            .bind(*metric)
            .bind(count)
            .execute(&mut *tx)
            .await?;
    }
    for (hour, metric) in &unfolded {
        sqlx::query("INSERT INTO analytics_deltas (tenant_id, hour, widget_id, metric, count) VALUES (?1, ?2, ?3, ?4, 1)")
            .bind(&tenant)
            .bind(hour)
            .bind(&widget)
            .bind(*metric)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let build = started.elapsed();

    let zone = jiff::tz::TimeZone::UTC;
    let today = sb_domain::Timestamp::now().to_zoned(zone.clone()).date();
    let first = today.checked_sub(jiff::Span::new().days(DAYS - 1))?.to_string();
    let range = DayRange::parse(Some(&first), Some(&today.to_string()), zone)?;
    let (from, to) = range.bounds();
    let conversations_service = &account.services.conversations;
    let mut counted = Vec::new();
    let mut checked = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let summary = conversations_service.analytics_summary(&account.actor, &range, None).await?;
        counted.push(started.elapsed());
        checked = Some(summary.visitor_messages);
    }
    let mut naive = Vec::new();
    let mut naive_visitor = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT author, source, COUNT(*) FROM messages WHERE tenant_id = ?1 \
             AND created_at >= ?2 AND created_at < ?3 GROUP BY author, source",
        )
        .bind(&tenant)
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .fetch_all(&pool)
        .await?;
        let _: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT outcome, COUNT(*) FROM conversations WHERE tenant_id = ?1 \
             AND created_at >= ?2 AND created_at < ?3 GROUP BY outcome",
        )
        .bind(&tenant)
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .fetch_all(&pool)
        .await?;
        naive.push(started.elapsed());
        naive_visitor = rows.iter().filter(|r| r.0 == "visitor").map(|r| r.2).sum();
    }
    anyhow::ensure!(
        checked == Some(naive_visitor),
        "the counts say {checked:?} visitor messages, the scan {naive_visitor}"
    );
    Ok(Row { messages, build, counted: Stats::of(counted), naive: Stats::of(naive) })
}

pub fn print(rows: &[Row], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 9. Analytics reports vs counting every message\n");
    out!(
        out,
        "Conversations of ten messages spread over 400 days in one SQLite file, with the hourly \
         counts the product keeps for them (the newest 1% as rows not yet folded into the hourly \
         totals, as between the product's folds); the summary of the whole 400 days (every figure, \
         first-response percentiles from the conversations included) asked 20 times through \
         the engine. The baseline counts the same from the messages and conversations of the \
         range with `GROUP BY`: what a report without counts would do.\n"
    );
    out!(out, "| messages | build | report p50 | p95 | naive p50 | naive / report |");
    out!(out, "|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let ratio = row.naive.p50.as_secs_f64() / row.counted.p50.as_secs_f64().max(1e-9);
        out!(
            out,
            "| {} | {:.1} s | {} | {} | {} | {ratio:.1}× |",
            row.messages,
            row.build.as_secs_f64(),
            micros(row.counted.p50),
            micros(row.counted.p95),
            micros(row.naive.p50),
        );
    }
    out!(out);
    if let Some(row) = rows.iter().find(|r| r.messages >= 1_000_000) {
        verdicts.push(Verdict::new(
            "9. a 400-day report over 1,000,000 messages under 500 ms (p95)",
            micros(row.counted.p95),
            row.counted.p95 < Duration::from_millis(500),
        ));
    }
}
