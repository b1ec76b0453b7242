//! The MCP tools over what the assistant knows and says: `search_knowledge_base` and
//! `ask_assistant` (the test suites' sandbox, or live for keys with `mcp:assistant`).

use sb_domain::MAX_MESSAGE_CHARS;
use sb_domain::action::ActionCard;
use sb_domain::{Author, ConversationId, DocumentId, Message, WidgetId};
use sb_engine::conversations::AskedIn;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchInput {
    /// The question or words to look for.
    query: String,
    /// Passages to return, 1 to 10 (default 5).
    #[schemars(range(min = 1, max = 10))]
    limit: Option<usize>,
    /// The question's language (`de`), for its word forms; guessed when absent.
    language: Option<String>,
    /// Only what this widget's assistant may use.
    widget_id: Option<WidgetId>,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct Passage {
    document_id: DocumentId,
    /// The document's title.
    title: String,
    url: Option<String>,
    /// The headings above the passage in its document.
    headings: Vec<String>,
    text: String,
    /// Higher is better; comparable within one search only.
    score: f32,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct SearchOutput {
    /// Best first.
    results: Vec<Passage>,
}

pub(super) async fn search(
    state: &AppState,
    caller: &Caller,
    input: SearchInput,
) -> ApiResult<SearchOutput> {
    if input.query.trim().is_empty() {
        return Err(invalid("query", "required", "say what to look for"));
    }
    let limit = input.limit.unwrap_or(5).clamp(1, 10);
    let hits = state
        .knowledge
        .search_knowledge(
            &caller.actor,
            &input.query,
            input.widget_id.as_ref(),
            input.language.as_deref(),
            limit,
        )
        .await?;
    let results = hits
        .into_iter()
        .map(|hit| Passage {
            document_id: hit.document_id,
            title: hit.title,
            url: hit.url,
            headings: hit.headings,
            text: hit.text,
            score: hit.score,
        })
        .collect();
    Ok(SearchOutput { results })
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AskInput {
    /// What a customer would write.
    question: String,
    /// The widget (and so the rules and knowledge) to ask; default the account's first active
    /// one. A new conversation only.
    widget_id: Option<WidgetId>,
    /// The customer's language (`de`), when it should not be guessed from the question. A new
    /// conversation only.
    language: Option<String>,
    /// A real conversation, with real lookups in the business's systems (keys with the
    /// mcp:assistant scope). Default false: the sandbox.
    #[serde(default)]
    live: bool,
    /// Go on with a live conversation an earlier answer started.
    conversation_id: Option<ConversationId>,
    /// The `conversation_token` that answer gave.
    conversation_token: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct Reply {
    /// bot (the assistant), operator (a person) or system.
    author: Author,
    text: String,
    /// An action waiting for agreement before it runs (e.g. a cancellation).
    action: Option<ActionCard>,
}

impl From<Message> for Reply {
    fn from(message: Message) -> Self {
        let text = message.text_with_files();
        Self { author: message.author, text, action: message.action.map(|a| *a) }
    }
}

#[derive(Serialize, JsonSchema)]
pub(super) struct AskOutput {
    /// `sandbox` or `live`.
    mode: &'static str,
    replies: Vec<Reply>,
    /// Whether the assistant handed the conversation to people.
    handed_over: bool,
    /// Sandbox: the endpoints and tools the assistant called, none of them reached.
    calls_not_made: Vec<String>,
    /// Live: the conversation, in the inbox like any other.
    conversation_id: Option<ConversationId>,
    /// Live, a new conversation: pass it back with conversation_id to go on with it.
    conversation_token: Option<String>,
    /// False when the assistant was still working after 30 s (later replies arrive in the
    /// conversation).
    finished: bool,
}

pub(super) async fn ask(
    state: &AppState,
    caller: &Caller,
    input: AskInput,
) -> ApiResult<AskOutput> {
    let actor = &caller.actor;
    let question = input.question.trim();
    if question.is_empty() {
        return Err(invalid("question", "required", "say what to ask"));
    }
    if question.chars().count() > MAX_MESSAGE_CHARS {
        let message = format!("ask in at most {MAX_MESSAGE_CHARS} characters");
        return Err(invalid("question", "too_long", &message));
    }
    let conversations = &state.conversations;
    if !input.live {
        if input.conversation_id.is_some() || input.conversation_token.is_some() {
            let message = "only a live conversation goes on; the sandbox keeps nothing";
            return Err(invalid("conversation_id", "live_only", message));
        }
        let widget = conversations.agent_widget(actor, input.widget_id.as_ref()).await?;
        // Each question costs what a new visitor's conversation does: the same limits.
        state.visitor_limits.check_start(caller.ip, &widget.widget.id)?;
        let answer = state.suites.ask_in_sandbox(actor, &widget, input.language, question).await?;
        return Ok(AskOutput {
            mode: "sandbox",
            replies: answer.replies.into_iter().map(Reply::from).collect(),
            handed_over: answer.handed_over,
            calls_not_made: answer.calls_not_made,
            conversation_id: None,
            conversation_token: None,
            finished: answer.finished,
        });
    }
    let asked_in = match (input.conversation_id, input.conversation_token) {
        (None, None) => {
            let widget = conversations.agent_widget(actor, input.widget_id.as_ref()).await?;
            state.visitor_limits.check_start(caller.ip, &widget.widget.id)?;
            AskedIn::New(widget)
        }
        (Some(id), Some(token)) => {
            if input.widget_id.is_some() || input.language.is_some() {
                let message = "a conversation keeps its widget and language: leave them out";
                let field = if input.widget_id.is_some() { "widget_id" } else { "language" };
                return Err(invalid(field, "not_with_conversation", message));
            }
            let conversation = conversations.agent_conversation(caller, &id, &token).await?;
            state.visitor_limits.check_message(caller.ip, &conversation)?;
            AskedIn::Existing(conversation)
        }
        (Some(_), None) => {
            let message = "pass the conversation_token the conversation's first answer gave";
            return Err(invalid("conversation_token", "required", message));
        }
        (None, Some(_)) => {
            return Err(invalid("conversation_id", "required", "name the conversation"));
        }
    };
    let answer = conversations.ask_live(caller, asked_in, input.language, question).await?;
    Ok(AskOutput {
        mode: "live",
        replies: answer.replies.into_iter().map(Reply::from).collect(),
        handed_over: answer.conversation.status == sb_domain::ConversationStatus::Pending,
        calls_not_made: Vec::new(),
        conversation_id: Some(answer.conversation.id),
        conversation_token: answer.visitor_token,
        finished: answer.finished,
    })
}

fn invalid(field: &str, code: &'static str, message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
}
