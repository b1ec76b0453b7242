//! Scenario 10, knowledge gaps: the gaps report over the most questions it reads (5,000),
//! beside the floor — reading those questions out of the store and doing nothing with them.
//! The questions are made from topics and phrasings, so they fall into a few hundred groups of
//! different sizes, as a busy account's unanswered questions would; each names its own order,
//! so every text is new to the report.

use std::time::{Duration, Instant};

use sb_engine::conversations::DayRange;

use crate::report::{Stats, Verdict, micros, out};

const RUNS: usize = 10;

pub struct Row {
    pub questions: usize,
    pub groups: usize,
    pub report: Stats,
    pub floor: Stats,
}

const THINGS: [&str; 30] = [
    "lamp", "sofa", "chair", "table", "rug", "mirror", "shelf", "desk", "bed", "pillow", "blanket",
    "curtain", "vase", "clock", "stool", "bench", "wardrobe", "dresser", "cabinet", "mattress",
    "duvet", "towel", "basket", "candle", "frame", "cushion", "lantern", "hammock", "crib",
    "ottoman",
];
const PLACES: [&str; 10] = [
    "Norway", "Iceland", "Japan", "Brazil", "Canada", "Kenya", "Chile", "Poland", "Greece",
    "Vietnam",
];

/// The `n`th question: one of a few hundred things asked, in one of several phrasings, each
/// with its own order number (so no two texts are the same and none is read from a cache).
fn question(n: usize) -> String {
    format!("{} (#{})", asked(n), 10_000 + n)
}

fn asked(n: usize) -> String {
    let thing = THINGS[(n / 6) % THINGS.len()];
    let place = PLACES[(n / 180) % PLACES.len()];
    match n % 6 {
        0 => format!("Do you ship the {thing} to {place}?"),
        1 => format!("Can you deliver a {thing} to {place} please"),
        2 => format!("What is the warranty on the {thing}?"),
        3 => format!("How long is the {thing} warranty"),
        4 => format!("Can I assemble the {thing} myself?"),
        _ => format!("Is the {thing} available in {place} stores?"),
    }
}

pub async fn measure(questions: usize) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/gaps.db", dir.path().display());
    let account = crate::store::account(&url, dir.path()).await?;
    let tenant = account.actor.tenant_id.to_string();
    let widget = account.widget.widget.id.to_string();
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let now = sb_domain::Timestamp::now().as_millisecond();
    let mut tx = pool.begin().await?;
    for n in 0..questions {
        let (id, message) = (format!("cnv_{n:026}"), format!("msg_{n:026}"));
        let at = now - 86_400_000 + n as i64;
        sqlx::query(
            "INSERT INTO conversations (id, tenant_id, widget_id, status, visitor_json, \
             visitor_token_hash, variables_json, last_seq, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'open', '{}', ?1, '{}', 1, ?4, ?4)",
        )
        .bind(&id)
        .bind(&tenant)
        .bind(&widget)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO question_gaps (message_id, tenant_id, conversation_id, widget_id, \
             text, reason, asked_at) VALUES (?1, ?2, ?3, ?4, ?5, 'no_answer', ?6)",
        )
        .bind(&message)
        .bind(&tenant)
        .bind(&id)
        .bind(&widget)
        .bind(question(n))
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    let zone = jiff::tz::TimeZone::UTC;
    let today = sb_domain::Timestamp::now().to_zoned(zone.clone()).date();
    let first = today.yesterday()?.yesterday()?.to_string();
    let range = DayRange::parse(Some(&first), Some(&today.to_string()), zone)?;
    let (from, to) = range.bounds();
    let service = &account.services.conversations;
    let (mut report, mut floor, mut groups) = (Vec::new(), Vec::new(), 0);
    for _ in 0..RUNS {
        let started = Instant::now();
        let gaps = service.knowledge_gaps(&account.actor, &range).await?;
        report.push(started.elapsed());
        anyhow::ensure!(gaps.iter().map(|g| g.questions).max() > Some(1), "nothing grouped");
        groups = gaps.len();
        let started = Instant::now();
        let read = account.store.question_gaps(&account.actor.tenant_id, from, to, 5_000).await?;
        floor.push(started.elapsed());
        anyhow::ensure!(read.len() == questions.min(5_000), "read {} questions", read.len());
    }
    Ok(Row { questions, groups, report: Stats::of(report), floor: Stats::of(floor) })
}

pub fn print(rows: &[Row], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 10. Knowledge gaps vs reading the questions\n");
    out!(
        out,
        "Unanswered questions made from 30 things, 10 places and 6 phrasings, in one SQLite \
         file; the knowledge-gaps report (grouping every question, ranking the groups, checking \
         the 50 most asked against the knowledge base and the rules) asked 10 times through the \
         engine. The floor reads the same questions from the store and does nothing with them.\n"
    );
    out!(out, "| questions | groups shown | report p50 | p95 | floor p50 | report / floor |");
    out!(out, "|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let ratio = row.report.p50.as_secs_f64() / row.floor.p50.as_secs_f64().max(1e-9);
        out!(
            out,
            "| {} | {} | {} | {} | {} | {ratio:.1}× |",
            row.questions,
            row.groups,
            micros(row.report.p50),
            micros(row.report.p95),
            micros(row.floor.p50),
        );
    }
    out!(out);
    if let Some(row) = rows.iter().find(|r| r.questions >= 5_000) {
        verdicts.push(Verdict::new(
            "10. the knowledge gaps of 5,000 questions under 1 s (p95)",
            micros(row.report.p95),
            row.report.p95 < Duration::from_secs(1),
        ));
    }
}
