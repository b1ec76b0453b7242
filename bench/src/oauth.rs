//! Scenario 2, OAuth 2.0 on a cold cache: a thousand visitors ask at once, each message making a
//! `CALL_API` through a connection with client credentials no token has been fetched for yet. The
//! token endpoint takes 50 ms, so the calls pile up behind the first fetch; exactly one token
//! request may reach it. The baseline is the same burst through a connection with a static
//! bearer token, on the same server.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backend::{TOKEN, expected_reply};
use crate::child::Rig;
use crate::report::{Verdict, out};
use crate::setup::{Admin, Conversation, conversations};

pub struct Burst {
    pub calls: usize,
    pub wrong: usize,
    pub wall: Duration,
}

pub struct Result {
    pub oauth: Burst,
    pub bearer: Burst,
    pub token_requests: usize,
}

/// Every conversation asks at the same moment; how long until all have their answer.
async fn burst(base: &str, visitors: &[Conversation]) -> Burst {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let asks: Vec<_> = visitors
        .iter()
        .enumerate()
        .map(|(i, visitor)| {
            let id = format!("{}", 1000 + i % 9000);
            let url =
                format!("{base}/api/v1/widget/conversations/{}/messages?wait_ms=30000", visitor.id);
            let request = http
                .post(url)
                .bearer_auth(&visitor.token)
                .json(&json!({"text": format!("Where is order #{id}?")}));
            tokio::spawn(async move {
                let answer: Value = request.send().await.ok()?.json().await.ok()?;
                (answer["data"]["replies"][0]["text"].as_str() == Some(&expected_reply(&id)))
                    .then_some(())
            })
        })
        .collect();
    let mut wrong = 0;
    for ask in asks {
        if !matches!(ask.await, Ok(Some(()))) {
            wrong += 1;
        }
    }
    Burst { calls: visitors.len(), wrong, wall: started.elapsed() }
}

pub async fn measure(calls: usize) -> anyhow::Result<Result> {
    let Rig { server, backend, dir: _dir } = Rig::start().await?;
    let base = server.url("");
    let http = reqwest::Client::new();
    let oauth = json!({"type": "oauth2_client_credentials",
        "token_url": format!("http://{}/oauth/token", backend.address()),
        "client_id": "bench", "client_secret": "bench-secret"});
    let bearer = json!({"type": "bearer", "token": TOKEN});
    let oauth_widget =
        Admin::sign_up(&base, "oauth").await?.lookup_and_reply(backend.address(), oauth).await?;
    let bearer_widget =
        Admin::sign_up(&base, "bearer").await?.lookup_and_reply(backend.address(), bearer).await?;
    let oauth_visitors = conversations(&http, &base, &oauth_widget, calls, 16).await?;
    let bearer_visitors = conversations(&http, &base, &bearer_widget, calls, 16).await?;

    let bearer = burst(&base, &bearer_visitors).await;
    let oauth = burst(&base, &oauth_visitors).await;
    Ok(Result { oauth, bearer, token_requests: backend.tokens_issued.load(Ordering::SeqCst) })
}

pub fn print(result: &Result, verdicts: &mut Vec<Verdict>, out: &mut String) {
    let (o, b) = (&result.oauth, &result.bearer);
    out!(out, "## 2. OAuth 2.0 client credentials on a cold cache\n");
    out!(
        out,
        "{} visitors send a message at the same moment; each runs a lookup-and-reply rule whose \
         `CALL_API` needs a token nobody has fetched yet (the token endpoint takes 50 ms). The \
         baseline is the same burst through a static bearer token.\n",
        o.calls
    );
    out!(
        out,
        "| connection | messages | wrong or missing answers | token requests | all answered after |"
    );
    out!(out, "|---|---:|---:|---:|---:|");
    out!(
        out,
        "| OAuth 2.0, cold | {} | {} | {} | {:.2} s |",
        o.calls,
        o.wrong,
        result.token_requests,
        o.wall.as_secs_f64()
    );
    out!(out, "| static bearer | {} | {} | — | {:.2} s |", b.calls, b.wrong, b.wall.as_secs_f64());
    let ratio = o.wall.as_secs_f64() / b.wall.as_secs_f64().max(1e-9);
    out!(out, "\nOAuth / bearer: {ratio:.2}x\n");
    verdicts.push(Verdict::new(
        format!("2. exactly one token request for {} concurrent calls", o.calls),
        result.token_requests.to_string(),
        result.token_requests == 1,
    ));
    verdicts.push(Verdict::new(
        "2. every burst message answered correctly",
        (o.wrong + b.wrong).to_string(),
        o.wrong + b.wrong == 0,
    ));
}
