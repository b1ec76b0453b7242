//! The MCP server's tools: what each is called, what it needs and answers (the schemas come
//! from the Rust types it reads and writes), and which API-key scope opens it.

use std::sync::{Arc, LazyLock};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use sb_domain::{ApiKey, ApiKeyScope};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Caller, assistant, desk};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Runs a tool on the caller's arguments.
type Run = for<'a> fn(&'a AppState, &'a Caller, Value) -> BoxFuture<'a, ApiResult<Value>>;
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub(super) struct Spec {
    /// Any of these opens the tool.
    pub scopes: &'static [ApiKeyScope],
    pub tool: Tool,
    pub run: Run,
}

const READ: &[ApiKeyScope] = &[ApiKeyScope::McpRead];
const WRITE: &[ApiKeyScope] = &[ApiKeyScope::McpWrite];
const ASK: &[ApiKeyScope] = &[ApiKeyScope::McpRead, ApiKeyScope::McpAssistant];

fn spec<I: JsonSchema + 'static, O: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: &'static str,
    scopes: &'static [ApiKeyScope],
    read_only: bool,
    run: Run,
) -> Spec {
    let annotations = ToolAnnotations::with_title(title)
        .read_only(read_only)
        .destructive(false)
        .open_world(false);
    let tool = Tool::new(name, description, Arc::new(JsonObject::new()))
        .with_title(title)
        .with_input_schema::<I>()
        .with_output_schema::<O>()
        .with_annotations(annotations);
    Spec { scopes, tool, run }
}

static CATALOG: LazyLock<Vec<Spec>> = LazyLock::new(|| {
    vec![
        spec::<assistant::SearchInput, assistant::SearchOutput>(
            "search_knowledge_base",
            "Search the knowledge base",
            "Finds the passages of the business's knowledge base (help articles, policies) \
             that best answer a question, best first.",
            READ,
            true,
            |state, caller, arguments| {
                Box::pin(answer(arguments, |input| assistant::search(state, caller, input)))
            },
        ),
        spec::<assistant::AskInput, assistant::AskOutput>(
            "ask_assistant",
            "Ask the support assistant",
            "Asks the business's support assistant a question, as a customer would on its \
             website, and returns its replies. By default in a sandbox: nothing is stored and \
             no backend is reached (calls it would make are listed in calls_not_made). With \
             live=true (keys with the mcp:assistant scope) it is a real conversation with real \
             lookups; pass back conversation_id and conversation_token to go on with it.",
            ASK,
            false,
            |state, caller, arguments| {
                Box::pin(answer(arguments, |input| assistant::ask(state, caller, input)))
            },
        ),
        spec::<desk::ListInput, desk::ListOutput>(
            "list_conversations",
            "List conversations",
            "Lists the business's conversations with customers, latest activity first, with \
             filters for status, assignee, label and words they contain.",
            READ,
            true,
            |state, caller, arguments| {
                Box::pin(answer(arguments, |input| desk::list(state, caller, input)))
            },
        ),
        spec::<desk::GetInput, desk::GetOutput>(
            "get_conversation",
            "Read a conversation",
            "Returns one conversation: the customer, its state, its variables and its latest \
             messages (private notes included, marked private).",
            READ,
            true,
            |state, caller, arguments| {
                Box::pin(answer(arguments, |input| desk::get(state, caller, input)))
            },
        ),
        spec::<desk::ReplyInput, desk::ReplyOutput>(
            "reply_to_conversation",
            "Reply to a conversation",
            "Sends a reply to the customer as the support team (the conversation is taken \
             over from the assistant), or with private=true adds a note only the team sees.",
            WRITE,
            false,
            |state, caller, arguments| {
                Box::pin(answer(arguments, |input| desk::reply(state, caller, input)))
            },
        ),
        spec::<desk::AssignInput, desk::AssignOutput>(
            "assign_conversation",
            "Assign a conversation",
            "Hands a conversation to a person (user_id), a team (team_id), or with neither to \
             whoever of the team is free.",
            WRITE,
            false,
            |state, caller, arguments| {
                Box::pin(answer(arguments, |input| desk::assign(state, caller, input)))
            },
        ),
    ]
});

/// The tools the key may call.
pub(super) fn offered(key: &ApiKey) -> Vec<Tool> {
    CATALOG
        .iter()
        .filter(|spec| spec.scopes.iter().any(|scope| key.allows(*scope)))
        .map(|spec| spec.tool.clone())
        .collect()
}

pub(super) fn find(name: &str) -> Option<&'static Spec> {
    CATALOG.iter().find(|spec| spec.tool.name == name)
}

/// Reads the arguments as `I` (a bad one is named by its path), runs `tool`, writes its answer.
async fn answer<I, O, F>(arguments: Value, tool: impl FnOnce(I) -> F) -> ApiResult<Value>
where
    I: DeserializeOwned,
    O: Serialize,
    F: Future<Output = ApiResult<O>>,
{
    let input = serde_path_to_error::deserialize(arguments).map_err(|err| {
        let field = err.path().to_string();
        let message = err.into_inner().to_string();
        let err = ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_arguments",
            message,
        );
        if field == "." { err } else { err.with_field(field) }
    })?;
    let output = tool(input).await?;
    serde_json::to_value(output).map_err(ApiError::internal)
}
