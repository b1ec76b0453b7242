//! Merging the full-text (BM25) ranking with the vector ranking: reciprocal rank fusion, plus
//! one rule of our own. Embeddings blur exact tokens — order number 4521 looks much like 4512 to
//! them — so passages containing every identifier of the query (a word with a digit in it: an
//! order number, a SKU, a model) rank above those that do not.

use std::collections::HashMap;

/// The usual constant of reciprocal rank fusion: damps the weight of the very first ranks.
const K: f32 = 60.0;

/// A passage in the fused ranking. Ranks start at 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub id: String,
    pub score: f32,
    pub text_rank: Option<usize>,
    pub vector_rank: Option<usize>,
    /// Contains every identifier of the query (false when the query has none).
    pub exact: bool,
}

/// The identifiers of a query: its words that contain a digit, lowercased, without surrounding
/// punctuation (`#4521` -> `4521`, `LAMP-2?` -> `lamp-2`).
pub fn identifiers(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()) && w.chars().count() >= 2)
        .collect()
}

/// Fuses `by_text` and `by_vector` (ids, best first). `text_of` gives a passage's text, for the
/// identifier rule.
pub fn fuse<'a>(
    query: &str,
    by_text: &[String],
    by_vector: &[String],
    text_of: impl Fn(&str) -> Option<&'a str>,
) -> Vec<Ranked> {
    let wanted = identifiers(query);
    let mut ranked: HashMap<String, Ranked> = HashMap::new();
    let mut add = |id: &String, rank: usize, vector: bool| {
        let entry = ranked.entry(id.clone()).or_insert_with(|| Ranked {
            id: id.clone(),
            score: 0.0,
            text_rank: None,
            vector_rank: None,
            exact: false,
        });
        entry.score += 1.0 / (K + rank as f32);
        if vector {
            entry.vector_rank = Some(rank);
        } else {
            entry.text_rank = Some(rank);
        }
    };
    by_text.iter().enumerate().for_each(|(i, id)| add(id, i + 1, false));
    by_vector.iter().enumerate().for_each(|(i, id)| add(id, i + 1, true));
    let mut ranked: Vec<Ranked> = ranked.into_values().collect();
    if !wanted.is_empty() {
        for passage in &mut ranked {
            let text = text_of(&passage.id).unwrap_or_default().to_lowercase();
            passage.exact = wanted.iter().all(|w| text.contains(w.as_str()));
        }
    }
    ranked.sort_by(|a, b| {
        b.exact.cmp(&a.exact).then(b.score.total_cmp(&a.score)).then(a.id.cmp(&b.id))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn identifiers_are_words_with_digits() {
        assert_eq!(identifiers("Where is order #4521? Is LAMP-2 in stock?"), ["4521", "lamp-2"]);
        assert!(identifiers("what is your return policy").is_empty());
    }

    #[test]
    fn agreement_between_rankings_wins() {
        let fused = fuse("return policy", &ids(&["a", "b", "c"]), &ids(&["b", "d"]), |_| None);
        let order: Vec<&str> = fused.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(order, ["b", "a", "d", "c"]);
        assert_eq!((fused[0].text_rank, fused[0].vector_rank), (Some(2), Some(1)));
    }

    #[test]
    fn a_passage_with_the_exact_identifier_ranks_first_whatever_the_vectors_say() {
        let texts =
            HashMap::from([("near", "Order 4512 shipped"), ("exact", "Order 4521 is delayed")]);
        let fused = fuse("order 4521", &ids(&["exact"]), &ids(&["near", "other"]), |id| {
            texts.get(id).copied()
        });
        assert_eq!(fused[0].id, "exact");
        assert!(fused[0].exact && !fused[1].exact);
    }
}
