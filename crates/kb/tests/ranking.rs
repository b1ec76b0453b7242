//! Ranking on a small multilingual corpus with known answers: support questions in eleven
//! languages against FAQ passages written in the same language, phrased differently (other word
//! forms, other words around them). Prints the top-1 accuracy per language.

use std::collections::BTreeMap;

use sb_kb::{IndexedChunk, KbIndex, Lang};
use serde_json::Value;

#[test]
fn top_1_accuracy_on_the_multilingual_corpus() {
    let corpus: Value = serde_json::from_str(include_str!("corpus.json")).unwrap();
    let (index, _) = KbIndex::open(None).unwrap();
    for document in corpus["documents"].as_array().unwrap() {
        let id = document["id"].as_str().unwrap();
        let title = document["title"].as_str().unwrap();
        let text = format!("{title}\n{}", document["text"].as_str().unwrap());
        let chunk = IndexedChunk {
            chunk_id: id.to_owned(),
            document_id: id.to_owned(),
            tenant_id: "acme".into(),
            widgets: Vec::new(),
            title: title.to_owned(),
            lang: Lang::detect(&text, Lang::Other),
            text,
        };
        index.put_document(id, &[chunk]).unwrap();
    }
    index.commit(1).unwrap();

    let mut per_language: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in corpus["queries"].as_array().unwrap() {
        let (query, expected) = (case["query"].as_str().unwrap(), case["expect"].as_str().unwrap());
        let hits = index.search("acme", None, query, None, 3).unwrap();
        let top = hits.first().map(|h| h.document_id.as_str()).unwrap_or("(nothing)");
        let language = expected.split('-').next().unwrap().to_owned();
        let entry = per_language.entry(language).or_default();
        entry.1 += 1;
        if top == expected {
            entry.0 += 1;
        } else {
            misses.push(format!("{query:?}: expected {expected}, got {top}"));
        }
    }
    let (right, total) =
        per_language.values().fold((0, 0), |(r, t), (right, all)| (r + right, t + all));
    let accuracy = right as f64 / total as f64;
    println!("top-1 accuracy: {right}/{total} = {:.1}%", accuracy * 100.0);
    for (language, (right, all)) in &per_language {
        println!("  {language}: {right}/{all}");
    }
    for miss in &misses {
        println!("  miss: {miss}");
    }
    assert!(accuracy >= 0.9, "top-1 accuracy {accuracy:.2} is below 0.9: {misses:#?}");
}
