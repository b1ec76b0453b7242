//! Distils Lingua's n-gram models (1- to 5-grams, conditional log-probabilities as `f64`) into
//! the compact model of `sb_llm::language`:
//!
//! - n-grams seen fewer than about four times in Lingua's training text are left out (an n-gram's
//!   joint log-probability, the sum of its own and its prefixes' conditional log-probabilities,
//!   below [`MIN_JOINT_LN`] by default); a left-out n-gram is scored like one Lingua never saw, through its
//!   prefix;
//! - each conditional log-probability is stored as `round(-ln p / 0.1)`, a small integer that the
//!   FST stores in a byte or two.
//!
//! File layout (all integers little-endian): `SBLM` `u8 version` `u8 languages`, then per language
//! a two-letter ISO 639-1 code, a `u32` length and that many bytes of an `fst::Map`.

use std::collections::HashMap;

use fst::{MapBuilder, Streamer};

/// The default of the second argument; `-100` keeps every n-gram.
const MIN_JOINT_LN: f64 = -17.0;
const STEP: f64 = 0.1;

macro_rules! model {
    ($code:literal, $krate:ident, $dir:ident) => {
        ($code, $krate::$dir.get_file("ngrams.fst").expect("ngrams.fst").contents())
    };
}

fn main() {
    // Arguments: the file to write, and the joint log-probability below which n-grams are left out.
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "../../crates/llm/data/ngrams.bin".into());
    let min_joint_ln: f64 = args.next().map_or(MIN_JOINT_LN, |v| v.parse().expect("a number"));
    let models: Vec<(&str, &[u8])> = vec![
        model!("cs", lingua_czech_language_model, CZECH_MODELS_DIRECTORY),
        model!("da", lingua_danish_language_model, DANISH_MODELS_DIRECTORY),
        model!("de", lingua_german_language_model, GERMAN_MODELS_DIRECTORY),
        model!("en", lingua_english_language_model, ENGLISH_MODELS_DIRECTORY),
        model!("es", lingua_spanish_language_model, SPANISH_MODELS_DIRECTORY),
        model!("fi", lingua_finnish_language_model, FINNISH_MODELS_DIRECTORY),
        model!("fr", lingua_french_language_model, FRENCH_MODELS_DIRECTORY),
        model!("hu", lingua_hungarian_language_model, HUNGARIAN_MODELS_DIRECTORY),
        model!("it", lingua_italian_language_model, ITALIAN_MODELS_DIRECTORY),
        model!("nb", lingua_bokmal_language_model, BOKMAL_MODELS_DIRECTORY),
        model!("nl", lingua_dutch_language_model, DUTCH_MODELS_DIRECTORY),
        model!("pl", lingua_polish_language_model, POLISH_MODELS_DIRECTORY),
        model!("pt", lingua_portuguese_language_model, PORTUGUESE_MODELS_DIRECTORY),
        model!("ro", lingua_romanian_language_model, ROMANIAN_MODELS_DIRECTORY),
        model!("ru", lingua_russian_language_model, RUSSIAN_MODELS_DIRECTORY),
        model!("sv", lingua_swedish_language_model, SWEDISH_MODELS_DIRECTORY),
        model!("tr", lingua_turkish_language_model, TURKISH_MODELS_DIRECTORY),
        model!("uk", lingua_ukrainian_language_model, UKRAINIAN_MODELS_DIRECTORY),
    ];
    let mut file = b"SBLM".to_vec();
    file.push(1);
    file.push(u8::try_from(models.len()).expect("languages"));
    for (code, bytes) in models {
        let (fst, kept, all) = distil(bytes, min_joint_ln);
        eprintln!("{code}: {kept} of {all} n-grams, {} bytes", fst.len());
        file.extend_from_slice(code.as_bytes());
        file.extend_from_slice(&u32::try_from(fst.len()).expect("size").to_le_bytes());
        file.extend_from_slice(&fst);
    }
    std::fs::write(&out, &file).expect("write the model");
    eprintln!("{out}: {} bytes", file.len());
}

fn distil(bytes: &[u8], min_joint_ln: f64) -> (Vec<u8>, usize, usize) {
    let map = fst::Map::new(bytes).expect("a Lingua model");
    let mut conditional: Vec<(String, f64)> = Vec::new();
    let mut stream = map.stream();
    while let Some((key, value)) = stream.next() {
        let ngram = String::from_utf8(key.to_vec()).expect("UTF-8 n-gram");
        conditional.push((ngram, f64::from_bits(value)));
    }
    let all = conditional.len();
    // Joint log-probabilities, shortest n-grams first so that every prefix is known.
    conditional.sort_by_key(|(ngram, _)| ngram.chars().count());
    let mut joint: HashMap<String, f64> = HashMap::with_capacity(all);
    for (ngram, ln) in &conditional {
        let prefix = ngram.char_indices().last().map_or(0, |(at, _)| at);
        let value = if prefix == 0 {
            *ln
        } else {
            joint.get(&ngram[..prefix]).copied().unwrap_or(f64::NEG_INFINITY) + ln
        };
        joint.insert(ngram.clone(), value);
    }
    let mut kept: Vec<(String, u64)> = conditional
        .into_iter()
        .filter(|(ngram, _)| ngram.chars().count() == 1 || joint[ngram] >= min_joint_ln)
        .map(|(ngram, ln)| {
            let step = (-ln / STEP).round().clamp(0.0, 65535.0) as u64;
            (ngram, step)
        })
        .collect();
    kept.sort();
    let mut builder = MapBuilder::memory();
    for (ngram, step) in &kept {
        builder.insert(ngram, *step).expect("sorted keys");
    }
    (builder.into_inner().expect("FST"), kept.len(), all)
}
