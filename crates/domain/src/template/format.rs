//! Formatters (`{items|list}`, `{items|count}`, `{items|first}`, `{amount|number}`,
//! `{date|date}`) and the natural rendering of lists in replies: an API's
//! `["Brass desk lamp", "LED bulb E27"]` reads "Brass desk lamp and LED bulb E27", in the
//! visitor's language, not as JSON.

use serde_json::Value;

use super::value_text;

/// How a placeholder's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// "A, B and C".
    List,
    /// How many items (or characters of a text); `null` counts 0.
    Count,
    /// The first item.
    First,
    /// Digits grouped, the decimal mark of the language.
    Number,
    /// A date (`2026-12-01` or a timestamp) written out in the language.
    Date,
}

impl Format {
    pub(super) const NAMES: &str = "list, count, first, number or date";

    pub(super) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "list" => Self::List,
            "count" => Self::Count,
            "first" => Self::First,
            "number" => Self::Number,
            "date" => Self::Date,
            _ => return None,
        })
    }

    /// `value` formatted for `language`; `None` when there is nothing to show.
    pub(super) fn apply(self, value: &Value, language: &str) -> Option<String> {
        match self {
            Self::List => list(value, language),
            Self::Count => Some(match value {
                Value::Array(items) => items.len(),
                Value::Object(fields) => fields.len(),
                Value::String(text) => text.chars().count(),
                Value::Null => 0,
                _ => 1,
            })
            .map(|n| n.to_string()),
            Self::First => match value {
                Value::Array(items) => items.first().and_then(|v| natural(v, language)),
                other => natural(other, language),
            },
            Self::Number => number(value, language),
            Self::Date => date(value, language),
        }
    }
}

/// The text of a value in a reply: lists written out, everything else as `value_text`.
pub(super) fn natural(value: &Value, language: &str) -> Option<String> {
    match value {
        Value::Array(_) => list(value, language),
        other => value_text(other),
    }
}

fn list(value: &Value, language: &str) -> Option<String> {
    let Value::Array(items) = value else { return value_text(value) };
    let texts: Vec<String> = items.iter().filter_map(value_text).collect();
    match texts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [rest @ .., last] => {
            let (separator, and) = conjunction(language);
            Some(format!("{}{and}{last}", rest.join(separator)))
        }
    }
}

/// The primary language subtag, lowercased: `de-AT` → `de`.
fn primary(language: &str) -> String {
    language.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase()
}

/// (between items, before the last one).
fn conjunction(language: &str) -> (&'static str, &'static str) {
    match primary(language).as_str() {
        "de" => (", ", " und "),
        "fr" => (", ", " et "),
        "es" => (", ", " y "),
        "it" | "pt" => (", ", " e "),
        "nl" => (", ", " en "),
        "sv" => (", ", " och "),
        "da" | "nb" | "no" => (", ", " og "),
        "fi" => (", ", " ja "),
        "pl" => (", ", " i "),
        "cs" | "sk" => (", ", " a "),
        "tr" => (", ", " ve "),
        "ru" => (", ", " и "),
        "uk" => (", ", " і "),
        "ja" | "zh" => ("、", "、"),
        _ => (", ", " and "),
    }
}

/// Languages that write 1.234,5 (and the rest 1,234.5; French and a few more 1 234,5).
fn marks(language: &str) -> (&'static str, &'static str) {
    match primary(language).as_str() {
        "de" | "es" | "it" | "nl" | "pt" | "da" | "tr" | "id" => (".", ","),
        "fr" | "sv" | "nb" | "no" | "fi" | "pl" | "cs" | "sk" | "ru" | "uk" => ("\u{a0}", ","),
        _ => (",", "."),
    }
}

fn number(value: &Value, language: &str) -> Option<String> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.trim().parse::<f64>().is_ok() => s.trim().to_owned(),
        other => return value_text(other),
    };
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let (group, decimal) = marks(language);
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push_str(group);
        }
        grouped.push(digit);
    }
    Some(match fraction {
        Some(fraction) => format!("{sign}{grouped}{decimal}{fraction}"),
        None => format!("{sign}{grouped}"),
    })
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// `2026-12-01` (or a timestamp starting so) written out: "1 December 2026", "1. Dezember 2026";
/// languages without month names here get the ISO date, which every reader understands.
fn date(value: &Value, language: &str) -> Option<String> {
    let text = value_text(value)?;
    let day = text.get(..10).and_then(|d| jiff::civil::Date::strptime("%Y-%m-%d", d).ok());
    let Some(day) = day else { return Some(text) };
    let month = usize::try_from(day.month() - 1).unwrap_or_default();
    let (d, y) = (day.day(), day.year());
    Some(match primary(language).as_str() {
        "en" | "" => format!("{d} {} {y}", MONTHS_EN[month]),
        "de" => format!("{d}. {} {y}", MONTHS_DE[month]),
        "fr" => format!("{d} {} {y}", MONTHS_FR[month]),
        "es" => format!("{d} de {} de {y}", MONTHS_ES[month]),
        _ => day.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_read_like_language() {
        let items = json!(["Brass desk lamp", "LED bulb E27", "Shade"]);
        assert_eq!(natural(&items, "en").unwrap(), "Brass desk lamp, LED bulb E27 and Shade");
        assert_eq!(natural(&items, "de-AT").unwrap(), "Brass desk lamp, LED bulb E27 und Shade");
        assert_eq!(natural(&json!(["one"]), "fr").unwrap(), "one");
        assert_eq!(natural(&json!([]), "en"), None);
        assert_eq!(Format::Count.apply(&items, "en").unwrap(), "3");
        assert_eq!(Format::First.apply(&items, "en").unwrap(), "Brass desk lamp");
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(Format::Number.apply(&json!(1234567.5), "en").unwrap(), "1,234,567.5");
        assert_eq!(Format::Number.apply(&json!("1234.50"), "de").unwrap(), "1.234,50");
        assert_eq!(Format::Number.apply(&json!(-980), "fr").unwrap(), "-980");
        assert_eq!(Format::Number.apply(&json!("n/a"), "en").unwrap(), "n/a");
        assert_eq!(Format::Date.apply(&json!("2026-12-01"), "en").unwrap(), "1 December 2026");
        assert_eq!(
            Format::Date.apply(&json!("2026-03-05T10:00:00Z"), "de").unwrap(),
            "5. März 2026"
        );
        assert_eq!(Format::Date.apply(&json!("2026-12-01"), "ja").unwrap(), "2026-12-01");
        assert_eq!(Format::Date.apply(&json!("soon"), "en").unwrap(), "soon");
    }
}
