//! The snippet shown with a hit: the passage's densest stretch of matched words, HTML-escaped,
//! the matches in `<b>` — and, from the same analysis, how much of the question the passage
//! covers.

use std::collections::BTreeSet;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

/// Longest snippet, in bytes of the passage.
const WINDOW: usize = 180;
/// How far before the first match a snippet may begin, in bytes.
const LEAD: usize = 60;

pub struct Highlighted {
    pub snippet_html: String,
    /// The share of `wanted` found in the text, 0 to 1.
    pub coverage: f32,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `wanted` are the question's terms as `analyzer` makes them.
pub fn highlight(
    analyzer: &mut TextAnalyzer,
    text: &str,
    wanted: &BTreeSet<String>,
) -> Highlighted {
    let mut matched: Vec<(usize, usize)> = Vec::new();
    let mut found: BTreeSet<&str> = BTreeSet::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        if let Some(term) = wanted.get(&token.text) {
            matched.push((token.offset_from, token.offset_to));
            found.insert(term);
        }
    }
    // Words of one character ("I", "s") say nothing about what is asked.
    let counted = |t: &str| t.chars().count() > 1;
    let asked = wanted.iter().filter(|t| counted(t)).count();
    let covered = found.iter().filter(|t| counted(t)).count();
    let coverage = if asked == 0 { 0.0 } else { covered as f32 / asked as f32 };
    // The window that starts at a match and holds the most matches.
    let (mut best, mut most) = (0, 0);
    for (i, (from, _)) in matched.iter().enumerate() {
        let inside = matched[i..].iter().take_while(|(_, to)| to - from <= WINDOW).count();
        if inside > most {
            (best, most) = (i, inside);
        }
    }
    let start = match matched.get(best) {
        // Near the beginning: show the beginning.
        Some((from, _)) if *from > LEAD => {
            // Otherwise begin at the start of its sentence, if that is close.
            let earlier = floor_boundary(text, from - LEAD);
            text[earlier..*from].rfind(['.', '!', '?', '。', '\n']).map_or(*from, |i| {
                earlier + i + text[earlier + i..].chars().next().map_or(1, char::len_utf8)
            })
        }
        _ => 0,
    };
    let end = floor_boundary(text, start + WINDOW);
    let end = text[end..].find(char::is_whitespace).map_or(text.len(), |i| end + i).min(text.len());
    // CJK bigrams overlap: merge touching matches into one mark.
    let mut marks: Vec<(usize, usize)> = Vec::new();
    for &(from, to) in matched.iter().filter(|(from, to)| *from >= start && *to <= end) {
        match marks.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => marks.push((from, to)),
        }
    }
    let mut html = String::new();
    let mut at = start;
    for (from, to) in marks {
        html.push_str(&escape(&text[at..from]));
        html.push_str("<b>");
        html.push_str(&escape(&text[from..to]));
        html.push_str("</b>");
        at = to;
    }
    html.push_str(&escape(&text[at..end]));
    Highlighted { snippet_html: html.trim().to_owned(), coverage }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    fn wanted(lang: Lang, query: &str) -> BTreeSet<String> {
        crate::analysis::terms(&mut lang.analyzer(), query).into_iter().collect()
    }

    #[test]
    fn matches_are_marked_escaped_and_counted() {
        let text = "Refunds <always> reach your card. Returns are free within 30 days & easy.";
        let mut analyzer = Lang::English.analyzer();
        let h = highlight(&mut analyzer, text, &wanted(Lang::English, "free returns in Austria"));
        assert_eq!(
            h.snippet_html,
            "Refunds &lt;always&gt; reach your card. <b>Returns</b> are <b>free</b> within 30 days &amp; easy."
        );
        assert!((h.coverage - 2.0 / 3.0).abs() < 0.01, "{}", h.coverage);
    }

    #[test]
    fn the_densest_stretch_of_a_long_passage_is_shown() {
        let filler = "Nothing relevant is said in this sentence at all. ".repeat(10);
        let text = format!("{filler}Gift cards never expire and gift cards can be topped up.");
        let mut analyzer = Lang::English.analyzer();
        let h = highlight(&mut analyzer, &text, &wanted(Lang::English, "gift card"));
        assert!(
            h.snippet_html.starts_with("<b>Gift</b> <b>cards</b> never expire"),
            "{}",
            h.snippet_html
        );
        assert_eq!(h.coverage, 1.0);
    }

    #[test]
    fn overlapping_bigrams_make_one_mark() {
        let mut analyzer = Lang::Cjk.analyzer();
        let h =
            highlight(&mut analyzer, "标准配送需要三到五天。", &wanted(Lang::Cjk, "配送需要多久"));
        assert_eq!(h.snippet_html, "标准<b>配送需要</b>三到五天。");
    }

    #[test]
    fn without_a_match_the_passage_opens_the_snippet() {
        let mut analyzer = Lang::Cjk.analyzer();
        let h = highlight(&mut analyzer, "退货期限为三十天。", &wanted(Lang::Cjk, "配送"));
        assert_eq!((h.snippet_html.as_str(), h.coverage), ("退货期限为三十天。", 0.0));
    }
}
