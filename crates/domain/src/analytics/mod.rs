//! What analytics reads of conversations: which source answered each of the assistant's
//! replies, and how each conversation ended (docs/analytics.md defines both exactly).

mod report;

pub use report::{
    AiUse, EndpointCalls, FirstResponse, Helpful, HourCount, Marks, Outcomes, Percentiles,
    RatingSummary, RuleFired, Summary, TIMESERIES_METRICS, Totals,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an assistant's reply came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReplySource {
    /// A rule's own text (`REPLY_TEXT` with no data from a call in this turn, a question a rule
    /// asks, what became of an action).
    Rule,
    /// A rule's text after one of the account's endpoints answered in the same turn.
    Api,
    /// A passage of the knowledge base.
    Kb,
    /// The AI model.
    Ai,
    /// A fallback: the text a rule gives when the AI or the knowledge base could not answer,
    /// or the built-in "the team will answer" when the AI failed.
    Fallback,
}

impl ReplySource {
    pub const ALL: [ReplySource; 5] = [Self::Rule, Self::Api, Self::Kb, Self::Ai, Self::Fallback];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Api => "api",
            Self::Kb => "kb",
            Self::Ai => "ai",
            Self::Fallback => "fallback",
        }
    }
}

impl std::str::FromStr for ReplySource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown reply source {s:?}"))
    }
}

/// How a closed conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The assistant answered every visitor message, no person wrote or was handed it, and
    /// the visitor did not rate it 1 or 2.
    AssistantResolved,
    /// A person of the team wrote in it.
    ResolvedWithPerson,
    /// It was handed to people (a person or a team), and none wrote before it closed.
    HandedOver,
    /// The visitor left without an answer: their last message got none, or they rated it 1 or 2
    /// with only the assistant there.
    Abandoned,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AssistantResolved => "assistant_resolved",
            Self::ResolvedWithPerson => "resolved_with_person",
            Self::HandedOver => "handed_over",
            Self::Abandoned => "abandoned",
        }
    }

    /// How a conversation with these facts ended.
    pub fn of(facts: &OutcomeFacts) -> Self {
        if facts.operator_messages > 0 {
            Self::ResolvedWithPerson
        } else if facts.handed_over {
            Self::HandedOver
        } else if !facts.last_visitor_message_answered || facts.rating.is_some_and(|r| r <= 2) {
            Self::Abandoned
        } else {
            Self::AssistantResolved
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Self::AssistantResolved, Self::ResolvedWithPerson, Self::HandedOver, Self::Abandoned]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown outcome {s:?}"))
    }
}

/// A visitor question the assistant did not answer well (a knowledge gap's member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionGap {
    pub message_id: crate::MessageId,
    pub conversation_id: crate::ConversationId,
    pub widget_id: crate::WidgetId,
    pub text: String,
    /// `no_answer`, `fallback` or `not_helpful`.
    pub reason: String,
    pub asked_at: crate::Timestamp,
}

/// What decides a conversation's [`Outcome`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeFacts {
    /// Messages people of the team wrote (notes do not count).
    pub operator_messages: u32,
    /// Whether it was ever assigned to a person or a team.
    pub handed_over: bool,
    /// Whether the assistant or a person wrote after the visitor's last message (true when the
    /// visitor wrote nothing).
    pub last_visitor_message_answered: bool,
    /// The visitor's rating, 1–5.
    pub rating: Option<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_follows_its_definition() {
        let answered = OutcomeFacts { last_visitor_message_answered: true, ..Default::default() };
        assert_eq!(Outcome::of(&answered), Outcome::AssistantResolved);
        let rated = |r| OutcomeFacts { rating: Some(r), ..answered };
        assert_eq!(Outcome::of(&rated(3)), Outcome::AssistantResolved);
        assert_eq!(Outcome::of(&rated(2)), Outcome::Abandoned);
        assert_eq!(Outcome::of(&OutcomeFacts::default()), Outcome::Abandoned);
        let handed = OutcomeFacts { handed_over: true, ..answered };
        assert_eq!(Outcome::of(&handed), Outcome::HandedOver);
        let person = OutcomeFacts { operator_messages: 1, handed_over: true, ..Default::default() };
        assert_eq!(Outcome::of(&person), Outcome::ResolvedWithPerson);
        for source in ReplySource::ALL {
            assert_eq!(source.as_str().parse::<ReplySource>(), Ok(source));
        }
    }
}
