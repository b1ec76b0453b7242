//! Scenario 8, conversation search at 100,000 messages: the inbox's search (each word looked up
//! in its analysed forms, every word required, newest activity first, a page of 50) against the
//! naive way — `LIKE '%word%'` over every message of the tenant — on the same SQLite file.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_domain::{Author, MessageId, Timestamp};
use sb_engine::conversations::{message_terms, search_words};
use sb_store::{ConversationFilter, NewMessage, PageRequest};

use crate::report::{Stats, Verdict, micros, out};

const MESSAGES_PER_CONVERSATION: usize = 10;
const WORDS_PER_MESSAGE: usize = 14;
const QUERIES: usize = 200;
/// Appending tasks while the corpus is built.
const WRITERS: usize = 16;

pub struct Row {
    pub messages: usize,
    pub build: Duration,
    pub search: Stats,
    pub scan: Stats,
}

/// Deterministic words: the same corpus on every run.
fn words(count: usize, seed: u64) -> Vec<String> {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "ren", "mi", "tor", "sa", "vel", "dun", "pri", "gel", "nor", "bak", "tes",
        "fen", "qui", "zo",
    ];
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| (0..2 + next() % 3).map(|_| SYLLABLES[(next() % 16) as usize]).collect())
        .collect()
}

pub async fn measure(messages: usize) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/search.db", dir.path().display());
    let conversations = messages / MESSAGES_PER_CONVERSATION;
    let (store, tenant, ids) = crate::store::prepared(&url, dir.path(), conversations).await?;
    let vocabulary = Arc::new(words(5_000, 0x2545_f491_4f6c_dd1d));
    let started = Instant::now();
    let ids = Arc::new(ids);
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, tenant, ids, vocabulary) =
                (store.clone(), tenant.clone(), ids.clone(), vocabulary.clone());
            tokio::spawn(async move {
                let mut seed = 1 + w as u64;
                for (c, conversation) in ids.iter().enumerate().skip(w).step_by(WRITERS) {
                    for m in 0..MESSAGES_PER_CONVERSATION {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        let text: Vec<&str> = (0..WORDS_PER_MESSAGE)
                            .map(|i| {
                                vocabulary
                                    [((seed >> (i % 48)) as usize + c * 7 + m) % vocabulary.len()]
                                .as_str()
                            })
                            .collect();
                        let text = text.join(" ");
                        let terms = message_terms(&text, Some("en"));
                        let message = NewMessage {
                            id: &MessageId::new(),
                            conversation_id: conversation,
                            author: if m % 2 == 0 { Author::Visitor } else { Author::Bot },
                            author_user_id: None,
                            text: &text,
                            translation: None,
                            created_at: Timestamp::now(),
                            action: None,
                            attachments: &[],
                            search_terms: &terms,
                            source: None,
                        };
                        store.append_message(&tenant, message).await?;
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let build = started.elapsed();

    let queries: Vec<String> = (0..QUERIES)
        .map(|i| {
            let first = &vocabulary[(i * 37) % vocabulary.len()];
            if i % 3 == 0 {
                format!("{first} {}", vocabulary[(i * 91 + 5) % vocabulary.len()])
            } else {
                first.clone()
            }
        })
        .collect();
    let page = PageRequest::first(50);
    let mut search_times = Vec::new();
    for query in &queries {
        let started = Instant::now();
        let filter = ConversationFilter { words: search_words(query), ..Default::default() };
        let found = store.list_conversations(&tenant, &filter, None, &page).await?;
        std::hint::black_box(found);
        search_times.push(started.elapsed());
    }
    let pool = sqlx::SqlitePool::connect(&url).await?;
    let mut scan_times = Vec::new();
    for query in &queries {
        let mut words = query.split(' ').map(|w| format!("%{w}%"));
        let (first, second) =
            (words.next().unwrap_or_default(), words.next().unwrap_or("%".into()));
        let started = Instant::now();
        let found = sqlx::query(
            "SELECT c.id FROM conversations c WHERE c.tenant_id = ?1 \
             AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.text LIKE ?2) \
             AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.text LIKE ?3) \
             ORDER BY COALESCE(c.last_message_at, c.created_at) DESC LIMIT 50",
        )
        .bind(tenant.as_str())
        .bind(first)
        .bind(second)
        .fetch_all(&pool)
        .await?;
        std::hint::black_box(found);
        scan_times.push(started.elapsed());
    }
    Ok(Row { messages, build, search: Stats::of(search_times), scan: Stats::of(scan_times) })
}

pub fn print(rows: &[Row], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 8. Conversation search vs a scan of every message\n");
    out!(
        out,
        "Conversations of ten messages of 14 generated words (a 5,000-word vocabulary) in one \
         SQLite file, written through the store with their search words; 200 searches of one or \
         two words, each analysed into its forms and answered as the inbox's first page (50, \
         newest activity first). The baseline asks the same with `LIKE '%word%'` over every \
         message of the tenant: what a store without search words would do.\n"
    );
    out!(out, "| messages | build | search p50 | p95 | p99 | scan p50 | scan / search |");
    out!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let ratio = row.scan.p50.as_secs_f64() / row.search.p50.as_secs_f64().max(1e-9);
        out!(
            out,
            "| {} | {:.1} s | {} | {} | {} | {} | {ratio:.1}× |",
            row.messages,
            row.build.as_secs_f64(),
            micros(row.search.p50),
            micros(row.search.p95),
            micros(row.search.p99),
            micros(row.scan.p50),
        );
    }
    out!(out);
    if let Some(row) = rows.iter().find(|r| r.messages >= 100_000) {
        verdicts.push(Verdict::new(
            "8. search at 100,000 messages, p95 under 100 ms",
            micros(row.search.p95),
            row.search.p95 < Duration::from_millis(100),
        ));
    }
}
