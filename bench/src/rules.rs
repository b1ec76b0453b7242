//! Scenario 3, rules per message vs the number of rules. Every rule is evaluated against a
//! message that fires none of them — the worst case, where the walk reaches the last rule. Two
//! views: the evaluation itself (`sb_rules::fires`, what the engine runs per rule) against a
//! floor that makes the same decisions with the least possible work; and the dry-run API of a
//! running Switchboard, which also loads the widget's rules from the database each time.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use regex::Regex;
use reqwest::Method;
use sb_domain::template::Variables;
use sb_domain::{Rule, RuleDefinition, RuleId, TenantId, Timestamp};
use sb_rules::Situation;
use serde_json::{Value, json};

use crate::child::Rig;
use crate::report::{Stats, Verdict, micros, out};
use crate::setup::Admin;

const MESSAGE: &str =
    "Hi, where is my order #4521? It has not arrived yet and I need it by Friday.";

pub struct Row {
    pub rules: usize,
    pub evaluation: Duration,
    pub floor: Duration,
    pub dry_run: Option<Stats>,
}

/// The `i`th rule: three in five match keywords, one a regex, one any message but only with a
/// condition on a variable (which does not hold) — each with a reply.
fn definition(i: usize) -> Value {
    let word = |k: usize| format!("kw{i}x{k}");
    let (trigger, conditions) = match i % 5 {
        3 => (
            json!({"type": "regex", "pattern": format!("\\bref{i}-\\d+\\b"), "flags": "i"}),
            json!([]),
        ),
        4 => (
            json!({"type": "any"}),
            json!([{"variable": "plan", "op": "eq", "value": format!("plan{i}")}]),
        ),
        _ => (json!({"type": "keywords", "any": [word(0), word(1), word(2)]}), json!([])),
    };
    json!({
        "name": format!("Rule {i}"),
        "priority": i,
        "trigger": trigger,
        "conditions": conditions,
        "actions": [{"type": "REPLY_TEXT", "text": format!("Answer {i}")}],
    })
}

fn rule(i: usize, tenant: &TenantId) -> anyhow::Result<Rule> {
    let mut body = definition(i);
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    if let Some(map) = body.as_object_mut() {
        map.remove("name");
        map.remove("priority");
    }
    let definition: RuleDefinition = serde_json::from_value(body)?;
    Ok(Rule {
        id: RuleId::new(),
        tenant_id: tenant.clone(),
        name,
        widget_id: None,
        priority: i32::try_from(i)?,
        enabled: true,
        definition,
        created_at: Timestamp::now(),
        updated_at: Timestamp::now(),
    })
}

/// The floor: the same decisions, with keywords lowercased, regexes compiled and the message
/// lowercased once, up front.
enum Floor {
    Keywords(Vec<String>),
    Regex(Regex),
    Equals(String, Value),
}

fn floor_of(rule: &Rule) -> Floor {
    let text = serde_json::to_value(&rule.definition).unwrap_or_default();
    match text["trigger"]["type"].as_str() {
        Some("keywords") => Floor::Keywords(
            text["trigger"]["any"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str().map(str::to_lowercase))
                .collect(),
        ),
        Some("regex") => Floor::Regex(
            Regex::new(&format!("(?i){}", text["trigger"]["pattern"].as_str().unwrap_or("")))
                .expect("a valid pattern"),
        ),
        _ => Floor::Equals(
            text["conditions"][0]["variable"].as_str().unwrap_or_default().to_owned(),
            text["conditions"][0]["value"].clone(),
        ),
    }
}

fn floor_fires(floor: &Floor, lowered: &str, original: &str, variables: &Variables) -> bool {
    match floor {
        Floor::Keywords(words) => words.iter().any(|w| lowered.contains(w.as_str())),
        Floor::Regex(regex) => regex.is_match(original),
        Floor::Equals(name, value) => variables.get(name) == Some(value),
    }
}

/// The median time per message of `evaluate`, over batches repeated until about `budget` has
/// passed: a median, because on a shared machine a mean carries every preemption with it.
fn per_message(budget: Duration, mut evaluate: impl FnMut() -> usize) -> Duration {
    const BATCH: u32 = 10;
    let mut batches = Vec::new();
    let started = Instant::now();
    while started.elapsed() < budget || batches.len() < 10 {
        let batch = Instant::now();
        for _ in 0..BATCH {
            assert_eq!(std::hint::black_box(evaluate()), 0, "no rule fires");
        }
        batches.push(batch.elapsed() / BATCH);
    }
    Stats::of(batches).p50
}

fn evaluate(sizes: &[usize], budget: Duration) -> anyhow::Result<Vec<(Duration, Duration)>> {
    let tenant = TenantId::new();
    let mut variables = Variables::new();
    variables.insert("plan".into(), json!("basic"));
    variables.insert("visitor.language".into(), json!("en"));
    variables.insert("message.text".into(), json!(MESSAGE));
    let (changed, intents) = (BTreeSet::new(), BTreeSet::new());
    let mut results = Vec::new();
    for &size in sizes {
        let rules: Vec<Rule> = (0..size).map(|i| rule(i, &tenant)).collect::<Result<_, _>>()?;
        let evaluation = per_message(budget, || {
            // Once per message, as the engine does.
            let prepared = sb_rules::MessageText::new(MESSAGE);
            let situation = Situation {
                text: MESSAGE,
                prepared: &prepared,
                first_message: false,
                variables: &variables,
                changed: &changed,
                intents: &intents,
                operator_online: true,
            };
            rules.iter().filter(|rule| sb_rules::fires(rule, &situation)).count()
        });
        let floors: Vec<Floor> = rules.iter().map(floor_of).collect();
        let floor = per_message(budget, || {
            let lowered = MESSAGE.to_lowercase();
            floors.iter().filter(|f| floor_fires(f, &lowered, MESSAGE, &variables)).count()
        });
        results.push((evaluation, floor));
    }
    Ok(results)
}

/// p50 of the dry-run API at each size, rules added to one widget as the sizes grow.
async fn dry_runs(sizes: &[usize], asks: usize) -> anyhow::Result<Vec<Stats>> {
    let Rig { server, backend: _backend, dir: _dir } = Rig::start().await?;
    let admin = Admin::sign_up(&server.url(""), "rules").await?;
    let widget = admin.widget("Shop").await?;
    let mut made = 0;
    let mut results = Vec::new();
    for &size in sizes {
        while made < size {
            admin.call(Method::POST, "/api/v1/rules", definition(made)).await?;
            made += 1;
        }
        let body = json!({"widget_id": widget, "message": MESSAGE, "variables": {"plan": "basic"}});
        let mut times = Vec::new();
        for _ in 0..asks + 2 {
            let asked = Instant::now();
            let answer = admin.call(Method::POST, "/api/v1/rules/dry-run", body.clone()).await?;
            times.push(asked.elapsed());
            anyhow::ensure!(answer["fired"] == json!([]), "no rule fires: {answer}");
        }
        results.push(Stats::of(times.split_off(2)));
    }
    Ok(results)
}

pub async fn measure(
    sizes: &[usize],
    budget: Duration,
    api_up_to: usize,
) -> anyhow::Result<Vec<Row>> {
    let evaluated = evaluate(sizes, budget)?;
    let api_sizes: Vec<usize> = sizes.iter().copied().filter(|&s| s <= api_up_to).collect();
    let mut dry = dry_runs(&api_sizes, 30).await?.into_iter();
    Ok(sizes
        .iter()
        .zip(evaluated)
        .map(|(&rules, (evaluation, floor))| Row {
            rules,
            evaluation,
            floor,
            dry_run: (rules <= api_up_to).then(|| dry.next()).flatten(),
        })
        .collect())
}

pub fn print(rows: &[Row], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 3. Rules per message vs number of rules\n");
    out!(
        out,
        "A message that fires no rule, so every rule is evaluated: three in five match keywords, \
         one a case-insensitive regex, one any message with a condition on a variable. The floor \
         makes the same decisions with keywords and message lowercased and regexes compiled up \
         front. The dry run is `POST /rules/dry-run` on a running Switchboard: HTTP, loading the \
         widget's rules from SQLite, and the evaluation.\n"
    );
    out!(
        out,
        "| rules | evaluation p50 | floor p50 | evaluation / floor | per rule | dry run p50 | p99 |"
    );
    out!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let ratio = row.evaluation.as_secs_f64() / row.floor.as_secs_f64().max(1e-12);
        let per_rule = row.evaluation.as_secs_f64() * 1e9 / row.rules as f64;
        let (p50, p99) =
            row.dry_run.map_or(("—".into(), "—".into()), |s| (micros(s.p50), micros(s.p99)));
        out!(
            out,
            "| {} | {} | {} | {ratio:.1}x | {per_rule:.0} ns | {p50} | {p99} |",
            row.rules,
            micros(row.evaluation),
            micros(row.floor),
        );
        if row.rules == 1000 {
            verdicts.push(Verdict::new(
                "3. rules evaluation under 50 µs at 1,000 rules",
                micros(row.evaluation),
                row.evaluation < Duration::from_micros(50),
            ));
        }
    }
    out!(out);
}
