//! One question for the assistant in the test suites' sandbox (the MCP server's
//! `ask_assistant` by default): the real rules, knowledge base and AI, a scratch conversation
//! nobody sees, and no backend reached — each call the assistant would make fails as an
//! unreachable backend would and is named in the answer.

use std::sync::Arc;

use sb_domain::test_case::{TestTurn, TestVisitor};
use sb_domain::{
    ConversationStatus, Message, Role, TestCase, TestCaseDefinition, TestCaseId, Timestamp,
};
use sb_store::StoredWidget;

use super::SuitesService;
use super::fakes::Fakes;
use super::run::Sandbox;
use crate::conversations::ANSWER_WAIT;
use crate::{Actor, EngineError};

pub struct SandboxAnswer {
    pub replies: Vec<Message>,
    /// Whether the assistant handed the conversation to people.
    pub handed_over: bool,
    /// The endpoints (or tools) the assistant called, each once, none of them reached.
    pub calls_not_made: Vec<String>,
    /// Whether the assistant finished within the wait.
    pub finished: bool,
}

impl SuitesService {
    /// The assistant's answer to `question` on `widget` (one of the actor's account's), in
    /// the sandbox.
    pub async fn ask_in_sandbox(
        &self,
        actor: &Actor,
        widget: &StoredWidget,
        language: Option<String>,
        question: &str,
    ) -> Result<SandboxAnswer, EngineError> {
        actor.require(Role::Operator)?;
        if widget.widget.tenant_id != actor.tenant_id {
            return Err(EngineError::NotFound("widget"));
        }
        let (scratch, _guard) = self.scratch.open().await?;
        let fakes = Arc::new(Fakes::default());
        let sandbox = Sandbox {
            conversations: self.conversations.sandboxed(&scratch, fakes.clone()),
            fakes,
            scratch,
            tenant_text: String::new(),
        };
        let now = Timestamp::now();
        let case = TestCase {
            id: TestCaseId::new(),
            tenant_id: actor.tenant_id.clone(),
            name: "question".into(),
            definition: TestCaseDefinition {
                widget_id: widget.widget.id.clone(),
                visitor: TestVisitor { language, ..TestVisitor::default() },
                turns: vec![TestTurn { text: question.to_owned(), expect: Vec::new() }],
                suite: None,
                fakes: Vec::new(),
                expect: Vec::new(),
                simulate: None,
            },
            created_at: now,
            updated_at: now,
        };
        let conversation = sandbox.open(&case).await.map_err(EngineError::Internal)?;
        let posted = sandbox
            .conversations
            .post_visitor_message(&conversation, question, Some(ANSWER_WAIT))
            .await?;
        let after = sandbox.scratch.get_conversation(&actor.tenant_id, &conversation.id).await?;
        let mut calls_not_made: Vec<String> = Vec::new();
        for call in sandbox.fakes.calls(&conversation.id).into_iter().filter(|c| !c.faked) {
            if !calls_not_made.contains(&call.endpoint) {
                calls_not_made.push(call.endpoint);
            }
        }
        Ok(SandboxAnswer {
            replies: posted.replies,
            finished: posted.finished,
            handed_over: after.status == ConversationStatus::Pending,
            calls_not_made,
        })
    }
}
