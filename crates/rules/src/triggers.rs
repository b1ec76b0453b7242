use std::borrow::Cow;
use std::sync::Arc;

use regex::Regex;
use sb_domain::pattern::compile_search;
use sb_domain::{FromRegex, RuleId, Trigger};
use serde_json::Value;

use crate::Situation;

/// A regex from a rule: `pattern` with `flags` (`i` ignores case), or written `/pattern/i`.
pub fn regex_for(pattern: &str, flags: Option<&str>) -> Result<Arc<Regex>, String> {
    let (source, inline_flags) = match pattern
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
    {
        Some((source, flags)) if flags.chars().all(|c| c.is_ascii_alphabetic()) => (source, flags),
        _ => (pattern, ""),
    };
    // Evaluated for every rule on every message: no allocation on the way to the cache.
    let mut flags = inline_flags.chars().chain(flags.unwrap_or_default().chars());
    if let Some(unknown) = flags.clone().find(|c| *c != 'i') {
        return Err(format!(
            "unknown regex flag {unknown:?}; only \"i\" (ignore case) is supported"
        ));
    }
    compile_search(source, flags.any(|c| c == 'i'))
}

fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Case-insensitive match of `keyword` in `text`. Keywords that start or end with an ASCII
/// letter or digit must not be glued to another one ("order" is not in "reorder"); scripts
/// without spaces (Chinese, Japanese, Thai) match anywhere.
pub fn keyword_matches(text: &str, keyword: &str) -> bool {
    MessageText::new(text).has_keyword(keyword)
}

/// Bits in a message's sketch of byte pairs.
const SKETCH_BITS: usize = 4096;

/// A visitor's message prepared once for every rule: lowercased, with a sketch of the byte
/// pairs it holds. A keyword with a pair the message lacks cannot be in it, which rules out
/// most keywords of most rules without searching the text.
#[derive(Debug)]
pub struct MessageText {
    lowercase: String,
    pairs: Box<[u64; SKETCH_BITS / 64]>,
}

fn pair_bit(a: u8, b: u8) -> usize {
    (usize::from(a) * 257 + usize::from(b)) % SKETCH_BITS
}

impl MessageText {
    pub fn new(text: &str) -> Self {
        let lowercase = text.to_lowercase();
        let mut pairs = Box::new([0u64; SKETCH_BITS / 64]);
        for pair in lowercase.as_bytes().windows(2) {
            let bit = pair_bit(pair[0], pair[1]);
            pairs[bit / 64] |= 1 << (bit % 64);
        }
        Self { lowercase, pairs }
    }

    fn may_contain(&self, keyword: &str) -> bool {
        keyword.as_bytes().windows(2).all(|pair| {
            let bit = pair_bit(pair[0], pair[1]);
            self.pairs[bit / 64] & (1 << (bit % 64)) != 0
        })
    }

    /// [`keyword_matches`] against this message.
    pub fn has_keyword(&self, keyword: &str) -> bool {
        keyword_in_lowercase(self, keyword)
    }
}

fn keyword_in_lowercase(message: &MessageText, keyword: &str) -> bool {
    let keyword = keyword.trim();
    // Most keywords are written in lowercase: no need to copy them.
    let keyword: Cow<'_, str> = if keyword.chars().any(char::is_uppercase) {
        Cow::Owned(keyword.to_lowercase())
    } else {
        Cow::Borrowed(keyword)
    };
    if keyword.is_empty() || !message.may_contain(&keyword) {
        return false;
    }
    let (text, keyword) = (message.lowercase.as_str(), keyword.as_ref());
    let (first, last) = (keyword.chars().next(), keyword.chars().last());
    text.match_indices(keyword).any(|(at, found)| {
        let before = text[..at].chars().next_back();
        let after = text[at + found.len()..].chars().next();
        let glued_before = is_word_char(first) && is_word_char(before);
        let glued_after = is_word_char(last) && is_word_char(after);
        !glued_before && !glued_after
    })
}

pub fn trigger_fires(trigger: &Trigger, rule: &RuleId, situation: &Situation<'_>) -> bool {
    match trigger {
        Trigger::Any => true,
        Trigger::FirstMessage => situation.first_message,
        Trigger::Keywords { any } => {
            any.iter().any(|k| keyword_in_lowercase(situation.prepared, k))
        }
        // Patterns were checked when the rule was saved; one that fails now simply does not match.
        Trigger::Regex { pattern, flags } => {
            regex_for(pattern, flags.as_deref()).is_ok_and(|re| re.is_match(situation.text))
        }
        Trigger::Intent { .. } => situation.intents.contains(rule),
        Trigger::Variable { name } => situation.changed.contains(name),
    }
}

/// What `from` captures in `text`: the named or numbered group, by default group 1 (or the
/// whole match when the pattern has no group). `None` when nothing matches.
pub fn capture(from: &FromRegex, text: &str) -> Option<String> {
    let regex = regex_for(&from.pattern, from.flags.as_deref()).ok()?;
    let captures = regex.captures(text)?;
    let found = match &from.group {
        Some(Value::String(name)) => captures.name(name),
        Some(Value::Number(n)) => n.as_u64().and_then(|i| captures.get(i as usize)),
        _ if captures.len() > 1 => captures.get(1),
        _ => captures.get(0),
    };
    found.map(|m| m.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keywords_respect_word_boundaries_but_not_in_unspaced_scripts() {
        assert!(keyword_matches("Where is my ORDER?", "order"));
        assert!(keyword_matches("order#4521 please", "order"));
        assert!(!keyword_matches("I want to reorder", "order"));
        assert!(!keyword_matches("orders", "order"));
        assert!(keyword_matches("mein Paket ist weg", "paket"));
        assert!(keyword_matches("Où est ma COMMANDE", "commande"));
        assert!(keyword_matches("我的订单在哪里", "订单"));
        assert!(keyword_matches("track my order", "track my"));
        assert!(!keyword_matches("anything", "  "));
    }

    #[test]
    fn the_pair_sketch_never_hides_a_keyword_that_is_there() {
        let texts = [
            "Where is my ORDER #4521? It has not arrived.",
            "Où est ma commande ? Ça fait une semaine.",
            "我的订单在哪里",
            "Ünïcödé Straße größe",
            "a",
            "",
        ];
        for text in texts {
            let prepared = MessageText::new(text);
            let lowercase = text.to_lowercase();
            // Every substring of every word of the text is found, in any case.
            for start in 0..lowercase.len() {
                for end in start + 1..=lowercase.len() {
                    let (Some(piece), true) =
                        (lowercase.get(start..end), lowercase.is_char_boundary(start))
                    else {
                        continue;
                    };
                    let expected = keyword_matches_slowly(&lowercase, piece);
                    assert_eq!(prepared.has_keyword(piece), expected, "{piece:?} in {text:?}");
                    let upper = piece.to_uppercase();
                    if upper.to_lowercase() == piece {
                        assert_eq!(prepared.has_keyword(&upper), expected, "{upper:?} in {text:?}");
                    }
                }
            }
        }
        assert!(!MessageText::new("order status").has_keyword("refund"));
    }

    /// The definition of a keyword match, with no shortcut.
    fn keyword_matches_slowly(text: &str, keyword: &str) -> bool {
        let keyword = keyword.trim();
        !keyword.is_empty()
            && text.match_indices(keyword).any(|(at, found)| {
                let glued_before = is_word_char(keyword.chars().next())
                    && is_word_char(text[..at].chars().next_back());
                let glued_after = is_word_char(keyword.chars().last())
                    && is_word_char(text[at + found.len()..].chars().next());
                !glued_before && !glued_after
            })
    }

    #[test]
    fn regexes_take_flags_either_way() {
        assert!(regex_for("order", Some("i")).unwrap().is_match("ORDER"));
        assert!(regex_for("/order/i", None).unwrap().is_match("ORDER"));
        assert!(!regex_for("order", None).unwrap().is_match("ORDER"));
        assert!(regex_for("order", Some("x")).is_err());
        assert!(regex_for("(", None).is_err());
    }

    #[test]
    fn captures_pick_the_requested_group() {
        let order = |group| FromRegex { pattern: r"#?(?P<num>\d{3,})".into(), group, flags: None };
        assert_eq!(capture(&order(None), "Where is my order #4521?"), Some("4521".into()));
        assert_eq!(capture(&order(Some(json!("num"))), "order 777"), Some("777".into()));
        assert_eq!(capture(&order(Some(json!(0))), "order #777"), Some("#777".into()));
        assert_eq!(capture(&order(None), "no number"), None);
        let whole = FromRegex { pattern: r"[a-z]+@[a-z.]+".into(), group: None, flags: None };
        assert_eq!(capture(&whole, "mail me: ann@example.com"), Some("ann@example.com".into()));
    }
}
