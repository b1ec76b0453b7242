//! Scenario 1, lookup and reply: a visitor asks for an order over the visitor API
//! (`POST …/messages?wait_ms=`), a rule captures the number, calls the backend, and replies from
//! a template — persisted and traced. Two baselines: the durable floor (the same backend call,
//! and the question and the reply stored in the same database with group commit, answered after
//! the commit) and a bare axum proxy that stores nothing. All run as child processes against
//! the same backend, driven by the same load.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend::expected_reply;
use crate::child::{Rig, Server};
use crate::report::{Stats, Verdict, micros, out};
use crate::setup::{Admin, Conversation, conversations};

pub struct Load {
    pub per_sec: f64,
    pub stats: Stats,
    pub errors: usize,
}

pub struct Level {
    pub database: &'static str,
    pub concurrency: usize,
    pub switchboard: Load,
    pub floor: Load,
    pub proxy: Load,
}

#[derive(Clone)]
enum Target {
    Switchboard {
        base: String,
        conversations: Arc<Vec<Conversation>>,
    },
    Proxy {
        url: String,
    },
    /// The durable floor: `{base}/conversations/{worker}/messages`.
    Floor {
        base: String,
    },
}

fn order_number(worker: usize, n: usize) -> String {
    format!("{}", 1000 + (worker * 7919 + n * 31) % 9000)
}

/// One visitor message; true if the right reply came back.
async fn ask(http: &reqwest::Client, target: &Target, worker: usize, n: usize) -> bool {
    let id = order_number(worker, n);
    let body = json!({"text": format!("Hi, where is my order #{id}?")});
    let request = match target {
        Target::Switchboard { base, conversations } => {
            let conversation = &conversations[worker];
            let url = format!(
                "{base}/api/v1/widget/conversations/{}/messages?wait_ms=5000",
                conversation.id
            );
            http.post(url).bearer_auth(&conversation.token)
        }
        Target::Proxy { url } => http.post(url),
        Target::Floor { base } => http.post(format!("{base}/conversations/c{worker}/messages")),
    };
    let Ok(response) = request.json(&body).send().await else { return false };
    if response.status() != reqwest::StatusCode::OK {
        return false;
    }
    let Ok(answer) = response.json::<Value>().await else { return false };
    answer["data"]["replies"][0]["text"].as_str() == Some(expected_reply(&id).as_str())
}

/// `concurrency` workers asking one after another for `duration`.
async fn drive(target: &Target, concurrency: usize, duration: Duration) -> Load {
    let http = reqwest::Client::new();
    let errors = Arc::new(AtomicUsize::new(0));
    // Warm up: connections opened, caches filled.
    for worker in 0..concurrency {
        ask(&http, target, worker, 0).await;
    }
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (http, target, errors) = (http.clone(), target.clone(), errors.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut n = 1;
                while Instant::now() < deadline {
                    let asked = Instant::now();
                    if !ask(&http, &target, worker, n).await {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    times.push(asked.elapsed());
                    n += 1;
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    Load {
        per_sec: times.len() as f64 / elapsed.as_secs_f64(),
        stats: Stats::of(times),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// Every level against one database (`None`: SQLite files; else a PostgreSQL server on which
/// a fresh database is made and dropped).
pub async fn measure(
    levels: &[usize],
    duration: Duration,
    postgres: Option<&str>,
) -> anyhow::Result<Vec<Level>> {
    let mut results = measure_on("SQLite", None, levels, duration).await?;
    if let Some(url) = postgres {
        let (fresh, cleanup) = crate::store::with_fresh_postgres(url).await?;
        let measured = measure_on("PostgreSQL", Some(&fresh), levels, duration).await;
        cleanup().await;
        results.extend(measured?);
    }
    Ok(results)
}

async fn measure_on(
    database: &'static str,
    url: Option<&str>,
    levels: &[usize],
    duration: Duration,
) -> anyhow::Result<Vec<Level>> {
    let Rig { server: switchboard, backend, dir } = Rig::start_on(url).await?;
    let address = backend.address().to_string();
    let proxy = Server::start(&["proxy", &address], &dir.path().join("proxy.log"))?;
    let floor_file = format!("sqlite://{}", dir.path().join("floor.db").display());
    let floor_database = url.unwrap_or(&floor_file);
    let floor =
        Server::start(&["durable", &address, floor_database], &dir.path().join("floor.log"))?;
    let base = switchboard.url("");
    let widget = Admin::sign_up(&base, "lookup")
        .await?
        .lookup_and_reply(backend.address(), json!({"type": "none"}))
        .await?;
    let most = levels.iter().copied().max().unwrap_or(1);
    let started = conversations(&reqwest::Client::new(), &base, &widget, most, 16).await?;
    let switchboard_target = Target::Switchboard { base, conversations: Arc::new(started) };
    let proxy_target = Target::Proxy { url: proxy.url("/messages") };
    let floor_target = Target::Floor { base: floor.url("") };

    let mut results = Vec::new();
    for &concurrency in levels {
        let switchboard = drive(&switchboard_target, concurrency, duration).await;
        let floor = drive(&floor_target, concurrency, duration).await;
        let proxy = drive(&proxy_target, concurrency, duration).await;
        results.push(Level { database, concurrency, switchboard, floor, proxy });
    }
    Ok(results)
}

pub fn print(levels: &[Level], postgres: bool, verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 1. Lookup and reply vs the durable floor and a bare proxy\n");
    out!(
        out,
        "A visitor message over the visitor API (`?wait_ms=`), a regex rule, `CALL_API` to a \
         backend on loopback, a template reply — stored and traced — against two baselines: \
         the durable floor, a bare axum service making the same backend call and storing the \
         question and the reply in the same kind of database (one writer committing whatever \
         is waiting in one transaction, each request answered after its commit), and a bare \
         proxy that stores nothing. Each level runs all three for the same time; every answer \
         is checked.\n"
    );
    if !postgres {
        out!(
            out,
            "PostgreSQL was not measured: set `SWITCHBOARD_BENCH_POSTGRES_URL` to a server the \
             benchmark may create a database on.\n"
        );
    }
    out!(
        out,
        "| database | conversations | Switchboard | durable floor | floor / Switchboard | bare proxy | proxy / Switchboard | Switchboard p50 | p99 | floor p50 | added p50 | errors |"
    );
    out!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for level in levels {
        let (s, f, p) = (&level.switchboard, &level.floor, &level.proxy);
        let ratio = f.per_sec / s.per_sec.max(1e-9);
        let added = s.stats.p50.saturating_sub(f.stats.p50);
        let errors = s.errors + f.errors + p.errors;
        out!(
            out,
            "| {} | {} | {:.0}/s | {:.0}/s | {ratio:.2}x | {:.0}/s | {:.2}x | {} | {} | {} | {} | {errors} |",
            level.database,
            level.concurrency,
            s.per_sec,
            f.per_sec,
            p.per_sec,
            p.per_sec / s.per_sec.max(1e-9),
            micros(s.stats.p50),
            micros(s.stats.p99),
            micros(f.stats.p50),
            micros(added),
        );
        let at = format!("on {} at {} conversations", level.database, level.concurrency);
        let sqlite = level.database == "SQLite";
        if sqlite && level.concurrency >= 32 {
            verdicts.push(Verdict::new(
                format!("1. throughput within 1.5x of the durable floor {at}"),
                format!("{ratio:.2}x"),
                ratio <= 1.5,
            ));
        }
        if !sqlite {
            verdicts.push(Verdict::new(
                format!("1. throughput within 2x of the durable floor {at}"),
                format!("{ratio:.2}x"),
                ratio <= 2.0,
            ));
        }
        if sqlite && level.concurrency == 1 {
            verdicts.push(Verdict::new(
                format!("1. under 1 ms added p50 over the durable floor {at}"),
                micros(added),
                added < Duration::from_millis(1),
            ));
        }
        verdicts.push(Verdict::new(format!("1. no errors {at}"), errors.to_string(), errors == 0));
    }
    out!(out);
}
