//! Splitting a document into passages small enough to rank and to quote, overlapping so that an
//! answer spanning a boundary is still found whole in one of them.

use crate::extract::Section;

/// Sizes in characters.
#[derive(Debug, Clone, Copy)]
pub struct ChunkSizes {
    /// A chunk is closed once it reaches this size.
    pub target: usize,
    /// No chunk grows beyond this (a longer sentence is cut at a word boundary).
    pub max: usize,
    /// How much of the end of a chunk starts the next one (whole sentences, up to this size).
    pub overlap: usize,
}

impl Default for ChunkSizes {
    fn default() -> Self {
        Self { target: 900, max: 1400, overlap: 200 }
    }
}

/// One passage: where it sits in the document and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The headings above it, outermost first.
    pub headings: Vec<String>,
    pub text: String,
}

/// Cuts `sections` into chunks. Chunks never span two sections, so a passage is about one thing.
pub fn chunk(sections: &[Section], sizes: ChunkSizes) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for section in sections {
        let sentences: Vec<String> =
            section.paragraphs.iter().flat_map(|p| pieces(p, sizes.max)).collect();
        let mut current: Vec<String> = Vec::new();
        let mut length = 0;
        let mut fresh = 0; // sentences in `current` that are not overlap
        for sentence in sentences {
            let size = sentence.chars().count();
            if fresh > 0 && length + 1 + size > sizes.max {
                let carried = close(&mut chunks, &section.headings, &current, sizes.overlap);
                length = carried.iter().map(|s| s.chars().count() + 1).sum();
                current = carried;
                fresh = 0;
            }
            if !current.is_empty() && length + 1 + size > sizes.max {
                // Even the overlap carried over leaves no room: it gives way, not the limit.
                current.clear();
                length = 0;
            }
            length += size + usize::from(!current.is_empty());
            current.push(sentence);
            fresh += 1;
            if length >= sizes.target {
                let carried = close(&mut chunks, &section.headings, &current, sizes.overlap);
                length = carried.iter().map(|s| s.chars().count() + 1).sum();
                current = carried;
                fresh = 0;
            }
        }
        if fresh > 0 {
            close(&mut chunks, &section.headings, &current, 0);
        }
    }
    chunks
}

/// Emits `sentences` as a chunk and returns the sentences the next chunk starts with.
fn close(
    chunks: &mut Vec<Chunk>,
    headings: &[String],
    sentences: &[String],
    overlap: usize,
) -> Vec<String> {
    chunks.push(Chunk { headings: headings.to_vec(), text: join(sentences) });
    let mut carried = Vec::new();
    let mut size = 0;
    // Never carry everything: the next chunk must say something new.
    for sentence in sentences.iter().skip(1).rev() {
        size += sentence.chars().count() + 1;
        if size > overlap {
            break;
        }
        carried.insert(0, sentence.clone());
    }
    carried
}

/// Joins sentences; a CJK sentence needs no space after the one before.
fn join(sentences: &[String]) -> String {
    let mut text = String::new();
    for sentence in sentences {
        let glued = text.ends_with(['。', '！', '？']) || text.is_empty();
        if !glued {
            text.push(' ');
        }
        text.push_str(sentence);
    }
    text
}

/// A paragraph as sentences, each at most `max` characters.
fn pieces(paragraph: &str, max: usize) -> Vec<String> {
    sentences(paragraph).into_iter().flat_map(|s| cut(s, max)).collect()
}

/// Splits after `.`, `!`, `?` followed by a space, and after CJK full stops.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = i + c.len_utf8();
        let boundary = match c {
            '。' | '！' | '？' => true,
            '.' | '!' | '?' => chars.peek().is_none_or(|(_, next)| next.is_whitespace()),
            _ => false,
        };
        if boundary {
            let sentence = text[start..end].trim();
            if !sentence.is_empty() {
                found.push(sentence);
            }
            start = end;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        found.push(rest);
    }
    found
}

/// Cuts an over-long sentence at word boundaries (or anywhere, for text without spaces).
fn cut(sentence: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = sentence;
    while rest.chars().count() > max {
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let at = rest[..limit].rfind(char::is_whitespace).filter(|&i| i > 0).unwrap_or(limit);
        parts.push(rest[..at].trim().to_owned());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(paragraphs: &[&str]) -> Section {
        Section {
            headings: vec!["Returns".into()],
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn sentences_end_at_stops_followed_by_space_and_at_cjk_stops() {
        assert_eq!(
            sentences("Version 2.5 is out. Really! 退货期限为30天。请保留收据。"),
            ["Version 2.5 is out.", "Really!", "退货期限为30天。", "请保留收据。"]
        );
    }

    #[test]
    fn a_short_section_is_one_chunk_with_its_headings() {
        let chunks = chunk(
            &[section(&["You may return items.", "Keep the receipt."])],
            ChunkSizes::default(),
        );
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "You may return items. Keep the receipt.");
        assert_eq!(chunks[0].headings, ["Returns"]);
    }

    #[test]
    fn long_text_overlaps_by_whole_sentences_and_respects_the_maximum() {
        let sentence = "This sentence is about forty characters.";
        let paragraph = [sentence; 60].join(" ");
        let sizes = ChunkSizes { target: 200, max: 300, overlap: 90 };
        let chunks = chunk(&[section(&[&paragraph])], sizes);
        assert!(chunks.len() > 5, "{chunks:?}");
        for pair in chunks.windows(2) {
            assert!(pair[0].text.chars().count() <= sizes.max);
            // The next chunk starts with the last two sentences of this one.
            let tail = [sentence; 2].join(" ");
            assert!(pair[0].text.ends_with(&tail) && pair[1].text.starts_with(&tail));
        }
        let total: usize = chunks.iter().map(|c| c.text.matches(sentence).count()).sum();
        assert!(total >= 60, "nothing is lost");
    }

    #[test]
    fn a_sentence_longer_than_the_maximum_is_cut_at_words_or_anywhere() {
        let words = ["word"; 100].join(" ");
        let chunks = chunk(&[section(&[&words])], ChunkSizes { target: 50, max: 60, overlap: 0 });
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 60 && !c.text.starts_with(' ')));
        let han = "字".repeat(130);
        let chunks = chunk(&[section(&[&han])], ChunkSizes { target: 50, max: 60, overlap: 0 });
        assert_eq!(chunks.iter().map(|c| c.text.chars().count()).collect::<Vec<_>>(), [60, 60, 10]);
    }
}
