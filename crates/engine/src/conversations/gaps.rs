//! Knowledge gaps: the questions the assistant left unanswered, answered only with a fallback,
//! or saw marked not helpful — grouped by what they ask (the knowledge base's analysers: the
//! same stemmed words, stop words left out), ranked by how many conversations asked, and each
//! checked again against the knowledge base and the rules (docs/analytics.md#knowledge-gaps).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sb_domain::analytics::QuestionGap;
use sb_domain::{Action, ConversationId, Role, Timestamp, Trigger};
use sb_kb::Lang;
use sb_kb::analysis::{TextAnalyzer, terms};
use schemars::JsonSchema;
use serde::Serialize;

use super::ConversationsService;
use super::reports::DayRange;
use crate::kb::SearchRequest;
use crate::{Actor, EngineError};

/// Questions read per report, newest first.
const MAX_QUESTIONS: u32 = 5_000;
/// Groups returned, most asked first.
const MAX_GROUPS: usize = 50;
/// How alike two questions' words must be to ask the same: the share of the shorter one's
/// words the other has too.
const SIMILAR: f64 = 0.5;
/// A knowledge-base passage answers when it covers this much of the question.
const COVERS: f32 = 0.5;
/// With an embeddings model, questions this close in meaning (cosine) ask the same too.
const CLOSE_IN_MEANING: f32 = 0.85;
/// The newest questions given embeddings per report (older ones are grouped by words only).
const EMBEDDED_AT_MOST: usize = 1_000;
/// Questions per embeddings request.
const EMBED_BATCH: usize = 100;

/// Questions that ask the same thing, and were not answered well.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KnowledgeGap {
    /// `gap_` and the id of the group's first question in the range.
    pub id: String,
    /// How many conversations asked it.
    pub questions: usize,
    /// Up to five of the questions as asked, newest first.
    pub examples: Vec<String>,
    /// The conversations that asked (up to 20, newest first).
    pub conversation_ids: Vec<ConversationId>,
    /// Why they count: `no_answer`, `fallback`, `not_helpful`, with how many.
    pub reasons: BTreeMap<String, usize>,
    pub last_asked_at: Timestamp,
    /// Whether a knowledge-base passage or a rule answers its newest question now (not asked
    /// of questions whose answer was marked not helpful: what gave it still would).
    pub covered: bool,
    /// The newest question that can be checked for `covered`, and its widget.
    #[serde(skip)]
    #[schemars(skip)]
    check: Option<(String, sb_domain::WidgetId)>,
}

/// The languages questions are compared in. A short question's language is hard to tell, so
/// each is taken in the one whose stop words leave the fewest words of it (its function words
/// gone), and a later question is compared with a group in the group's language.
const COMPARED_IN: [Lang; 7] = [
    Lang::English,
    Lang::German,
    Lang::French,
    Lang::Spanish,
    Lang::Italian,
    Lang::Portuguese,
    Lang::Dutch,
];

/// A question's words in each language of [`COMPARED_IN`] (stemmed, stop words left out), and
/// the index of the language it reads as.
fn content_words(analyzers: &mut [TextAnalyzer], text: &str) -> (Vec<BTreeSet<String>>, usize) {
    let words: Vec<BTreeSet<String>> =
        analyzers.iter_mut().map(|a| terms(a, text).into_iter().collect()).collect();
    let fewest = words.iter().map(BTreeSet::len).min().unwrap_or(0);
    let mut tied = (0..words.len()).filter(|&i| words[i].len() == fewest);
    let first = tied.next().unwrap_or(0);
    if tied.next().is_none() {
        return (words, first);
    }
    // Several languages fit as well: the detector (the slowest step, so only asked here)
    // says which, when it names one of them.
    let told = COMPARED_IN.iter().position(|l| *l == Lang::detect(text, Lang::English));
    let own = told.filter(|&i| words[i].len() == fewest).unwrap_or(first);
    (words, own)
}

/// The share of the shorter question's words the other has too — 0 unless they share two
/// words (or the whole of a one-word question): "opening hours" is not "delivery hours".
fn similarity(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let shared = a.intersection(b).count();
    let shorter = a.len().min(b.len());
    if shorter == 0 || shared < shorter.min(2) {
        return 0.0;
    }
    shared as f64 / shorter as f64
}

struct Group {
    /// The first question's words, in its language.
    words: BTreeSet<String>,
    /// The first question's embedding (scaled to length 1), when it has one.
    meaning: Option<Vec<f32>>,
    /// Its language's index in [`COMPARED_IN`].
    lang: usize,
    members: Vec<QuestionGap>,
}

/// The embedding scaled to length 1, so that the cosine of two is their dot product.
fn unit_length(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 { v.to_vec() } else { v.iter().map(|x| x / norm).collect() }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Groups questions, oldest first, each with the group it is most like (or a new one): by
/// their words, or — for questions in `meanings` — by how close their embeddings are.
///
/// Only groups sharing a word with the question are compared by words (an index from each
/// group's words, in its language, to the group), so thousands of questions in hundreds of
/// groups are grouped in a few milliseconds rather than by comparing every pair.
fn group(
    mut questions: Vec<QuestionGap>,
    meanings: &HashMap<sb_domain::MessageId, Vec<f32>>,
) -> Vec<Group> {
    questions.sort_by(|a, b| (a.asked_at, &a.message_id).cmp(&(b.asked_at, &b.message_id)));
    let mut analyzers: Vec<_> = COMPARED_IN.iter().map(|l| l.analyzer()).collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_word: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    let mut with_meaning: Vec<usize> = Vec::new();
    let mut candidates: Vec<usize> = Vec::new();
    // Visitors ask the same words again and again ("where is my order"): each text is read once.
    let mut read: HashMap<String, (Vec<BTreeSet<String>>, usize)> = HashMap::new();
    for question in questions {
        let (words, own) = match read.get(&question.text) {
            Some(known) => known.clone(),
            None => {
                let found = content_words(&mut analyzers, &question.text);
                read.insert(question.text.clone(), found.clone());
                found
            }
        };
        let meaning = meanings.get(&question.message_id).map(|v| unit_length(v));
        candidates.clear();
        for (lang, words) in words.iter().enumerate() {
            for word in words {
                // Borrowed lookups need the key's own shape; the clone is one short word.
                if let Some(found) = by_word.get(&(lang, word.clone())) {
                    candidates.extend(found);
                }
            }
        }
        if meaning.is_some() {
            candidates.extend(&with_meaning);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let alike = |g: &Group| {
            let by_words = Some(similarity(&g.words, &words[g.lang])).filter(|s| *s >= SIMILAR);
            let by_meaning = g
                .meaning
                .as_deref()
                .zip(meaning.as_deref())
                .map(|(a, b)| f64::from(dot(a, b)))
                .filter(|c| *c >= f64::from(CLOSE_IN_MEANING));
            match (by_words, by_meaning) {
                (Some(w), Some(m)) => Some(w.max(m)),
                (w, m) => w.or(m),
            }
        };
        // The most alike; of equally alike ones, the newest group (as comparing all would).
        let best = candidates
            .iter()
            .filter_map(|&i| alike(&groups[i]).map(|s| (s, i)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, i)) => groups[i].members.push(question),
            None => {
                let index = groups.len();
                let words = words.into_iter().nth(own).unwrap_or_default();
                for word in &words {
                    by_word.entry((own, word.clone())).or_default().push(index);
                }
                if meaning.is_some() {
                    with_meaning.push(index);
                }
                groups.push(Group { words, meaning, lang: own, members: vec![question] });
            }
        }
    }
    groups
}

impl ConversationsService {
    /// The knowledge gaps of the range, most asked first (`GET /analytics/knowledge-gaps`).
    pub async fn knowledge_gaps(
        &self,
        actor: &Actor,
        range: &DayRange,
    ) -> Result<Vec<KnowledgeGap>, EngineError> {
        actor.require(Role::Operator)?;
        let (from, to) = range.bounds();
        let tenant = &actor.tenant_id;
        let questions = self.store.analytics.question_gaps(tenant, from, to, MAX_QUESTIONS).await?;
        let meanings = self.meanings(tenant, &questions).await;
        // Thousands of questions take a while to read: not on the threads serving requests.
        let mut gaps = tokio::task::spawn_blocking(move || {
            group(questions, &meanings).into_iter().map(summarise).collect::<Vec<_>>()
        })
        .await
        .map_err(|err| EngineError::Internal(format!("grouping knowledge gaps: {err}")))?;
        gaps.sort_by(|a, b| {
            b.questions.cmp(&a.questions).then(b.last_asked_at.cmp(&a.last_asked_at))
        });
        gaps.truncate(MAX_GROUPS);
        for gap in &mut gaps {
            gap.covered = self.answered_now(actor, gap).await?;
        }
        Ok(gaps)
    }

    /// Embeddings of the newest questions, when the account has an embeddings model (none if
    /// it has not, or the model fails: words alone group them then).
    async fn meanings(
        &self,
        tenant: &sb_domain::TenantId,
        questions: &[QuestionGap],
    ) -> HashMap<sb_domain::MessageId, Vec<f32>> {
        let mut meanings = HashMap::new();
        let Ok(Some(model)) = self.ai.embedder_for(tenant).await else { return meanings };
        let newest = &questions[..questions.len().min(EMBEDDED_AT_MOST)];
        for batch in newest.chunks(EMBED_BATCH) {
            let texts: Vec<String> = batch.iter().map(|q| q.text.clone()).collect();
            match self.ai.embed_texts(model.as_ref(), tenant, &texts).await {
                Ok(vectors) if vectors.len() == batch.len() => {
                    meanings.extend(batch.iter().map(|q| q.message_id.clone()).zip(vectors));
                }
                Ok(_) | Err(_) => {
                    tracing::warn!(
                        "the embeddings model failed; knowledge gaps are grouped by words"
                    );
                    return HashMap::new();
                }
            }
        }
        meanings
    }

    /// Whether the knowledge base or a rule answers the gap's newest question now.
    async fn answered_now(&self, actor: &Actor, gap: &KnowledgeGap) -> Result<bool, EngineError> {
        let Some((question, widget)) = &gap.check else { return Ok(false) };
        let tenant = &actor.tenant_id;
        let request = SearchRequest {
            tenant,
            widget: Some(widget),
            query: question,
            language: None,
            limit: 3,
        };
        let hits = self.knowledge.knowledge_search(&request).await.unwrap_or_default();
        if hits.iter().any(|h| h.coverage >= COVERS || h.exact) {
            return Ok(true);
        }
        let config = self.config(tenant).await?;
        let rules = self.cached_rules(&config, tenant, widget).await?;
        let prepared = sb_rules::MessageText::new(question);
        let (variables, changed, intents) = Default::default();
        let situation = sb_rules::Situation {
            text: question,
            prepared: &prepared,
            first_message: false,
            variables: &variables,
            changed: &changed,
            intents: &intents,
            operator_online: true,
        };
        // A rule answers when it fires on the question itself (not on anything) and replies
        // with its own words or an endpoint's data.
        Ok(rules.iter().any(|rule| {
            !matches!(rule.definition.trigger, Trigger::Any)
                && rule.definition.actions.iter().any(|a| {
                    matches!(
                        a,
                        Action::ReplyText { .. } | Action::CallApi { .. } | Action::CallTool { .. }
                    )
                })
                && sb_rules::fires(rule, &situation)
        }))
    }
}

fn summarise(group: Group) -> KnowledgeGap {
    let mut members = group.members;
    let id = format!("gap_{}", members[0].message_id.as_str().trim_start_matches("msg_"));
    members.sort_by(|a, b| (b.asked_at, &b.message_id).cmp(&(a.asked_at, &a.message_id)));
    let mut conversations: Vec<ConversationId> = Vec::new();
    let mut examples: Vec<String> = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for m in &members {
        if !conversations.contains(&m.conversation_id) {
            conversations.push(m.conversation_id.clone());
        }
        if examples.len() < 5 && !examples.contains(&m.text) {
            examples.push(m.text.clone());
        }
        *reasons.entry(m.reason.clone()).or_insert(0) += 1;
    }
    let questions = conversations.len();
    conversations.truncate(20);
    let check = members
        .iter()
        .find(|m| m.reason != "not_helpful")
        .map(|m| (m.text.clone(), m.widget_id.clone()));
    KnowledgeGap {
        id,
        questions,
        examples,
        conversation_ids: conversations,
        reasons,
        last_asked_at: members[0].asked_at,
        covered: false,
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(text: &str, conversation: &ConversationId, minute: i64) -> QuestionGap {
        QuestionGap {
            message_id: sb_domain::MessageId::new(),
            conversation_id: conversation.clone(),
            widget_id: sb_domain::WidgetId::new(),
            text: text.into(),
            reason: "no_answer".into(),
            asked_at: Timestamp::from_second(minute * 60).unwrap(),
        }
    }

    #[test]
    fn questions_asking_the_same_are_one_gap() {
        let (a, b, c) = (ConversationId::new(), ConversationId::new(), ConversationId::new());
        let none = HashMap::new();
        let groups = group(
            vec![
                asked("Do you ship to Norway?", &a, 1),
                asked("Can you ship to norway please", &b, 2),
                asked("What is your warranty on lamps?", &c, 3),
                asked("What are your delivery hours?", &c, 3),
                asked("What are your opening hours?", &c, 3),
                asked("do you ship to Norway", &a, 4),
            ],
            &none,
        );
        assert_eq!(groups.len(), 4, "one word in common is not the same question");
        let cards = group(
            vec![
                asked("Can I pay with a gift card?", &a, 1),
                asked("Do you take gift cards as payment?", &b, 2),
            ],
            &none,
        );
        assert_eq!(cards.len(), 1, "the same in English, whatever a guess says");
        let shipping = summarise(groups.into_iter().next().unwrap());
        assert_eq!(shipping.questions, 2, "two conversations asked");
        assert_eq!(shipping.examples[0], "do you ship to Norway", "newest first");
        assert_eq!(shipping.reasons["no_answer"], 3);
    }

    #[test]
    fn with_embeddings_questions_close_in_meaning_are_one_gap() {
        let (a, b) = (ConversationId::new(), ConversationId::new());
        let questions = vec![
            asked("What does the lamp cost?", &a, 1),
            asked("How expensive is that light?", &b, 2),
        ];
        assert_eq!(group(questions.clone(), &Default::default()).len(), 2, "no word in common");
        let close: HashMap<_, _> = questions
            .iter()
            .zip([vec![1.0, 0.1], vec![0.95, 0.12]])
            .map(|(q, v)| (q.message_id.clone(), v))
            .collect();
        assert_eq!(group(questions.clone(), &close).len(), 1);
        let far: HashMap<_, _> = questions
            .iter()
            .zip([vec![1.0, 0.0], vec![0.0, 1.0]])
            .map(|(q, v)| (q.message_id.clone(), v))
            .collect();
        assert_eq!(group(questions, &far).len(), 2);
    }
}
