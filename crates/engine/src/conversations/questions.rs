//! A rule that lacks an input asks the visitor for it and goes on with the answer: the rest of
//! the rule (from the call that needed it) is kept with the conversation, and the next message
//! is read for the input first. A message that does not hold it drops the question and is
//! handled like any other (the visitor may have changed the subject).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::arguments::{Filled, fill};
use super::process::Run;
use crate::{ConversationsService, EngineError};

/// The open question of a conversation, kept with its session variables (read-only for rules,
/// never shown to the AI).
pub const QUESTION: &str = "conversation.question";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Question {
    /// The rule that asked; its actions run on in its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<sb_domain::RuleId>,
    /// The input asked for.
    pub input: String,
    /// The rest of the rule, starting with the call that needs the input.
    pub then: Vec<sb_domain::Action>,
}

impl Question {
    /// The input's definition on the call that waits for it.
    fn argument(&self) -> Option<&sb_domain::Argument> {
        match self.then.first()? {
            sb_domain::Action::CallApi { arguments, .. }
            | sb_domain::Action::CallTool { arguments, .. } => arguments.get(&self.input),
            _ => None,
        }
    }
}

impl ConversationsService {
    /// Puts `question` to the visitor and keeps `asked` for the answer; the rule stops here.
    pub(crate) async fn ask(&self, run: &mut Run<'_>, asked: Question, question: &str) {
        run.vars.insert(QUESTION.into(), json!(asked));
        let rule = sb_domain::analytics::ReplySource::Rule;
        if let Err(err) = self.reply(run, question, rule).await {
            tracing::warn!(error = %err, "could not ask for an input");
        }
        run.waiting_for_answer = true;
    }

    /// With an open question, reads the message as its answer. Returns whether it was one (the
    /// rule then ran on, and the message needs no other handling).
    pub(crate) async fn answer_question(&self, run: &mut Run<'_>) -> Result<bool, EngineError> {
        let Some(open) = run.vars.remove(QUESTION) else {
            return Ok(false);
        };
        let question: Option<Question> = serde_json::from_value(open).ok();
        let Some(question) = question else {
            return Ok(false);
        };
        let answered = question.argument().and_then(|argument| {
            // Read for the value only: the earlier value and the question itself do not count.
            let mut only = argument.input().into_owned();
            only.reuse = false;
            only.ask = None;
            let only = sb_domain::Argument::Input(only);
            matches!(fill(&question.input, &only, &run.message.text, &run.vars), Filled::Found(_))
                .then_some(())
        });
        let data = json!({"name": question.input, "rule_id": question.rule_id});
        if answered.is_none() {
            self.note(run, "question_dropped", with_reason(data, "the message holds no answer"))
                .await;
            return Ok(false);
        }
        // The waiting call reads the input from this message, like any other.
        self.note(run, "question_answered", data).await;
        run.rule = question.rule_id.clone();
        self.run_actions(run, &question.then).await?;
        run.rule = None;
        Ok(true)
    }
}

fn with_reason(mut data: Value, reason: &str) -> Value {
    data["reason"] = json!(reason);
    data
}
