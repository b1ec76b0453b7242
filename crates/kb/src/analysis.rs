//! Language-aware text analysis: each passage is indexed in the field of its language, whose
//! analyzer lowercases, drops that language's stop words, stems, and folds accents. Chinese,
//! Japanese and Korean have no spaces to split on, so their runs of characters are indexed as
//! overlapping pairs (bigrams), which match words of any length without a dictionary.

/// An analyser of [`Lang::analyzer`]: made once, used for many texts with [`terms`].
pub use tantivy::tokenizer::TextAnalyzer;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, Token,
    TokenStream, Tokenizer,
};

/// The languages the index knows, each a field of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    English,
    German,
    French,
    Spanish,
    Italian,
    Portuguese,
    Dutch,
    Russian,
    Swedish,
    Danish,
    Norwegian,
    Finnish,
    Hungarian,
    Romanian,
    Turkish,
    Greek,
    Arabic,
    /// Chinese, Japanese, Korean: bigrams.
    Cjk,
    /// Anything else: words, lowercased and folded, without stemming.
    Other,
}

impl Lang {
    pub const ALL: [Lang; 19] = [
        Lang::English,
        Lang::German,
        Lang::French,
        Lang::Spanish,
        Lang::Italian,
        Lang::Portuguese,
        Lang::Dutch,
        Lang::Russian,
        Lang::Swedish,
        Lang::Danish,
        Lang::Norwegian,
        Lang::Finnish,
        Lang::Hungarian,
        Lang::Romanian,
        Lang::Turkish,
        Lang::Greek,
        Lang::Arabic,
        Lang::Cjk,
        Lang::Other,
    ];

    /// The field suffix and the name shown in the API (ISO 639-1 where there is one).
    pub fn code(self) -> &'static str {
        match self {
            Lang::English => "en",
            Lang::German => "de",
            Lang::French => "fr",
            Lang::Spanish => "es",
            Lang::Italian => "it",
            Lang::Portuguese => "pt",
            Lang::Dutch => "nl",
            Lang::Russian => "ru",
            Lang::Swedish => "sv",
            Lang::Danish => "da",
            Lang::Norwegian => "no",
            Lang::Finnish => "fi",
            Lang::Hungarian => "hu",
            Lang::Romanian => "ro",
            Lang::Turkish => "tr",
            Lang::Greek => "el",
            Lang::Arabic => "ar",
            Lang::Cjk => "cjk",
            Lang::Other => "other",
        }
    }

    fn stemming(self) -> Option<Language> {
        Some(match self {
            Lang::English => Language::English,
            Lang::German => Language::German,
            Lang::French => Language::French,
            Lang::Spanish => Language::Spanish,
            Lang::Italian => Language::Italian,
            Lang::Portuguese => Language::Portuguese,
            Lang::Dutch => Language::Dutch,
            Lang::Russian => Language::Russian,
            Lang::Swedish => Language::Swedish,
            Lang::Danish => Language::Danish,
            Lang::Norwegian => Language::Norwegian,
            Lang::Finnish => Language::Finnish,
            Lang::Hungarian => Language::Hungarian,
            Lang::Romanian => Language::Romanian,
            Lang::Turkish => Language::Turkish,
            Lang::Greek => Language::Greek,
            Lang::Arabic => Language::Arabic,
            Lang::Cjk | Lang::Other => return None,
        })
    }

    /// The language of `text`: its best guess, or `fallback` when there is none. A wrong guess
    /// costs little — a query is analysed for every field anyway — so even an unsure guess is
    /// better than no stemming at all.
    pub fn detect(text: &str, fallback: Lang) -> Lang {
        if text.chars().filter(|c| is_cjk(*c)).count() * 3 > text.chars().count() {
            return Lang::Cjk;
        }
        whatlang::detect(text).map_or(fallback, |info| Lang::from_whatlang(info.lang()))
    }

    /// The language of `text` if the guess is reliable, else `fallback`: for short passages,
    /// whose document's language is the better guess.
    pub fn detect_reliably(text: &str, fallback: Lang) -> Lang {
        if text.chars().filter(|c| is_cjk(*c)).count() * 3 > text.chars().count() {
            return Lang::Cjk;
        }
        match whatlang::detect(text) {
            Some(info) if info.is_reliable() => Lang::from_whatlang(info.lang()),
            _ => fallback,
        }
    }

    /// The language named by an ISO 639-1 code (`de`, `pt-BR`), if the index has a field for it.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" | "ja" | "ko" => Some(Lang::Cjk),
            other => Lang::ALL.into_iter().find(|l| l.code() == other && *l != Lang::Other),
        }
    }

    fn from_whatlang(lang: whatlang::Lang) -> Lang {
        use whatlang::Lang as W;
        match lang {
            W::Eng => Lang::English,
            W::Deu => Lang::German,
            W::Fra => Lang::French,
            W::Spa => Lang::Spanish,
            W::Ita => Lang::Italian,
            W::Por => Lang::Portuguese,
            W::Nld => Lang::Dutch,
            W::Rus => Lang::Russian,
            W::Swe => Lang::Swedish,
            W::Dan => Lang::Danish,
            W::Nob => Lang::Norwegian,
            W::Fin => Lang::Finnish,
            W::Hun => Lang::Hungarian,
            W::Ron => Lang::Romanian,
            W::Tur => Lang::Turkish,
            W::Ell => Lang::Greek,
            W::Ara => Lang::Arabic,
            W::Cmn | W::Jpn | W::Kor => Lang::Cjk,
            _ => Lang::Other,
        }
    }

    /// The analyzer of this language's field (and of queries against it).
    pub fn analyzer(self) -> TextAnalyzer {
        let mut builder = TextAnalyzer::builder(WordsAndBigrams)
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
            .dynamic();
        if let Some(language) = self.stemming() {
            let stop_words = match language {
                // tantivy's English list is Lucene's 33 words; support questions are full of
                // "does", "when" and "my" too.
                Language::English => {
                    Some(StopWordFilter::remove(ENGLISH_STOP_WORDS.iter().map(|w| (*w).to_owned())))
                }
                other => StopWordFilter::new(other),
            };
            if let Some(stop_words) = stop_words {
                builder = builder.filter_dynamic(stop_words);
            }
            builder = builder.filter_dynamic(Stemmer::new(language));
        }
        builder.filter_dynamic(AsciiFoldingFilter).build()
    }
}

/// The Snowball project's English stop words, as the tokenizer splits them (`doesn't` gives
/// `doesn` and `t`).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "would",
    "should",
    "could",
    "ought",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "m",
    "re",
    "ve",
    "d",
    "ll",
    "isn",
    "aren",
    "wasn",
    "weren",
    "hasn",
    "haven",
    "hadn",
    "doesn",
    "don",
    "didn",
    "won",
    "wouldn",
    "shan",
    "shouldn",
    "cannot",
    "couldn",
    "mustn",
    "let",
];

/// Han, kana and Hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}'   // Hiragana, Katakana
        | '\u{3400}'..='\u{4dbf}' // CJK Extension A
        | '\u{4e00}'..='\u{9fff}' // CJK Unified Ideographs
        | '\u{f900}'..='\u{faff}' // Compatibility Ideographs
        | '\u{ac00}'..='\u{d7af}' // Hangul syllables
        | '\u{1100}'..='\u{11ff}' // Hangul Jamo
        | '\u{20000}'..='\u{2ffff}')
}

/// Words of letters and digits; runs of CJK characters as overlapping bigrams (a single
/// character on its own).
#[derive(Clone, Default)]
pub struct WordsAndBigrams;

pub struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for WordsAndBigrams {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        Tokens { tokens: tokens(text), next: 0 }
    }
}

fn tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut push = |from: usize, to: usize| {
        let position = tokens.len();
        tokens.push(Token {
            offset_from: from,
            offset_to: to,
            position,
            text: text[from..to].to_owned(),
            position_length: 1,
        });
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |(at, _)| *at);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if is_cjk(c) {
            let run_end = (i..chars.len()).find(|&j| !is_cjk(chars[j].1)).unwrap_or(chars.len());
            if run_end - i == 1 {
                push(start, end_of(i + 1));
            }
            for (j, (at, _)) in chars.iter().enumerate().take(run_end.saturating_sub(1)).skip(i) {
                push(*at, end_of(j + 2));
            }
            i = run_end;
        } else if c.is_alphanumeric() {
            let word_end = (i..chars.len())
                .find(|&j| !chars[j].1.is_alphanumeric() || is_cjk(chars[j].1))
                .unwrap_or(chars.len());
            push(start, end_of(word_end));
            i = word_end;
        } else {
            i += 1;
        }
    }
    tokens
}

/// The terms `analyzer` makes of `text`, in order.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        terms.push(stream.token().text.clone());
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyse(lang: Lang, text: &str) -> Vec<String> {
        terms(&mut lang.analyzer(), text)
    }

    #[test]
    fn words_and_cjk_bigrams() {
        let texts: Vec<String> =
            tokens("Order #4521: 退货政策 ok 字").into_iter().map(|t| t.text).collect();
        assert_eq!(texts, ["Order", "4521", "退货", "货政", "政策", "ok", "字"]);
    }

    #[test]
    fn each_language_stems_and_drops_its_stop_words() {
        assert_eq!(analyse(Lang::English, "The returns are returned"), ["return", "return"]);
        assert_eq!(
            analyse(Lang::German, "Die Rücksendungen und Rücksendung"),
            ["rucksend", "rucksend"]
        );
        assert_eq!(analyse(Lang::French, "les livraisons"), ["livraison"]);
        assert_eq!(analyse(Lang::Russian, "доставка доставки"), ["доставк", "доставк"]);
        assert_eq!(analyse(Lang::Other, "Größe LAMP-2"), ["grosse", "lamp", "2"]);
    }

    #[test]
    fn detection_names_the_language_or_falls_back() {
        assert_eq!(
            Lang::detect("Wie lange dauert der Versand nach Österreich?", Lang::Other),
            Lang::German
        );
        assert_eq!(Lang::detect("退货政策是什么", Lang::English), Lang::Cjk);
        assert_eq!(Lang::detect("", Lang::English), Lang::English);
        assert_eq!(Lang::from_code("pt-BR"), Some(Lang::Portuguese));
        assert_eq!(Lang::from_code("ja"), Some(Lang::Cjk));
        assert_eq!(Lang::from_code("xx"), None);
    }
}
