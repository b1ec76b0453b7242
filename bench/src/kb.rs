//! Knowledge-base search latency against corpus size. The baseline is what an index saves: a
//! scan of the tenant's passages counting the query's words, run on the same corpus and queries.

use std::time::{Duration, Instant};

use sb_kb::{IndexedChunk, KbIndex, Lang};

use crate::report::{Stats, Verdict, micros, out, rss_kib};

/// Passages are spread over this many tenants; searches run in one of them.
const TENANTS: usize = 10;
const WORDS_PER_PASSAGE: usize = 120;
const QUERIES: usize = 200;

/// A small deterministic generator (xorshift): the same corpus on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// In `0..n`, skewed towards small values the way word frequencies are (roughly Zipf).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64) * u.powi(3)) as usize % n
    }
}

/// Pronounceable made-up words, so stemming and stop words behave as on text.
fn vocabulary(size: usize) -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "ren", "mi", "tor", "sa", "vel", "dun", "pri", "ma", "gel", "nor", "shi",
        "bak", "tes", "lun", "ro", "fen", "dar", "qui", "zo", "pel", "win", "cos",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut words = vec!["the".to_owned(), "order".into(), "return".into(), "delivery".into()];
    while words.len() < size {
        let syllables = 2 + (rng.next() % 3) as usize;
        let word: String = (0..syllables).map(|_| SYLLABLES[(rng.next() % 24) as usize]).collect();
        words.push(word);
    }
    words
}

fn corpus(passages: usize, words: &[String]) -> Vec<IndexedChunk> {
    let mut rng = Rng(42 + passages as u64);
    (0..passages)
        .map(|i| {
            let text: Vec<&str> =
                (0..WORDS_PER_PASSAGE).map(|_| words[rng.skewed(words.len())].as_str()).collect();
            IndexedChunk {
                chunk_id: format!("chk_{i}"),
                document_id: format!("doc_{}", i / 8),
                tenant_id: format!("tenant_{}", i % TENANTS),
                widgets: Vec::new(),
                title: format!("Document {}", i / 8),
                text: text.join(" "),
                lang: Lang::English,
            }
        })
        .collect()
}

fn queries(words: &[String]) -> Vec<String> {
    let mut rng = Rng(7);
    (0..QUERIES)
        .map(|_| {
            let n = 3 + (rng.next() % 4) as usize;
            // Mid-frequency words: what questions are made of.
            (0..n)
                .map(|_| words[50 + rng.skewed(words.len() - 50)].clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The baseline: score every passage of the tenant by how often it holds the query's words.
fn scan(passages: &[&IndexedChunk], query: &str) -> Vec<usize> {
    let wanted: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut scored: Vec<(usize, usize)> = passages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let hits = p
                .text
                .split_whitespace()
                .filter(|w| wanted.iter().any(|q| q.eq_ignore_ascii_case(w)))
                .count();
            (hits, i)
        })
        .filter(|(hits, _)| *hits > 0)
        .collect();
    scored.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().take(5).map(|(_, i)| i).collect()
}

pub struct Row {
    pub passages: usize,
    pub build: Duration,
    pub memory_kib: Option<u64>,
    pub index: Stats,
    pub scan: Stats,
}

/// [`measure`] in a fresh child process (`switchboard-bench __kb <passages>`), so that the
/// memory an index takes is not hidden by memory an earlier measurement freed.
pub fn measure_apart(passages: usize) -> anyhow::Result<Row> {
    let exe = std::env::current_exe()?;
    let output = std::process::Command::new(exe).args(["__kb", &passages.to_string()]).output()?;
    anyhow::ensure!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let line = String::from_utf8_lossy(&output.stdout);
    let n: Vec<u64> = line.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
    let [build, memory, p50, p95, p99, scan50, scan95, scan99] = n[..] else {
        anyhow::bail!("unexpected answer from the child: {line}");
    };
    let nanos = Duration::from_nanos;
    Ok(Row {
        passages,
        build: nanos(build),
        memory_kib: (memory != u64::MAX).then_some(memory),
        index: Stats { p50: nanos(p50), p95: nanos(p95), p99: nanos(p99) },
        scan: Stats { p50: nanos(scan50), p95: nanos(scan95), p99: nanos(scan99) },
    })
}

/// The child's side of [`measure_apart`]: one line of numbers.
pub fn measure_and_print(passages: usize) {
    let row = measure(passages);
    let nanos = |d: Duration| d.as_nanos() as u64;
    println!(
        "{} {} {} {} {} {} {} {}",
        nanos(row.build),
        row.memory_kib.unwrap_or(u64::MAX),
        nanos(row.index.p50),
        nanos(row.index.p95),
        nanos(row.index.p99),
        nanos(row.scan.p50),
        nanos(row.scan.p95),
        nanos(row.scan.p99)
    );
}

/// Builds an index of `passages` passages in a temporary folder and times searches in it.
pub fn measure(passages: usize) -> Row {
    let words = vocabulary(30_000);
    let chunks = corpus(passages, &words);
    let queries = queries(&words);
    let dir = tempfile::tempdir().expect("temporary folder");
    let before = rss_kib();
    let started = Instant::now();
    let (index, _) = KbIndex::open(Some(dir.path())).expect("index");
    for (i, group) in chunks.chunks(8).enumerate() {
        index.put_document(&format!("doc_{i}"), group).expect("index a document");
    }
    index.commit(1).expect("commit");
    let build = started.elapsed();
    let memory_kib = rss_kib().zip(before).map(|(after, before)| after.saturating_sub(before));

    let tenant = "tenant_3";
    for query in queries.iter().take(20) {
        index.search(tenant, None, query, None, 5).expect("search");
    }
    let index_times: Vec<Duration> = queries
        .iter()
        .map(|query| {
            let started = Instant::now();
            let hits = index.search(tenant, None, query, None, 5).expect("search");
            std::hint::black_box(hits);
            started.elapsed()
        })
        .collect();
    let own: Vec<&IndexedChunk> = chunks.iter().filter(|c| c.tenant_id == tenant).collect();
    let scan_times: Vec<Duration> = queries
        .iter()
        .map(|query| {
            let started = Instant::now();
            std::hint::black_box(scan(&own, query));
            started.elapsed()
        })
        .collect();
    Row { passages, build, memory_kib, index: Stats::of(index_times), scan: Stats::of(scan_times) }
}

pub fn print(rows: &[Row], verdicts: &mut Vec<Verdict>, out: &mut String) {
    out!(out, "## 6. Knowledge-base search latency vs corpus size\n");
    out!(
        out,
        "Passages of 120 generated words (a skewed, word-like frequency over a 30,000-word \
         vocabulary) over ten tenants, indexed on disk; 200 questions of 3–6 mid-frequency words \
         timed in one tenant after 20 warm-up questions. The baseline scans that tenant's \
         passages for the questions' words: what a store without an index would do.\n"
    );
    out!(
        out,
        "| passages | index build | memory | search p50 | p95 | p99 | scan p50 | scan / search |"
    );
    out!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let memory = row.memory_kib.map_or("?".into(), |k| format!("{} MiB", k / 1024));
        let ratio = row.scan.p50.as_secs_f64() / row.index.p50.as_secs_f64().max(1e-9);
        out!(
            out,
            "| {} | {:.1} s | {} | {} | {} | {} | {} | {:.1}x |",
            row.passages,
            row.build.as_secs_f64(),
            memory,
            micros(row.index.p50),
            micros(row.index.p95),
            micros(row.index.p99),
            micros(row.scan.p50),
            ratio
        );
        verdicts.push(Verdict::new(
            format!("6. knowledge-base search p50 under 10 ms at {} passages", row.passages),
            micros(row.index.p50),
            row.index.p50 < Duration::from_millis(10),
        ));
    }
    out!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_something_wherever_the_scan_does() {
        let row = measure(400);
        assert_eq!(row.passages, 400);
        assert!(row.index.p50 > Duration::ZERO && row.scan.p50 > Duration::ZERO);

        let words = vocabulary(30_000);
        let chunks = corpus(400, &words);
        let (index, _) = KbIndex::open(None).expect("index");
        for (i, group) in chunks.chunks(8).enumerate() {
            index.put_document(&format!("doc_{i}"), group).expect("index a document");
        }
        index.commit(1).expect("commit");
        let own: Vec<&IndexedChunk> = chunks.iter().filter(|c| c.tenant_id == "tenant_3").collect();
        let mut found = 0;
        for query in queries(&words) {
            if scan(&own, &query).is_empty() {
                continue;
            }
            found += 1;
            let hits = index.search("tenant_3", None, &query, None, 5).expect("search");
            assert!(!hits.is_empty(), "the scan finds {query:?}, the index does not");
        }
        // The corpus is searchable: most questions have an answer to find.
        assert!(found > QUERIES / 2, "{found}");
    }
}
