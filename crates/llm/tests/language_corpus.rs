//! Language detection measured on a corpus of short support messages (tests/data/
//! support-messages.tsv: 24 languages, 28 messages each, 5 to 120 characters, written for the
//! purpose). Targets: at least 97 % right from 20 characters on and 90 % below, with no prior.
//!
//! The numbers in bench/RESULTS.md come from
//! `cargo test -p sb-llm --release --test language_corpus -- --nocapture`.

use std::time::Instant;

use sb_llm::language::{detect, detect_with_prior};

struct Message {
    lang: String,
    text: String,
}

fn corpus() -> Vec<Message> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/support-messages.tsv");
    let data = std::fs::read_to_string(path).expect("the corpus");
    let mut lines = data.lines();
    assert_eq!(lines.next(), Some("lang\ttext"));
    lines
        .map(|line| {
            let (lang, text) = line.split_once('\t').expect("lang<TAB>text");
            Message { lang: lang.to_owned(), text: text.to_owned() }
        })
        .collect()
}

fn long(m: &Message) -> bool {
    m.text.chars().count() >= 20
}

#[test]
fn corpus_is_what_it_says() {
    let corpus = corpus();
    let mut languages: Vec<&str> = corpus.iter().map(|m| m.lang.as_str()).collect();
    languages.sort_unstable();
    languages.dedup();
    assert!(corpus.len() >= 400, "{}", corpus.len());
    assert!(languages.len() >= 20, "{languages:?}");
    for m in &corpus {
        let chars = m.text.chars().count();
        assert!((5..=120).contains(&chars), "{chars} characters: {}", m.text);
    }
}

#[test]
fn detects_support_messages_without_a_prior() {
    let corpus = corpus();
    let first = Instant::now();
    sb_llm::language::warm_up();
    detect(&corpus[0].text);
    let first = first.elapsed().as_secs_f64() * 1e6;
    let started = Instant::now();
    let found: Vec<Option<&str>> = corpus.iter().map(|m| detect(&m.text).map(|d| d.code)).collect();
    let per_message = started.elapsed().as_secs_f64() * 1e6 / corpus.len() as f64;

    let (mut right, mut total) = ([0usize; 2], [0usize; 2]);
    let mut wrong = Vec::new();
    for (m, found) in corpus.iter().zip(&found) {
        let bucket = usize::from(long(m));
        total[bucket] += 1;
        if *found == Some(m.lang.as_str()) {
            right[bucket] += 1;
        } else {
            wrong.push(format!("  [{}] {} -> {}", m.lang, m.text, found.unwrap_or("none")));
        }
    }
    let percent = |b: usize| 100.0 * right[b] as f64 / total[b] as f64;
    println!("misdetections ({}):\n{}", wrong.len(), wrong.join("\n"));
    println!(
        "20+ characters: {:.1} % ({}/{}); 5-19: {:.1} % ({}/{}); all: {:.1} %; {per_message:.0} µs per message (the first: {first:.0} µs)",
        percent(1),
        right[1],
        total[1],
        percent(0),
        right[0],
        total[0],
        100.0 * (right[0] + right[1]) as f64 / corpus.len() as f64,
    );
    assert!(percent(1) >= 97.0, "20+ characters: {:.1} %", percent(1));
    assert!(percent(0) >= 90.0, "5-19 characters: {:.1} %", percent(0));
}

/// With the conversation's language as the prior: a message in that language keeps it, and a
/// message in another language switches only on a confident guess.
#[test]
fn a_prior_holds_unless_the_message_is_clearly_in_another_language() {
    let corpus = corpus();
    let mut kept = [0usize; 2];
    let mut lost = Vec::new();
    let (mut switched, mut stayed, mut wrongly) = ([0usize; 2], [0usize; 2], Vec::new());
    for m in &corpus {
        let bucket = usize::from(long(m));
        // The right language as the prior: never lost.
        match detect_with_prior(&m.text, Some(&m.lang)).map(|d| d.code) {
            Some(code) if code == m.lang => kept[bucket] += 1,
            other => lost.push(format!("  [{}] {} -> {other:?}", m.lang, m.text)),
        }
        // A wrong prior (an English browser; German for English messages): left when it can be.
        let prior = if m.lang == "en" { "de" } else { "en" };
        match detect_with_prior(&m.text, Some(prior)).map(|d| d.code) {
            Some(code) if code == m.lang => switched[bucket] += 1,
            Some(code) if code == prior => stayed[bucket] += 1,
            other => wrongly.push(format!("  [{}] {} -> {other:?}", m.lang, m.text)),
        }
    }
    println!("right prior lost ({}):\n{}", lost.len(), lost.join("\n"));
    println!(
        "wrong prior, switched to another wrong language ({}):\n{}",
        wrongly.len(),
        wrongly.join("\n")
    );
    println!(
        "right prior kept: 20+ {}, 5-19 {}; wrong prior left for the right language: 20+ {} (kept {}), 5-19 {} (kept {})",
        kept[1], kept[0], switched[1], stayed[1], switched[0], stayed[0]
    );
    assert!(lost.len() <= corpus.len() / 100, "a right prior was lost {} times", lost.len());
    // Close relatives (Danish and Bokmål, Spanish and Portuguese) can still take a wrong prior
    // to the wrong relative.
    assert!(
        wrongly.len() <= corpus.len() * 3 / 100,
        "{} switches to a wrong language",
        wrongly.len()
    );
    let long_total = corpus.iter().filter(|m| long(m)).count();
    assert!(
        switched[1] * 100 >= long_total * 95,
        "only {} of {long_total} long messages switched",
        switched[1]
    );
}
