//! Scenario 1, lookup and reply: a visitor asks for an order over the visitor API
//! (`POST …/messages?wait_ms=`), a rule captures the number, calls the backend, and replies from
//! a template — persisted and traced. The baseline is a bare axum proxy making the same backend
//! call. Both run as child processes against the same backend, driven by the same load.

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
    pub concurrency: usize,
    pub switchboard: Load,
    pub proxy: Load,
}

#[derive(Clone)]
enum Target {
    Switchboard { base: String, conversations: Arc<Vec<Conversation>> },
    Proxy { url: String },
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

pub async fn measure(levels: &[usize], duration: Duration) -> anyhow::Result<Vec<Level>> {
    let Rig { server: switchboard, backend, dir } = Rig::start().await?;
    let proxy =
        Server::start(&["proxy", &backend.address().to_string()], &dir.path().join("proxy.log"))?;
    let base = switchboard.url("");
    let widget = Admin::sign_up(&base, "lookup")
        .await?
        .lookup_and_reply(backend.address(), json!({"type": "none"}))
        .await?;
    let most = levels.iter().copied().max().unwrap_or(1);
    let started = conversations(&reqwest::Client::new(), &base, &widget, most, 16).await?;
    let switchboard_target = Target::Switchboard { base, conversations: Arc::new(started) };
    let proxy_target = Target::Proxy { url: proxy.url("/messages") };

    let mut results = Vec::new();
    for &concurrency in levels {
        let switchboard = drive(&switchboard_target, concurrency, duration).await;
        let proxy = drive(&proxy_target, concurrency, duration).await;
        results.push(Level { concurrency, switchboard, proxy });
    }
    Ok(results)
}

pub fn print(levels: &[Level], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 1. Lookup and reply vs a bare proxy\n");
    out!(
        out,
        "A visitor message over the visitor API (`?wait_ms=`), a regex rule, `CALL_API` to a \
         backend on loopback, a template reply — stored and traced — against a bare axum \
         service making the same backend call and nothing else. Each level runs both for the \
         same time; every answer is checked.\n"
    );
    out!(
        out,
        "| conversations | Switchboard | bare proxy | proxy / Switchboard | Switchboard p50 | p99 | proxy p50 | p99 | added p50 | errors |"
    );
    out!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for level in levels {
        let (s, p) = (&level.switchboard, &level.proxy);
        let ratio = p.per_sec / s.per_sec.max(1e-9);
        let added = s.stats.p50.saturating_sub(p.stats.p50);
        out!(
            out,
            "| {} | {:.0}/s | {:.0}/s | {ratio:.2}x | {} | {} | {} | {} | {} | {} |",
            level.concurrency,
            s.per_sec,
            p.per_sec,
            micros(s.stats.p50),
            micros(s.stats.p99),
            micros(p.stats.p50),
            micros(p.stats.p99),
            micros(added),
            s.errors + p.errors,
        );
        let at = format!("at {} conversations", level.concurrency);
        verdicts.push(Verdict::new(
            format!("1. throughput within 1.5x of the bare proxy {at}"),
            format!("{ratio:.2}x"),
            ratio <= 1.5,
        ));
        verdicts.push(Verdict::new(
            format!("1. under 1 ms added p50 {at}"),
            micros(added),
            added < Duration::from_millis(1),
        ));
        verdicts.push(Verdict::new(
            format!("1. no errors {at}"),
            (s.errors + p.errors).to_string(),
            s.errors + p.errors == 0,
        ));
    }
    out!(out);
}
