//! `switchboard-bench`: Switchboard's benchmarks. Each scenario runs beside a baseline measured
//! in the same run on the same machine and reports the ratio between them; the targets are
//! checked at the end. Servers under measurement run as child processes of this program.
//!
//! `cargo run --release -p sb-bench -- [SCENARIO…] [--quick] [--write FILE] [--conversations N]`;
//! scenarios: `lookup oauth rules websockets store kb suites search analytics gaps` (default: all of them). `--conversations`
//! runs the lookup at that one level only, for as long as `--seconds` says (to profile it).

mod analytics;
mod backend;
mod child;
mod durable;
mod gaps;
mod kb;
mod lookup;
mod oauth;
mod proxy;
mod report;
mod rules;
mod search;
mod setup;
mod store;
mod suites;
mod ws;

use std::time::Duration;

use anyhow::bail;
use report::{Verdict, out, print_verdicts};

const SCENARIOS: [&str; 10] = [
    "lookup",
    "oauth",
    "rules",
    "websockets",
    "store",
    "kb",
    "suites",
    "search",
    "analytics",
    "gaps",
];

/// How big each scenario runs: the real thing, or a quick pass that proves the harness works.
struct Scale {
    lookup_levels: Vec<usize>,
    lookup_time: Duration,
    oauth_calls: usize,
    rule_sizes: Vec<usize>,
    rule_budget: Duration,
    rules_over_api: usize,
    sockets: usize,
    store_levels: Vec<usize>,
    store_time: Duration,
    kb_sizes: Vec<usize>,
    suite_sizes: Vec<usize>,
    search_sizes: Vec<usize>,
    analytics_sizes: Vec<usize>,
    gap_sizes: Vec<usize>,
}

impl Scale {
    fn full() -> Self {
        Self {
            lookup_levels: vec![1, 32, 256],
            lookup_time: Duration::from_secs(5),
            oauth_calls: 1000,
            rule_sizes: vec![10, 100, 1_000, 10_000],
            rule_budget: Duration::from_millis(500),
            rules_over_api: 10_000,
            sockets: 10_000,
            store_levels: vec![1, 16],
            store_time: Duration::from_secs(3),
            kb_sizes: vec![1_000, 10_000, 100_000],
            suite_sizes: vec![10, 100],
            search_sizes: vec![10_000, 100_000],
            analytics_sizes: vec![100_000, 1_000_000],
            gap_sizes: vec![1_000, 5_000],
        }
    }

    fn quick() -> Self {
        Self {
            lookup_levels: vec![1, 4],
            lookup_time: Duration::from_millis(300),
            oauth_calls: 50,
            rule_sizes: vec![10, 100],
            rule_budget: Duration::from_millis(20),
            rules_over_api: 100,
            sockets: 100,
            store_levels: vec![1, 4],
            store_time: Duration::from_millis(300),
            kb_sizes: vec![400],
            suite_sizes: vec![10],
            search_sizes: vec![1_000],
            analytics_sizes: vec![2_000],
            gap_sizes: vec![300],
        }
    }
}

fn run_command(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Where and when the numbers were taken.
fn header(out: &mut String, command: &str) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(str::to_owned))
        .and_then(|l| l.split_once(':').map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or("?".into(), |kib| format!("{} GiB", kib / 1024 / 1024));
    let commit =
        run_command("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "?".into());
    let dirty = run_command("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    out!(out, "# Benchmark results\n");
    out!(
        out,
        "Each scenario runs beside a baseline measured in the same run on the same machine; the \
         ratios are what carry over to other machines.\n"
    );
    out!(out, "- Command: `{command}`");
    out!(out, "- Machine: {cores} cores ({cpu}), {memory} of memory");
    out!(out, "- Date: {}", sb_domain::Timestamp::now().to_string().get(..10).unwrap_or("?"));
    out!(out, "- Commit: `{commit}`{}", if dirty { " with uncommitted changes" } else { "" });
    out!(out);
}

async fn run(
    scenarios: &[String],
    scale: &Scale,
    report: &mut String,
) -> anyhow::Result<Vec<Verdict>> {
    let mut verdicts = Vec::new();
    for scenario in scenarios {
        eprintln!("running {scenario}…");
        let mut out = String::new();
        let out = &mut out;
        match scenario.as_str() {
            "lookup" => {
                let postgres = std::env::var("SWITCHBOARD_BENCH_POSTGRES_URL").ok();
                let levels =
                    lookup::measure(&scale.lookup_levels, scale.lookup_time, postgres.as_deref())
                        .await?;
                lookup::print(&levels, postgres.is_some(), &mut verdicts, out);
            }
            "oauth" => oauth::print(&oauth::measure(scale.oauth_calls).await?, &mut verdicts, out),
            "rules" => {
                let rows =
                    rules::measure(&scale.rule_sizes, scale.rule_budget, scale.rules_over_api)
                        .await?;
                rules::print(&rows, &mut verdicts, out);
            }
            "websockets" => ws::print(&ws::measure(scale.sockets).await?, &mut verdicts, out),
            "store" => {
                let postgres = std::env::var("SWITCHBOARD_BENCH_POSTGRES_URL").ok();
                let rows =
                    store::measure(postgres.as_deref(), &scale.store_levels, scale.store_time)
                        .await?;
                store::print(&rows, postgres.is_some(), out);
            }
            "kb" => {
                let rows: Vec<kb::Row> = scale
                    .kb_sizes
                    .iter()
                    .map(|&n| kb::measure_apart(n))
                    .collect::<Result<_, _>>()?;
                kb::print(&rows, &mut verdicts, out);
            }
            "suites" => {
                suites::print(&suites::measure(&scale.suite_sizes).await?, &mut verdicts, out)
            }
            "search" => {
                let mut rows = Vec::new();
                for &size in &scale.search_sizes {
                    rows.push(search::measure(size).await?);
                }
                search::print(&rows, &mut verdicts, out);
            }
            "analytics" => {
                let mut rows = Vec::new();
                for &size in &scale.analytics_sizes {
                    rows.push(analytics::measure(size).await?);
                }
                analytics::print(&rows, &mut verdicts, out);
            }
            "gaps" => {
                let mut rows = Vec::new();
                for &size in &scale.gap_sizes {
                    rows.push(gaps::measure(size).await?);
                }
                gaps::print(&rows, &mut verdicts, out);
            }
            other => bail!("unknown scenario {other:?}: use {}", SCENARIOS.join(", ")),
        }
        print!("{out}");
        report.push_str(out);
    }
    Ok(verdicts)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    sb_net::install_crypto_provider();
    let runtime = tokio::runtime::Runtime::new()?;
    match args.first().map(String::as_str) {
        Some("__serve") => return runtime.block_on(child::serve(&args[1..])),
        Some("__kb") => {
            kb::measure_and_print(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000));
            return Ok(());
        }
        _ => {}
    }
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run with --release for meaningful numbers");
    }
    let quick = args.iter().any(|a| a == "--quick");
    let value_of = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let write = value_of("--write").cloned();
    let values: Vec<&String> =
        ["--write", "--conversations", "--seconds"].iter().filter_map(|f| value_of(f)).collect();
    let mut scenarios: Vec<String> =
        args.iter().filter(|a| !a.starts_with("--") && !values.contains(a)).cloned().collect();
    if scenarios.is_empty() || scenarios.iter().any(|s| s == "all") {
        scenarios = SCENARIOS.map(str::to_owned).to_vec();
    }
    let mut scale = if quick { Scale::quick() } else { Scale::full() };
    if let Some(level) = value_of("--conversations").and_then(|n| n.parse().ok()) {
        scale.lookup_levels = vec![level];
    }
    if let Some(seconds) = value_of("--seconds").and_then(|n| n.parse().ok()) {
        scale.lookup_time = Duration::from_secs(seconds);
    }
    let command = format!("cargo run --release -p sb-bench -- {}", args.join(" "));

    let mut report = String::new();
    header(&mut report, command.trim());
    print!("{report}");
    let verdicts = runtime.block_on(run(&scenarios, &scale, &mut report))?;
    let mut targets = String::new();
    print_verdicts(&verdicts, &mut targets);
    print!("{targets}");
    report.push_str(&targets);
    if let Some(file) = write {
        let notes = notes_of(&file);
        std::fs::write(&file, format!("{report}{notes}"))?;
        eprintln!("written to {file}");
    }
    Ok(())
}

/// The hand-written part of a results file (from `## Notes` on), kept when it is rewritten.
fn notes_of(file: &str) -> String {
    let existing = std::fs::read_to_string(file).unwrap_or_default();
    existing.find("\n## Notes").map(|at| existing[at + 1..].to_owned()).unwrap_or_default()
}
