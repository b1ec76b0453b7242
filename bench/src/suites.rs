//! Scenario 7, a test suite: N scripted cases (AI off), each a lookup-and-reply conversation of
//! two turns with a fake for its order, run in the sandbox (`POST /test-runs`, polled until
//! done). The baseline is the same conversations through the visitor API against the real
//! backend, eight at a time — the live path a run stands in for. Target: 100 cases in under
//! 10 seconds.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use reqwest::Method;
use serde_json::json;

use crate::child::Rig;
use crate::report::{Verdict, out};
use crate::setup::{self, Admin};

pub struct Row {
    pub cases: usize,
    pub suite: Duration,
    pub live: Duration,
}

/// The `i`th case: an order looked up, then a thank-you that calls nothing.
fn case(widget: &str, i: usize) -> serde_json::Value {
    let order = format!("{}", 1000 + i);
    json!({"name": format!("Order {order}"), "suite": "bench", "widget_id": widget,
        "turns": [
            {"text": format!("Where is my order #{order}?"), "expect": [
                {"reply_contains": crate::backend::expected_reply(&order)},
                {"called": "get_order", "with": {"order_id": order}}]},
            {"text": "Thanks!", "expect": [{"not_called": "get_order"}]}],
        "fakes": [{"endpoint": "get_order", "when": {"order_id": order}, "body": crate::backend::order(&order)}],
        "expect": [{"handed_over": false}, {"no_invented_values": true}]})
}

pub async fn measure(sizes: &[usize]) -> anyhow::Result<Vec<Row>> {
    let Rig { server, backend, dir: _dir } = Rig::start().await?;
    let admin = Admin::sign_up(&server.url(""), "suites").await?;
    let widget = admin.lookup_and_reply(backend.address(), json!({"type": "none"})).await?;
    let mut made = 0;
    let mut rows = Vec::new();
    for &cases in sizes {
        while made < cases {
            admin.call(Method::POST, "/api/v1/test-cases", case(&widget, made)).await?;
            made += 1;
        }
        let started = Instant::now();
        let run = admin.call(Method::POST, "/api/v1/test-runs", json!({"suite": "bench"})).await?;
        let id = run["id"].as_str().context("a run id")?.to_owned();
        let done = loop {
            let run =
                admin.call(Method::GET, &format!("/api/v1/test-runs/{id}"), json!(null)).await?;
            if run["state"] != "running" {
                break run;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let suite = started.elapsed();
        ensure!(done["state"] == "passed", "every case passes: {}", done["cases"][0]["failures"]);
        ensure!(done["cases"].as_array().map(Vec::len) == Some(cases), "every case ran");

        // The same conversations, live: start each, ask, thank, eight at a time.
        let http = reqwest::Client::new();
        let base = server.url("");
        let started = Instant::now();
        let conversations = setup::conversations(&http, &base, &widget, cases, 8).await?;
        let asked = conversations.iter().enumerate().map(|(i, c)| {
            let (http, base) = (&http, &base);
            async move {
                for text in [format!("Where is my order #{}?", 1000 + i), "Thanks!".to_owned()] {
                    let url = format!(
                        "{base}/api/v1/widget/conversations/{}/messages?wait_ms=10000",
                        c.id
                    );
                    let answer = http
                        .post(url)
                        .bearer_auth(&c.token)
                        .json(&json!({"text": text}))
                        .send()
                        .await?;
                    ensure!(
                        answer.status().is_success(),
                        "a live message answered {}",
                        answer.status()
                    );
                }
                Ok(())
            }
        });
        use futures_util::StreamExt;
        let results: Vec<anyhow::Result<()>> =
            futures_util::stream::iter(asked).buffer_unordered(8).collect().await;
        results.into_iter().collect::<anyhow::Result<()>>()?;
        rows.push(Row { cases, suite, live: started.elapsed() });
    }
    Ok(rows)
}

pub fn print(rows: &[Row], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 7. Test suites in the sandbox\n");
    out!(
        out,
        "Scripted cases of two turns (AI off), each with a fake for its order, run in the sandbox; the baseline is the same conversations live, through the visitor API and the real backend, eight at a time.\n"
    );
    out!(out, "| cases | sandbox run | live conversations | run / live |");
    out!(out, "|---:|---:|---:|---:|");
    for row in rows {
        let ratio = row.suite.as_secs_f64() / row.live.as_secs_f64().max(1e-9);
        out!(
            out,
            "| {} | {:.2} s | {:.2} s | {ratio:.2} |",
            row.cases,
            row.suite.as_secs_f64(),
            row.live.as_secs_f64()
        );
    }
    out!(out);
    if let Some(row) = rows.iter().find(|r| r.cases == 100) {
        let measured = format!("{:.2} s", row.suite.as_secs_f64());
        verdicts.push(Verdict::new(
            "100 scripted cases, AI off, in under 10 s",
            measured,
            row.suite < Duration::from_secs(10),
        ));
    }
}
