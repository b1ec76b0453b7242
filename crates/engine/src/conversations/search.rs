//! Conversation search, in the knowledge base's analysers: a message's words are kept in the
//! forms of its language (stemmed, stop words dropped, accents folded) and as written (folded,
//! unstemmed); a search word matches any of its forms in any language, so "Bestellungen" finds
//! "Bestellung" and "orders" finds "order" whatever language the conversation is in.

use std::collections::BTreeSet;

use sb_kb::Lang;
use sb_kb::analysis::{is_cjk, terms};
use sb_store::{SEARCH_TERMS_PER_WORD, SEARCH_WORDS, SearchWord};

/// Characters of a message that are analysed for search (longer messages are cut).
const INDEXED_CHARS: usize = 20_000;

/// The words search finds `text` by, separated by spaces: the forms of its language (or of
/// `language`, the visitor's, when the guess is unsure) and the plain forms.
pub fn message_terms(text: &str, language: Option<&str>) -> String {
    let text: String = text.chars().take(INDEXED_CHARS).collect();
    // A short message's guess is unsure: the visitor's language then, else the guess anyway
    // (a stemmed form that is a little off still beats none).
    let fallback =
        language.and_then(Lang::from_code).unwrap_or_else(|| Lang::detect(&text, Lang::Other));
    let lang = Lang::detect_reliably(&text, fallback);
    let mut words: BTreeSet<String> =
        terms(&mut Lang::Other.analyzer(), &text).into_iter().collect();
    if lang != Lang::Other {
        words.extend(terms(&mut lang.analyzer(), &text));
    }
    words.into_iter().collect::<Vec<_>>().join(" ")
}

/// The plain forms only: for names, e-mail addresses and variables' values.
pub(crate) fn plain_terms<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut analyzer = Lang::Other.analyzer();
    let words: BTreeSet<String> =
        values.into_iter().flat_map(|v| terms(&mut analyzer, v)).collect();
    words.into_iter().collect::<Vec<_>>().join(" ")
}

/// The plain forms of the variables' texts and numbers (what rules saved, what calls mapped).
pub(crate) fn variable_terms(variables: &sb_domain::template::Variables) -> String {
    let texts: Vec<String> = variables
        .values()
        .filter_map(|value| match value {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
        .collect();
    plain_terms(texts.iter().map(String::as_str))
}

/// Conversations looked at per pass of [`ConversationsService::backfill_search`].
const BACKFILL_BATCH: u32 = 100;

impl super::ConversationsService {
    /// Gives the conversations waiting on the backlog (those from before search, or all after
    /// `switchboard search rebuild`) their search words: messages, notes, who the visitor is,
    /// variables. Safe beside other nodes doing the same. Returns how many it did.
    pub async fn backfill_search(&self) -> Result<usize, crate::EngineError> {
        let mut done = 0;
        loop {
            let batch = self.store.search.search_backlog(BACKFILL_BATCH).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            for conversation in &batch {
                let terms = self.conversation_terms(conversation).await?;
                let (tenant, id) = (&conversation.tenant_id, &conversation.id);
                self.store.search.rebuild_search_terms(tenant, id, &terms).await?;
                done += 1;
            }
        }
    }

    /// Every search word of a conversation as it stands.
    async fn conversation_terms(
        &self,
        conversation: &sb_domain::Conversation,
    ) -> Result<String, crate::EngineError> {
        let (tenant, id) = (&conversation.tenant_id, &conversation.id);
        let language = conversation.visitor.language.as_deref();
        let who = &conversation.visitor;
        let named = [&who.name, &who.email, &who.user_id].into_iter().flatten();
        let mut terms =
            vec![plain_terms(named.map(String::as_str)), variable_terms(&conversation.variables)];
        let mut after = 0;
        loop {
            let page = self.store.conversations.list_messages(tenant, id, after, 500).await?;
            for message in &page {
                terms.push(message_terms(&message.text, language));
                if let Some(translation) = &message.translation {
                    terms.push(message_terms(&translation.text, Some(&translation.language)));
                }
                terms.push(plain_terms(message.attachments.iter().map(|f| f.name.as_str())));
            }
            match page.last() {
                Some(last) if page.len() == 500 => after = last.seq,
                _ => break,
            }
        }
        for note in self.store.notes.list_notes(tenant, id, 0).await? {
            terms.push(message_terms(&note.text, None));
        }
        Ok(terms.join(" "))
    }
}

/// What a search for `query` looks for: each word in its forms in every language (the plain
/// form first, then the query's own language), at most [`SEARCH_WORDS`] words. Chinese,
/// Japanese and Korean runs become their character pairs, each a word to find.
pub fn search_words(query: &str) -> Vec<SearchWord> {
    let own = Lang::detect(query, Lang::Other);
    let mut order = vec![Lang::Other, own];
    order.extend(Lang::ALL.into_iter().filter(|l| *l != Lang::Other && *l != own));
    let mut analyzers: Vec<_> = order.iter().map(|lang| lang.analyzer()).collect();
    let mut words: Vec<SearchWord> = Vec::new();
    for piece in query.split(|c: char| !c.is_alphanumeric()).filter(|p| !p.is_empty()) {
        if piece.chars().any(is_cjk) {
            for pair in terms(&mut analyzers[0], piece) {
                words.push(SearchWord { text: pair.clone(), terms: vec![pair] });
            }
            continue;
        }
        let mut forms: Vec<String> = Vec::new();
        for analyzer in &mut analyzers {
            for form in terms(analyzer, piece) {
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        forms.truncate(SEARCH_TERMS_PER_WORD);
        if !forms.is_empty() {
            words.push(SearchWord { text: piece.to_lowercase(), terms: forms });
        }
    }
    words.dedup();
    words.truncate(SEARCH_WORDS);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(terms: &str, word: &str) -> bool {
        terms.split(' ').any(|t| t == word)
    }

    #[test]
    fn a_search_word_meets_the_message_in_any_language() {
        let german = message_terms("Wo sind meine Bestellungen? Ich warte seit Tagen.", None);
        let english = message_terms("Where are my orders? I have been waiting for days.", None);
        let matches = |text: &str, terms: &str| {
            search_words(text).iter().all(|w| w.terms.iter().any(|t| has(terms, t)))
        };
        assert!(matches("Bestellung", &german), "{german}");
        assert!(matches("bestellungen", &german));
        assert!(matches("order", &english), "{english}");
        assert!(matches("waited orders", &english));
        assert!(!matches("refund", &english));
        // Accents fold both ways.
        assert!(matches("Grusse", &message_terms("Viele Grüße, Anna", None)));
    }

    #[test]
    fn cjk_is_searched_by_character_pairs() {
        let terms = message_terms("我的订单在哪里", Some("zh"));
        let words = search_words("订单");
        assert_eq!(words.len(), 1);
        assert!(has(&terms, &words[0].terms[0]), "{terms}");
    }

    #[test]
    fn words_are_capped_and_kept_as_written_for_names() {
        let words = search_words("a b c d e f g h anna@example.com");
        assert_eq!(words.len(), SEARCH_WORDS);
        let names = plain_terms(["Anna Müller", "anna@example.com"]);
        assert!(has(&names, "muller") && has(&names, "example"), "{names}");
        assert!(search_words("Müller")[0].terms.contains(&"muller".to_owned()));
        assert!(search_words("  ?! ").is_empty());
    }
}
