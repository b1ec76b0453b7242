//! Which language a visitor writes in (70 languages), as an ISO 639-1 code.

use whatlang::Lang;

/// Messages shorter than this are too short to judge at all ("ok", "thanks").
const MIN_CHARS: usize = 12;
/// From this many letters on, the detector's best guess is taken even when it reports low
/// confidence: its confidence measures the gap to the runner-up, which stays small between
/// close relatives (Russian and Ukrainian, Spanish and Portuguese) although the guess is right.
const CONFIDENT_LETTERS: usize = 25;

/// ISO 639-1 code of each language the detector knows.
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

/// The number of languages [`detect`] can tell apart.
pub fn supported_languages() -> usize {
    Lang::all().len()
}

/// A detected language and whether the detector is sure of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    pub code: &'static str,
    /// Sure enough to override a language the visitor already has.
    pub reliable: bool,
}

/// The language of `text`, when the text says enough: the detector is sure, or the text has
/// enough letters for its best guess to be worth having (see [`Detection::reliable`]).
pub fn detect(text: &str) -> Option<Detection> {
    if text.trim().chars().count() < MIN_CHARS {
        return None;
    }
    let info = whatlang::detect(text)?;
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let reliable = info.is_reliable();
    (reliable || letters >= CONFIDENT_LETTERS)
        .then(|| Detection { code: iso639_1(info.lang()), reliable })
}

/// The English name of a language code, for prompts ("de" → "German"); the code itself if unknown.
pub fn name(code: &str) -> String {
    let primary = code.split('-').next().unwrap_or(code).to_ascii_lowercase();
    Lang::all()
        .iter()
        .find(|lang| iso639_1(**lang) == primary)
        .map_or_else(|| code.to_owned(), |lang| lang.eng_name().to_owned())
}
