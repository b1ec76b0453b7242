//! Which language a visitor writes in, as an ISO 639-1 code.
//!
//! Two detectors, chosen by the text's script (measurements in bench/RESULTS.md, "Language
//! detection"):
//!
//! - Latin and Cyrillic text, where close relatives get confused on short messages: an n-gram
//!   model of 18 languages ([`MODEL_LANGUAGES`]) scored the way Lingua's high-accuracy mode scores
//!   text (1- to 5-grams, each backing off to its prefix when unseen), from Lingua's models
//!   distilled into `data/ngrams.bin` by `tools/lang-model`. A few letters decide outright
//!   (ß is German, ř Czech, ő Hungarian…), and Vietnamese is recognised by its letters.
//! - Every other script (Greek, Hebrew, Arabic, Chinese, Japanese, Korean, Thai, Devanagari…):
//!   whatlang, which tells the languages of one script apart.
//!
//! Latin- and Cyrillic-script languages outside the model (Catalan, Croatian, Slovak, Bulgarian…)
//! are not detected; a conversation already in one of them keeps it (see
//! [`detect_with_prior`]).

use std::collections::HashSet;
use std::sync::LazyLock;

use whatlang::{Lang, Script};

/// The model: `SBLM`, a version byte, the number of languages, then per language its code, the
/// length of its FST (`u32` little-endian) and the FST, mapping each n-gram to
/// `round(-ln p / 0.1)`, `p` the n-gram's probability given its prefix.
static MODEL_FILE: &[u8] = include_bytes!("../data/ngrams.bin");
const LN_STEP: f64 = 0.1;

/// The languages of the n-gram model, in the model file's order.
pub const MODEL_LANGUAGES: [&str; 18] = [
    "cs", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nb", "nl", "pl", "pt", "ro", "ru", "sv",
    "tr", "uk",
];
const CYRILLIC: [&str; 2] = ["ru", "uk"];

/// Below this many letters a text says nothing ("ok", "4521", "?").
const MIN_LETTERS: usize = 4;
/// A guess without a prior is sure from this confidence on.
const SURE: f64 = 0.5;
/// Away from a prior the detector can judge, a guess must reach this confidence and lead the
/// prior by more than [`LEAD`].
const SWITCH: f64 = 0.25;
const LEAD: f64 = 0.25;
/// Below this many letters, a message only leaves its prior when the guess is all but certain:
/// "ok thanks", "Danke!", a product name.
const SHORT_LETTERS: usize = 12;
const CERTAIN: f64 = 0.9;

/// One language's n-grams.
type Model = fst::Map<&'static [u8]>;

static MODELS: LazyLock<Vec<(&'static str, Model)>> = LazyLock::new(|| {
    let file = MODEL_FILE;
    assert!(file.starts_with(b"SBLM") && file[4] == 1, "data/ngrams.bin: not a model file");
    let count = usize::from(file[5]);
    let mut at = 6;
    let mut models = Vec::with_capacity(count);
    for _ in 0..count {
        let code = std::str::from_utf8(&file[at..at + 2]).expect("language code");
        let code = MODEL_LANGUAGES.iter().find(|c| **c == code).expect("a model language");
        let len = u32::from_le_bytes(file[at + 2..at + 6].try_into().expect("length")) as usize;
        let bytes = &file[at + 6..at + 6 + len];
        models.push((*code, fst::Map::new(bytes).expect("an FST")));
        at += 6 + len;
    }
    assert_eq!(models.len(), MODEL_LANGUAGES.len(), "data/ngrams.bin: languages");
    models
});

/// Loads the model; the first detection does it otherwise.
pub fn warm_up() {
    LazyLock::force(&MODELS);
}

/// ISO 639-1 code of each language whatlang knows.
fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

/// Whether whatlang's languages of `script` are detected by whatlang (not the n-gram model).
fn by_whatlang(script: Script) -> bool {
    !matches!(script, Script::Latin | Script::Cyrillic)
}

/// Every code [`detect`] can return: the model's languages, Vietnamese, and the languages of the
/// other scripts.
pub fn supported() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = MODEL_LANGUAGES.to_vec();
    codes.push("vi");
    for script in Script::all().iter().filter(|s| by_whatlang(**s)) {
        codes.extend(script.langs().iter().map(|l| iso639_1(*l)));
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// The number of languages [`detect`] can tell apart.
pub fn supported_languages() -> usize {
    supported().len()
}

/// A detected language and whether the detector is sure of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    pub code: &'static str,
    /// Sure enough to override a language the visitor already has.
    pub reliable: bool,
}

/// The candidates for a text and how confident the detector is in each (summing to 1, highest
/// first); `certain` when a rule decided (a script or letters of one language).
#[derive(Debug, Clone, PartialEq)]
pub struct Confidences {
    pub values: Vec<(&'static str, f64)>,
    pub certain: bool,
    script: Script,
}

impl Confidences {
    fn top(&self) -> (&'static str, f64) {
        self.values.first().copied().unwrap_or(("", 0.0))
    }

    fn of(&self, code: &str) -> Option<f64> {
        self.values.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
    }
}

/// The text without what says nothing about its language: e-mail addresses, URLs and tokens
/// with no letters (order numbers, prices).
pub fn clean(text: &str) -> String {
    text.split_whitespace()
        .filter(|token| {
            let lower = token.to_lowercase();
            let url = lower.contains("://") || lower.starts_with("www.");
            let email = token.contains('@');
            !url && !email && token.chars().any(char::is_alphabetic)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The language of `text` with no other clue: the best guess once the text has a few letters;
/// `reliable` when the detector is sure.
pub fn detect(text: &str) -> Option<Detection> {
    let found = confidences(text)?;
    let (code, confidence) = found.top();
    Some(Detection { code, reliable: found.certain || confidence >= SURE })
}

/// The language of `text` in a conversation whose language is `prior` (the browser's language,
/// then what the conversation's messages established). The answer is the prior unless the text
/// makes a confident case for another language, so an unsure guess never switches a
/// conversation:
///
/// - a guess must reach a confidence of 0.25 (0.9 for messages of fewer than 12 letters: "ok
///   thanks", "Danke!", a product name) and lead the prior's own confidence by more than 0.25;
/// - a rule's answer (a script of one language, letters of one language) is taken;
/// - a prior the detector cannot judge in the text's script (Croatian or Catalan, or Vietnamese
///   without its letters, in Latin script) is left only for a rule's answer.
///
/// The answer is `reliable` when it differs from the prior or the text confirms the prior; `None`
/// only when a prior this module has no code for stands.
pub fn detect_with_prior(text: &str, prior: Option<&str>) -> Option<Detection> {
    let Some(tag) = prior else { return detect(text) };
    let Some(prior) = known_code(tag) else {
        // A language this module has no code for: only a rule's answer says otherwise.
        return confidences(text)
            .filter(|found| found.certain)
            .map(|found| Detection { code: found.top().0, reliable: true });
    };
    let Some(found) = confidences(text) else {
        return Some(Detection { code: prior, reliable: false });
    };
    let (top, confidence) = found.top();
    if top == prior {
        return Some(Detection { code: prior, reliable: true });
    }
    let letters = clean(text).chars().filter(|c| c.is_alphabetic()).count();
    // The prior is judged when it is a candidate or a language of another script (confidence 0);
    // otherwise (Croatian, or Vietnamese without its letters, in Latin script) it stands.
    let judged = found.of(prior).is_some() || script_of(prior).is_some_and(|s| s != found.script);
    let switch = if found.certain {
        true
    } else if !judged {
        false
    } else {
        let lead = confidence - found.of(prior).unwrap_or(0.0);
        let needed = if letters < SHORT_LETTERS { CERTAIN } else { SWITCH };
        confidence >= needed && lead > LEAD
    };
    Some(if switch {
        Detection { code: top, reliable: true }
    } else {
        Detection { code: prior, reliable: false }
    })
}

/// The script a detected language is written in; `None` for a language not detected.
fn script_of(code: &str) -> Option<Script> {
    if CYRILLIC.contains(&code) {
        Some(Script::Cyrillic)
    } else if MODEL_LANGUAGES.contains(&code) || code == "vi" {
        Some(Script::Latin)
    } else {
        Script::all()
            .iter()
            .copied()
            .filter(|s| by_whatlang(*s))
            .find(|s| s.langs().iter().any(|l| iso639_1(*l) == code))
    }
}

/// A language tag as a code of this module ("de-AT" → "de"; Norwegian as Bokmål); `None` for a
/// language it does not know.
fn known_code(tag: &str) -> Option<&'static str> {
    let primary = primary(tag);
    Lang::all().iter().map(|l| iso639_1(*l)).find(|c| *c == primary)
}

/// The primary language of a tag, lower case ("de-AT" → "de"); Norwegian and Nynorsk tags as
/// Bokmål ("nb"), which their readers read.
pub fn primary(tag: &str) -> String {
    let primary = tag.split(['-', '_']).next().unwrap_or(tag).to_ascii_lowercase();
    match primary.as_str() {
        "no" | "nn" => "nb".to_owned(),
        _ => primary,
    }
}

/// How confident the detector is in each candidate language of `text`; `None` when the text has
/// too few letters to judge.
pub fn confidences(text: &str) -> Option<Confidences> {
    let text = clean(text);
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let script = whatlang::detect_script(&text)?;
    if by_whatlang(script) {
        let info = whatlang::detect(&text)?;
        let langs: Vec<&'static str> = script.langs().iter().map(|l| iso639_1(*l)).collect();
        let certain = langs.len() == 1;
        let values = if certain {
            vec![(langs[0], 1.0)]
        } else if info.is_reliable() {
            let code = iso639_1(info.lang());
            let rest = (1.0 - info.confidence()) / (langs.len() - 1) as f64;
            std::iter::once((code, info.confidence()))
                .chain(langs.iter().filter(|c| **c != code).map(|c| (*c, rest)))
                .collect()
        } else {
            // No telling (Arabic or Persian, Hebrew or Yiddish): the script's main language
            // first, with no more confidence than the others.
            langs.iter().map(|c| (*c, 1.0 / langs.len() as f64)).collect()
        };
        return Some(Confidences { values, certain, script });
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()).collect();
    let candidates: Vec<&'static str> = if script == Script::Cyrillic {
        CYRILLIC.to_vec()
    } else {
        MODEL_LANGUAGES.iter().copied().filter(|c| !CYRILLIC.contains(c)).collect()
    };
    if script == Script::Latin && is_vietnamese(&words) {
        return Some(Confidences { values: vec![("vi", 1.0)], certain: true, script });
    }
    if let Some(code) = decided_by_letters(&words) {
        let values = std::iter::once((code, 1.0))
            .chain(candidates.iter().filter(|c| **c != code).map(|c| (*c, 0.0)))
            .collect();
        return Some(Confidences { values, certain: true, script });
    }
    Some(Confidences { values: score(&words, &candidates), certain: false, script })
}

/// Letters only one of the model's languages uses; a text whose words mostly carry the letters of
/// one language is that language (Lingua's rule).
fn unique_language(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "de",
        'ě' | 'ř' | 'ů' => "cs",
        'ő' | 'ű' => "hu",
        'ł' | 'ń' | 'ś' | 'ź' => "pl",
        'ţ' => "ro",
        _ => return None,
    })
}

fn decided_by_letters(words: &[&str]) -> Option<&'static str> {
    let mut counts: Vec<(Option<&'static str>, usize)> = Vec::new();
    for word in words {
        let languages: HashSet<&'static str> = word.chars().filter_map(unique_language).collect();
        let key = (languages.len() == 1).then(|| *languages.iter().next().expect("one"));
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    let unknown = counts.iter().find(|(k, _)| k.is_none()).map_or(0, |(_, n)| *n);
    if (unknown as f64) < words.len() as f64 * 0.5 {
        counts.retain(|(k, _)| k.is_some());
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    match counts.as_slice() {
        [(only, _)] => *only,
        [(first, a), (_, b), ..] if a > b => *first,
        _ => None,
    }
}

/// Vietnamese: most words carry its letters (ơ, ư, đ, or a vowel with a hook or dot below).
fn is_vietnamese(words: &[&str]) -> bool {
    let marked = |c: char| matches!(c, 'ơ' | 'ư' | 'đ' | '\u{1EA0}'..='\u{1EF9}');
    let with = words.iter().filter(|w| w.chars().any(marked)).count();
    with > 0 && with * 2 >= words.len()
}

/// Lingua's scoring: for each n from 1 to 5 (only 3 from 120 letters on), the log-probabilities
/// of the text's distinct n-grams, each backing off to its longest known prefix; summed, divided
/// by the number of known unigrams, and normalised.
fn score(words: &[&str], candidates: &[&'static str]) -> Vec<(&'static str, f64)> {
    let letters: usize = words.iter().map(|w| w.chars().count()).sum();
    let lengths = if letters >= 120 { 3..=3 } else { 1..=5 };
    let ngrams: Vec<(usize, HashSet<&str>)> =
        lengths.filter(|n| letters >= *n).map(|n| (n, ngrams_of(words, n))).collect();
    let mut sums: Vec<(&'static str, f64)> = Vec::with_capacity(candidates.len());
    for (code, model) in MODELS.iter().filter(|(c, _)| candidates.contains(c)) {
        // Whole steps of 0.1 added as integers: the same sum in whatever order the n-grams come.
        let mut steps = 0u64;
        let mut known_unigrams = 0u64;
        for (n, grams) in &ngrams {
            for gram in grams {
                if let Some(step) = steps_of(model, gram) {
                    steps += step;
                    if *n == 1 {
                        known_unigrams += 1;
                    }
                }
            }
        }
        if steps > 0 {
            sums.push((code, -(steps as f64) * LN_STEP / known_unigrams.max(1) as f64));
        }
    }
    let best = sums.iter().map(|(_, s)| *s).fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = sums.iter().map(|(_, s)| (s - best).exp()).sum();
    let mut values: Vec<(&'static str, f64)> = candidates
        .iter()
        .map(|c| {
            let value =
                sums.iter().find(|(s, _)| s == c).map_or(0.0, |(_, s)| (s - best).exp() / total);
            (*c, value)
        })
        .collect();
    values.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    values
}

/// `-ln p / 0.1` of `gram`, or of its longest prefix the model knows.
fn steps_of(model: &Model, gram: &str) -> Option<u64> {
    let mut gram = gram;
    loop {
        if let Some(step) = model.get(gram) {
            return Some(step);
        }
        let (last, _) = gram.char_indices().last()?;
        if last == 0 {
            return None;
        }
        gram = &gram[..last];
    }
}

fn ngrams_of<'a>(words: &[&'a str], n: usize) -> HashSet<&'a str> {
    let mut grams = HashSet::new();
    for word in words {
        let bounds: Vec<usize> =
            word.char_indices().map(|(at, _)| at).chain([word.len()]).collect();
        for window in bounds.windows(n + 1) {
            grams.insert(&word[window[0]..window[n]]);
        }
    }
    grams
}

/// The English name of a language code, for prompts ("de" → "German"); the code itself if unknown.
pub fn name(code: &str) -> String {
    match known_code(code) {
        Some("nb") => "Norwegian".to_owned(),
        Some(known) => Lang::all()
            .iter()
            .find(|lang| iso639_1(**lang) == known)
            .map_or_else(|| code.to_owned(), |lang| lang.eng_name().to_owned()),
        None => code.to_owned(),
    }
}
