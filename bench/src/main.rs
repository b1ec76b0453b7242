//! `switchboard-bench`: Switchboard's benchmarks. Each scenario runs beside a baseline measured
//! in the same run on the same machine and prints a Markdown table with the ratio between them.
//!
//! Run in release mode: `cargo run --release -p sb-bench -- kb`.

mod kb;
mod report;

use report::micros;

fn kb_search(sizes: &[usize]) {
    println!("## Knowledge-base search latency vs corpus size\n");
    println!(
        "Baseline: scanning the tenant's passages for the query's words (what the index saves).\n"
    );
    println!(
        "| passages | index build | memory | search p50 | p95 | p99 | scan p50 | scan / search |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let row = kb::measure(size);
        let memory = row.memory_kib.map_or("?".into(), |k| format!("{} MiB", k / 1024));
        let ratio = row.scan.p50.as_secs_f64() / row.index.p50.as_secs_f64().max(1e-9);
        println!(
            "| {} | {:.1} s | {} | {} | {} | {} | {} | {:.0}x |",
            row.passages,
            row.build.as_secs_f64(),
            memory,
            micros(row.index.p50),
            micros(row.index.p95),
            micros(row.index.p99),
            micros(row.scan.p50),
            ratio
        );
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run with --release for meaningful numbers");
    }
    let scenario = args.first().map(String::as_str).unwrap_or("all");
    let sizes: Vec<usize> = args
        .iter()
        .find_map(|a| a.strip_prefix("--sizes="))
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000]);
    match scenario {
        "kb" | "all" => kb_search(&sizes),
        other => {
            eprintln!("unknown scenario {other:?}: use kb or all");
            std::process::exit(2);
        }
    }
}
