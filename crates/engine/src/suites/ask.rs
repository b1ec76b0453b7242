//! One question for the assistant in the test suites' sandbox (the MCP server's
//! `ask_assistant` by default): the real rules, knowledge base and AI, a scratch conversation
//! nobody sees, and no backend reached — each call the assistant would make fails as an
//! unreachable backend would and is named in the answer.

use std::sync::Arc;

use sb_domain::test_case::{TestTurn, TestVisitor};
use sb_domain::{
    ConversationStatus, Message, Role, TestCase, TestCaseDefinition, TestCaseId, Timestamp,
    WidgetId,
};

use super::SuitesService;
use super::fakes::Fakes;
use super::run::Sandbox;
use crate::{Actor, EngineError};

pub struct SandboxAnswer {
    pub replies: Vec<Message>,
    /// Whether the assistant handed the conversation to people.
    pub handed_over: bool,
    /// The endpoints (or tools) the assistant called, none of which was reached.
    pub calls_not_made: Vec<String>,
}

impl SuitesService {
    /// The assistant's answer to `question` on `widget`, in the sandbox.
    pub async fn ask_in_sandbox(
        &self,
        actor: &Actor,
        widget: &WidgetId,
        language: Option<String>,
        question: &str,
    ) -> Result<SandboxAnswer, EngineError> {
        actor.require(Role::Operator)?;
        self.store.widgets.get_widget(&actor.tenant_id, widget).await?;
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
                widget_id: widget.clone(),
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
        let replies = sandbox
            .say(&conversation, question)
            .await
            .map_err(|observed| EngineError::Backend { code: "not_finished", message: observed })?;
        let after = sandbox.scratch.get_conversation(&actor.tenant_id, &conversation.id).await?;
        let mut calls_not_made: Vec<String> = sandbox
            .fakes
            .calls(&conversation.id)
            .into_iter()
            .filter(|c| !c.faked)
            .map(|c| c.endpoint)
            .collect();
        calls_not_made.dedup();
        Ok(SandboxAnswer {
            replies,
            handed_over: after.status == ConversationStatus::Pending,
            calls_not_made,
        })
    }
}
