//! Running test cases in a sandbox: the real engine, rules, knowledge base and AI, with the
//! conversations kept in a scratch database of their own (never in the inbox, the statistics or
//! a webhook) and every endpoint call answered by the case's fakes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_domain::test_case::Expectation;
use sb_domain::test_run::{CaseResult, Failure};
use sb_domain::{
    Conversation, ConversationId, ConversationStatus, Message, TestCase, Timestamp, Visitor,
};
use serde_json::json;

use super::expect::{Observed, check};
use super::fakes::Fakes;
use crate::ConversationsService;

/// How long one turn may take before the case fails: the AI and a slow fake included.
const TURN_LIMIT: Duration = Duration::from_secs(30);

/// Where one run's cases happen.
pub(crate) struct Sandbox {
    pub conversations: Arc<ConversationsService>,
    pub fakes: Arc<Fakes>,
    pub scratch: Arc<dyn sb_store::Store>,
    /// What the tenant wrote into its rules, for "no invented values".
    pub tenant_text: String,
}

impl Sandbox {
    /// Runs `case` from its first turn to its last, checking each expectation.
    pub(crate) async fn run(&self, case: &TestCase) -> CaseResult {
        let started = Instant::now();
        let mut failures = Vec::new();
        let conversation = match self.open(case).await {
            Ok(conversation) => conversation,
            Err(why) => {
                let failure =
                    Failure { turn: None, expectation: json!("the case starts"), observed: why };
                return self.result(case, None, vec![failure], started).await;
            }
        };
        let id = conversation.id.clone();
        let (tenant, mut said) = (&case.tenant_id, Vec::new());
        let mut replies: Vec<Message> = Vec::new();
        for (i, turn) in case.definition.turns.iter().enumerate() {
            said.push(turn.text.clone());
            let calls_before = self.fakes.calls(&id).len();
            let turn_replies = match self.say(&conversation, &turn.text).await {
                Ok(turn_replies) => turn_replies,
                Err(observed) => {
                    let expectation = json!("the turn finishes");
                    failures.push(Failure { turn: Some(i), expectation, observed });
                    break;
                }
            };
            let calls = self.fakes.calls(&id);
            let seen =
                self.observe(tenant, &id, &said, &turn_replies, &calls[calls_before..]).await;
            if let Some(seen) = &seen {
                failures.extend(checks(Some(i), &turn.expect, &seen.observed(self)));
            }
            failures.extend(self.judged(Some(i), &turn.expect, tenant, &id).await);
            replies.extend(turn_replies);
        }
        if let Some(simulate) = &case.definition.simulate {
            let first = case.definition.turns.len();
            let (more, failure) = self.simulated(&conversation, simulate, first, &mut said).await;
            replies.extend(more);
            failures.extend(failure);
        }
        let calls = self.fakes.calls(&id);
        if let Some(seen) = self.observe(tenant, &id, &said, &replies, &calls).await {
            failures.extend(checks(None, &case.definition.expect, &seen.observed(self)));
        }
        failures.extend(self.judged(None, &case.definition.expect, tenant, &id).await);
        for call in calls.iter().filter(|c| !c.faked) {
            let observed = format!(
                "{} was called with {} and no fake answers it",
                call.endpoint,
                json!(call.variables)
            );
            failures.push(Failure {
                turn: None,
                expectation: json!({"fake": call.endpoint}),
                observed,
            });
        }
        self.result(case, Some(&id), failures, started).await
    }

    /// Says `text` as the visitor; the replies, or why there were none.
    async fn say(&self, conversation: &Conversation, text: &str) -> Result<Vec<Message>, String> {
        match self.conversations.post_visitor_message(conversation, text, Some(TURN_LIMIT)).await {
            Ok(posted) if posted.finished => Ok(posted.replies),
            Ok(_) => Err(format!("the assistant did not finish within {} s", TURN_LIMIT.as_secs())),
            Err(err) => Err(format!("the message was refused: {err}")),
        }
    }

    /// The AI plays the visitor until it says its goal is met (or cannot be), or the messages
    /// allowed are written; the replies, and a failure when the goal was not met.
    async fn simulated(
        &self,
        conversation: &Conversation,
        simulate: &sb_domain::test_case::Simulate,
        first_turn: usize,
        said: &mut Vec<String>,
    ) -> (Vec<Message>, Option<Failure>) {
        let (tenant, id) = (&conversation.tenant_id, &conversation.id);
        let ai = self.conversations.ai();
        let mut replies = Vec::new();
        let fail = |turn: usize, observed: String| Failure {
            turn: Some(turn),
            expectation: json!({"simulate": {"goal": simulate.goal}}),
            observed,
        };
        for n in 0..simulate.max_turns as usize {
            let turn = first_turn + n;
            let transcript =
                self.scratch.list_messages(tenant, id, 0, 1000).await.unwrap_or_default();
            let next = match super::simulate::next_turn(ai, tenant, simulate, &transcript).await {
                Ok(next) => next,
                Err(why) => return (replies, Some(fail(turn, why))),
            };
            let Some(text) = next.message else {
                let failure = (!next.goal_met).then(|| {
                    fail(turn, "the simulated visitor gave up: the goal cannot be met".into())
                });
                return (replies, failure);
            };
            said.push(text.clone());
            match self.say(conversation, &text).await {
                Ok(more) => replies.extend(more),
                Err(why) => return (replies, Some(fail(turn, why))),
            }
        }
        let observed = format!("the goal was not met within {} messages", simulate.max_turns);
        (replies, Some(fail(first_turn + simulate.max_turns as usize, observed)))
    }

    /// The AI judge's verdicts on the `judge` expectations of `list`, over the conversation so
    /// far: a failure for each criterion not met, or that could not be judged.
    async fn judged(
        &self,
        turn: Option<usize>,
        list: &[Expectation],
        tenant: &sb_domain::TenantId,
        id: &ConversationId,
    ) -> Vec<Failure> {
        let criteria: Vec<&String> = list
            .iter()
            .filter_map(|e| match e {
                Expectation::Judge { judge } => Some(judge),
                _ => None,
            })
            .collect();
        if criteria.is_empty() {
            return Vec::new();
        }
        let transcript = self.scratch.list_messages(tenant, id, 0, 1000).await.unwrap_or_default();
        let ai = self.conversations.ai();
        let mut failures = Vec::new();
        for criterion in criteria {
            let observed = match super::judge::judge(ai, tenant, criterion, &transcript).await {
                Ok(verdict) if verdict.met => continue,
                Ok(verdict) => format!("the judge found it not met: {}", verdict.why),
                Err(why) => why,
            };
            failures.push(Failure { turn, expectation: json!({"judge": criterion}), observed });
        }
        failures
    }

    /// The case's conversation, as its visitor starts it.
    pub(super) async fn open(&self, case: &TestCase) -> Result<Conversation, String> {
        let who = &case.definition.visitor;
        let now = Timestamp::now();
        let conversation = Conversation {
            id: ConversationId::new(),
            tenant_id: case.tenant_id.clone(),
            widget_id: case.definition.widget_id.clone(),
            status: ConversationStatus::Open,
            assigned_to: None,
            assigned_team: None,
            visitor: Visitor {
                name: who.name.clone(),
                email: who.email.clone(),
                language: who.language.clone(),
                user_id: who.user_id.clone(),
                verified: who.verified,
                email_verified: who.verified && who.email.is_some(),
                ..Visitor::default()
            },
            variables: who.variables.clone(),
            created_at: now,
            updated_at: now,
            last_message_at: None,
            labels: Vec::new(),
            contact_id: None,
            outcome: None,
            closed_at: None,
            channel: sb_domain::ChannelRef::widget(&case.definition.widget_id),
        };
        let token = sb_domain::random_token(16);
        self.scratch.create_conversation(&conversation, &token).await.map_err(|e| e.to_string())?;
        self.fakes.register(&conversation.id, case.definition.fakes.clone());
        Ok(conversation)
    }

    async fn observe(
        &self,
        tenant: &sb_domain::TenantId,
        id: &ConversationId,
        said: &[String],
        replies: &[Message],
        calls: &[super::fakes::Call],
    ) -> Option<Seen> {
        let conversation = self.scratch.get_conversation(tenant, id).await.ok()?;
        let actions = self.scratch.conversation_actions(tenant, id).await.unwrap_or_default();
        let asked: Vec<_> = actions
            .into_iter()
            .filter(|a| {
                replies.iter().any(|m| m.action.as_ref().is_some_and(|card| card.id == a.id))
            })
            .collect();
        Some(Seen {
            said: said.to_vec(),
            replies: replies.to_vec(),
            calls: calls.to_vec(),
            actions: asked,
            variables: conversation.variables.clone(),
            conversation,
        })
    }

    async fn result(
        &self,
        case: &TestCase,
        conversation: Option<&ConversationId>,
        failures: Vec<Failure>,
        started: Instant,
    ) -> CaseResult {
        let tenant = &case.tenant_id;
        let (mut transcript, mut trace, mut calls) = (Vec::new(), Vec::new(), Vec::new());
        if let Some(id) = conversation {
            transcript = self.scratch.list_messages(tenant, id, 0, 1000).await.unwrap_or_default();
            trace = self
                .scratch
                .list_trace(tenant, id)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|e| json!({"kind": e.kind, "data": e.data, "at": e.at}))
                .collect();
            calls = self.fakes.calls(id).iter().map(|c| json!(c)).collect();
        }
        CaseResult {
            case_id: case.id.clone(),
            name: case.name.clone(),
            passed: failures.is_empty(),
            failures,
            transcript,
            trace,
            calls,
            duration_ms: started.elapsed().as_millis() as u64,
            since_last_pass: None,
        }
    }
}

/// A turn's (or the whole case's) observations, owned.
struct Seen {
    said: Vec<String>,
    replies: Vec<Message>,
    calls: Vec<super::fakes::Call>,
    actions: Vec<sb_domain::action::PendingAction>,
    conversation: Conversation,
    variables: sb_domain::template::Variables,
}

impl Seen {
    fn observed<'a>(&'a self, sandbox: &'a Sandbox) -> Observed<'a> {
        Observed {
            visitor_texts: &self.said,
            replies: &self.replies,
            calls: &self.calls,
            actions: &self.actions,
            conversation: &self.conversation,
            variables: &self.variables,
            tenant_text: &sandbox.tenant_text,
        }
    }
}

fn checks(turn: Option<usize>, list: &[Expectation], seen: &Observed<'_>) -> Vec<Failure> {
    list.iter()
        .filter_map(|expectation| {
            check(expectation, seen).err().map(|observed| Failure {
                turn,
                expectation: json!(expectation),
                observed,
            })
        })
        .collect()
}
