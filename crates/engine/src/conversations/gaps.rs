//! Knowledge gaps: the questions the assistant left unanswered, answered only with a fallback,
//! or saw marked not helpful — grouped by what they ask (the knowledge base's analysers: the
//! same stemmed words, stop words left out), ranked by how many conversations asked, and each
//! checked again against the knowledge base and the rules (docs/analytics.md#knowledge-gaps).

use std::collections::{BTreeMap, BTreeSet};

use sb_domain::analytics::QuestionGap;
use sb_domain::{Action, ConversationId, Role, Timestamp, Trigger};
use sb_kb::Lang;
use sb_kb::analysis::terms;
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
/// How alike two questions' words must be to ask the same (shared words over all words).
const SIMILAR: f64 = 0.5;
/// A knowledge-base passage answers when it covers this much of the question.
const COVERS: f32 = 0.5;

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
    /// Whether a knowledge-base passage or a rule answers its newest question now.
    pub covered: bool,
}

/// The words a question is compared by: its language's stemmed words without stop words.
fn content_words(text: &str) -> BTreeSet<String> {
    let lang = Lang::detect(text, Lang::Other);
    let mut words: BTreeSet<String> = terms(&mut lang.analyzer(), text).into_iter().collect();
    if words.is_empty() {
        words = terms(&mut Lang::Other.analyzer(), text).into_iter().collect();
    }
    words
}

fn similarity(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let shared = a.intersection(b).count();
    let all = a.union(b).count();
    if all == 0 { 0.0 } else { shared as f64 / all as f64 }
}

struct Group {
    words: BTreeSet<String>,
    members: Vec<QuestionGap>,
}

/// Groups questions, oldest first, each with the group it is most like (or a new one).
fn group(mut questions: Vec<QuestionGap>) -> Vec<Group> {
    questions.sort_by(|a, b| (a.asked_at, &a.message_id).cmp(&(b.asked_at, &b.message_id)));
    let mut groups: Vec<Group> = Vec::new();
    for question in questions {
        let words = content_words(&question.text);
        let best = groups
            .iter_mut()
            .map(|g| (similarity(&g.words, &words), g))
            .filter(|(s, _)| *s >= SIMILAR)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, group)) => group.members.push(question),
            None => groups.push(Group { words, members: vec![question] }),
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
        let mut gaps: Vec<KnowledgeGap> = group(questions).into_iter().map(summarise).collect();
        gaps.sort_by(|a, b| {
            b.questions.cmp(&a.questions).then(b.last_asked_at.cmp(&a.last_asked_at))
        });
        gaps.truncate(MAX_GROUPS);
        for gap in &mut gaps {
            gap.covered = self.answered_now(actor, gap).await?;
        }
        Ok(gaps)
    }

    /// Whether the knowledge base or a rule answers the gap's newest question now.
    async fn answered_now(&self, actor: &Actor, gap: &KnowledgeGap) -> Result<bool, EngineError> {
        let Some(question) = gap.examples.first() else { return Ok(false) };
        let tenant = &actor.tenant_id;
        let Some(conversation) = gap.conversation_ids.first() else { return Ok(false) };
        let widget =
            self.store.conversations.get_conversation(tenant, conversation).await?.widget_id;
        let request = SearchRequest {
            tenant,
            widget: Some(&widget),
            query: question,
            language: None,
            limit: 3,
        };
        let hits = self.knowledge.knowledge_search(&request).await.unwrap_or_default();
        if hits.iter().any(|h| h.coverage >= COVERS || h.exact) {
            return Ok(true);
        }
        let config = self.config(tenant).await?;
        let rules = self.cached_rules(&config, tenant, &widget).await?;
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
                && rule
                    .definition
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::ReplyText { .. } | Action::CallApi { .. }))
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
    KnowledgeGap {
        id,
        questions,
        examples,
        conversation_ids: conversations,
        reasons,
        last_asked_at: members[0].asked_at,
        covered: false,
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
        let groups = group(vec![
            asked("Do you ship to Norway?", &a, 1),
            asked("Can you ship to norway please", &b, 2),
            asked("What is your warranty on lamps?", &c, 3),
            asked("do you ship to Norway", &a, 4),
        ]);
        assert_eq!(groups.len(), 2);
        let shipping = summarise(groups.into_iter().next().unwrap());
        assert_eq!(shipping.questions, 2, "two conversations asked");
        assert_eq!(shipping.examples[0], "do you ship to Norway", "newest first");
        assert_eq!(shipping.reasons["no_answer"], 3);
    }
}
