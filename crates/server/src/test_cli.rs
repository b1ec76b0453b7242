//! `switchboard test run`: runs an account's test cases on a live server, for a customer's CI —
//! a suite of them, or those of a suite file kept beside the code (imported first). Prints each
//! case, writes JUnit XML when asked, and tells the caller whether all passed. `switchboard test
//! export` writes a suite as such a file.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// How long a run may take before the command gives up.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// Which cases a run takes: a suite's, a file's (imported first), or every case.
pub enum Selection<'a> {
    All,
    Suite(&'a str),
    File(&'a Path),
}

/// The account at a server, as an API key reaches it.
struct Server {
    client: reqwest::Client,
    base: String,
    api_key: String,
}

impl Server {
    fn new(url: &str, api_key: &str) -> anyhow::Result<Self> {
        sb_net::install_crypto_provider();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let base = format!("{}/api/v1", url.trim_end_matches('/'));
        Ok(Self { client, base, api_key: api_key.to_owned() })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.api_key)
    }
}

/// Runs the selected cases at `url` with `api_key`; whether every case passed.
pub async fn run(
    url: &str,
    api_key: &str,
    selection: Selection<'_>,
    junit: Option<&Path>,
) -> anyhow::Result<bool> {
    let server = Server::new(url, api_key)?;
    let (body, suite) = match selection {
        Selection::All => (json!({}), None),
        Selection::Suite(suite) => (json!({"suite": suite}), Some(suite.to_owned())),
        Selection::File(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let imported = answer(
                server
                    .request(reqwest::Method::POST, "/test-cases/import")
                    .json(&json!({"file": text})),
            )
            .await
            .with_context(|| format!("importing {}", path.display()))?;
            println!(
                "{}: {} created, {} updated, {} unchanged",
                path.display(),
                imported["created"],
                imported["updated"],
                imported["unchanged"]
            );
            let suite = imported["suite"].as_str().map(str::to_owned);
            (json!({"case_ids": imported["case_ids"]}), suite)
        }
    };
    let started = answer(server.request(reqwest::Method::POST, "/test-runs").json(&body))
        .await
        .context("starting the run")?;
    let id = started["id"].as_str().context("the server answered without a run id")?.to_owned();
    let begun = Instant::now();
    let run = loop {
        let run = answer(server.request(reqwest::Method::GET, &format!("/test-runs/{id}")))
            .await
            .context("reading the run")?;
        if run["state"] != "running" {
            break run;
        }
        if begun.elapsed() > RUN_LIMIT {
            bail!("the run {id} did not finish within {} s", RUN_LIMIT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let cases = run["cases"].as_array().cloned().unwrap_or_default();
    for case in &cases {
        println!("{}", summary(case));
    }
    let failed = cases.iter().filter(|c| c["passed"] != true).count();
    println!("{} of {} test cases passed (run {id})", cases.len() - failed, cases.len());
    if let Some(path) = junit {
        std::fs::write(path, junit_xml(suite.as_deref().unwrap_or("switchboard"), &cases))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(run["state"] == "passed")
}

/// Writes a suite (or the cases of no suite) as a file: YAML when `out` ends in `.yaml`/`.yml`
/// or `yaml` is asked for, else JSON; to standard output without `out`.
pub async fn export(
    url: &str,
    api_key: &str,
    suite: Option<&str>,
    yaml: bool,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let server = Server::new(url, api_key)?;
    let yaml = yaml || out.and_then(|p| p.extension()).is_some_and(|e| e == "yaml" || e == "yml");
    let mut query = vec![("format", if yaml { "yaml" } else { "json" })];
    if let Some(suite) = suite {
        query.push(("suite", suite));
    }
    let url =
        reqwest::Url::parse_with_params(&format!("{}/test-cases/export", server.base), &query)?;
    let response = server.client.get(url).header("x-api-key", &server.api_key).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        bail!("{status}: {}", body["error"]["message"].as_str().unwrap_or("no explanation"));
    }
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// The data of an API answer, or the API's error in words.
async fn answer(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let error = &body["error"];
        let field = error["field"].as_str().map(|f| format!(" ({f})")).unwrap_or_default();
        bail!("{status}: {}{field}", error["message"].as_str().unwrap_or("no explanation"));
    }
    Ok(body["data"].clone())
}

/// One line per case, then one per failed expectation.
fn summary(case: &Value) -> String {
    let name = case["name"].as_str().unwrap_or("?");
    let ms = case["duration_ms"].as_u64().unwrap_or(0);
    if case["passed"] == true {
        return format!("PASS {name} ({ms} ms)");
    }
    let mut text = format!("FAIL {name} ({ms} ms)");
    for failure in case["failures"].as_array().into_iter().flatten() {
        text.push_str(&format!("\n     {}", failure_line(failure)));
    }
    text
}

fn failure_line(failure: &Value) -> String {
    let turn = failure["turn"].as_u64().map(|t| format!("turn {}: ", t + 1)).unwrap_or_default();
    let observed = failure["observed"].as_str().unwrap_or_default();
    format!("{turn}{} — {observed}", failure["expectation"])
}

/// JUnit XML, as CI systems read it: one test case per case, its failures in the message.
fn junit_xml(suite: &str, cases: &[Value]) -> String {
    let failures = cases.iter().filter(|c| c["passed"] != true).count();
    let seconds = |case: &Value| case["duration_ms"].as_u64().unwrap_or(0) as f64 / 1000.0;
    let total: f64 = cases.iter().map(seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">\n",
        cases.len(),
        escape(suite),
        cases.len()
    ));
    for case in cases {
        let name = escape(case["name"].as_str().unwrap_or("?"));
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{name}\" time=\"{:.3}\"",
            escape(suite),
            seconds(case)
        ));
        let lines: Vec<String> =
            case["failures"].as_array().into_iter().flatten().map(failure_line).collect();
        if lines.is_empty() {
            xml.push_str("/>\n");
            continue;
        }
        let first = escape(lines.first().map(String::as_str).unwrap_or_default());
        xml.push_str(&format!(
            ">\n      <failure message=\"{first}\">{}</failure>\n    </testcase>\n",
            escape(&lines.join("\n"))
        ));
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_reports_each_case_and_escapes_what_it_quotes() {
        let cases = [
            json!({"name": "good", "passed": true, "duration_ms": 12, "failures": []}),
            json!({"name": "<wrong> & \"bad\"", "passed": false, "duration_ms": 1500, "failures": [
                {"turn": 0, "expectation": {"reply_contains": "x"}, "observed": "replies: “a < b”"}]}),
        ];
        let xml = junit_xml("orders", &cases);
        assert!(
            xml.contains("<testsuite name=\"orders\" tests=\"2\" failures=\"1\" time=\"1.512\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase classname=\"orders\" name=\"good\" time=\"0.012\"/>"),
            "{xml}"
        );
        assert!(xml.contains("name=\"&lt;wrong&gt; &amp; &quot;bad&quot;\""), "{xml}");
        assert!(
            xml.contains(
                "turn 1: {&quot;reply_contains&quot;:&quot;x&quot;} — replies: “a &lt; b”"
            ),
            "{xml}"
        );
        assert_eq!(escape("a\u{1}b"), "ab");
    }
}
