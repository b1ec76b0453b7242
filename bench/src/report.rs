//! Shared measuring and printing: latency percentiles, resident memory, the targets' verdicts,
//! and the Markdown the results are written in.

use std::time::Duration;

/// Appends a line to a `String` report, like `println!`.
macro_rules! out {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use out;

/// Percentiles of a set of timings.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
}

impl Stats {
    pub fn of(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        let at = |q: f64| {
            let i = ((times.len() as f64 - 1.0) * q).round() as usize;
            times.get(i).copied().unwrap_or_default()
        };
        Self { p50: at(0.50), p95: at(0.95), p99: at(0.99) }
    }
}

/// Resident memory of this process in KiB (Linux), if known.
pub fn rss_kib() -> Option<u64> {
    rss_kib_of("/proc/self/status")
}

/// `VmRSS` from a `/proc/<pid>/status` file, in KiB.
pub fn rss_kib_of(status: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Microseconds, with a decimal below ten.
pub fn micros(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 10.0 { format!("{us:.1} µs") } else { format!("{us:.0} µs") }
}

/// A target of the benchmarks and whether this run met it.
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

impl Verdict {
    pub fn new(target: impl Into<String>, measured: impl Into<String>, met: bool) -> Self {
        Self { target: target.into(), measured: measured.into(), met }
    }
}

pub fn print_verdicts(verdicts: &[Verdict], out: &mut String) {
    out!(out, "## Targets\n");
    out!(out, "| target | measured | met |");
    out!(out, "|---|---:|:---:|");
    for v in verdicts {
        out!(out, "| {} | {} | {} |", v.target, v.measured, if v.met { "yes" } else { "**no**" });
    }
    out!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let times = (1..=100).map(Duration::from_millis).collect();
        let stats = Stats::of(times);
        assert_eq!(
            (stats.p50.as_millis(), stats.p95.as_millis(), stats.p99.as_millis()),
            (51, 95, 99)
        );
    }

    #[test]
    fn the_report_lists_each_verdict() {
        let mut out = String::new();
        print_verdicts(&[Verdict::new("a", "1", true), Verdict::new("b", "2", false)], &mut out);
        assert!(out.contains("| a | 1 | yes |") && out.contains("| b | 2 | **no** |"), "{out}");
    }
}
