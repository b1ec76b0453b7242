//! Talking to language models: one [`Provider`] trait over the OpenAI-compatible Chat
//! Completions API (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp, OpenRouter, …) and the
//! Anthropic Messages API, with tool calling, JSON-schema-constrained answers, one retry on
//! overload, and token accounting. Plus language detection for visitors' messages.

mod anthropic;
mod error;
pub mod language;
mod openai;
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
mod types;

use std::sync::Arc;
use std::time::Duration;

use sb_net::HttpClient;
use sb_secrets::Secret;

pub use error::LlmError;
pub use types::{
    ChatMessage, ChatRequest, ChatResponse, Embeddings, Role, Structured, ToolCall, ToolSpec, Usage,
};

/// A chat model that can call tools.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// `openai` or `anthropic`.
    fn kind(&self) -> &'static str;
    fn model(&self) -> &str;
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;

    /// Vectors for `texts` from the provider's embeddings endpoint, with `model()` as the
    /// embeddings model. Not every API has one.
    async fn embed(&self, _texts: &[String]) -> Result<Embeddings, LlmError> {
        Err(LlmError::new(
            "not_supported",
            format!("the {} API has no embeddings endpoint", self.kind()),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible Chat Completions API.
    Openai,
    Anthropic,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Openai => "https://api.openai.com/v1",
            Self::Anthropic => "https://api.anthropic.com",
        }
    }
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "openai" => Ok(Self::Openai),
            "anthropic" => Ok(Self::Anthropic),
            other => Err(format!("unknown AI provider {other:?}: use openai or anthropic")),
        }
    }
}

pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// Empty: the provider's public API.
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    pub model: String,
    /// Deadline for one request to the provider (retry included).
    pub timeout: Duration,
}

/// Builds a provider that sends through `http` — the SSRF-filtered client for base URLs a
/// tenant chose, the operator client for the server-wide one.
pub fn provider(config: ProviderConfig, http: HttpClient) -> Arc<dyn Provider> {
    let base_url = if config.base_url.trim().is_empty() {
        config.kind.default_base_url().to_owned()
    } else {
        config.base_url.trim().trim_end_matches('/').to_owned()
    };
    let transport =
        transport::Transport { http, base_url, api_key: config.api_key, timeout: config.timeout };
    match config.kind {
        ProviderKind::Openai => Arc::new(openai::OpenAi { transport, model: config.model }),
        ProviderKind::Anthropic => {
            Arc::new(anthropic::Anthropic { transport, model: config.model })
        }
    }
}
