//! AI: which model answers for a tenant (its own settings, else the server's), the settings
//! use-cases, and token accounting. Replies, intents, extraction and translation build on it.

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use sb_domain::{AiSettings, AiUsage, ConversationId, Role, TenantId, Timestamp, ValidationError};
use sb_llm::{ChatRequest, ChatResponse, LlmError, Provider, ProviderConfig, ProviderKind};
use sb_net::{HttpClient, Url};
use sb_secrets::Secret;

use crate::{Actor, EngineError};

stores!(AiStores { ai: AiStore });

/// The AI aggregate: the tenant's provider settings, and every model call (which model
/// answers for a tenant, tokens recorded per tenant and conversation).
pub struct AiService {
    store: AiStores,
    keyring: Arc<sb_secrets::Keyring>,
    ai: Ai,
}

impl AiService {
    pub fn new(
        store: &Arc<dyn sb_store::Store>,
        keyring: Arc<sb_secrets::Keyring>,
        ai: Ai,
    ) -> Arc<Self> {
        Arc::new(Self { store: AiStores::of(store), keyring, ai })
    }

    /// How model calls are made on this server (timeouts, rounds, history length).
    pub(crate) fn config(&self) -> &AiConfig {
        &self.ai.config
    }
}

/// The server-wide provider, configured by the operator.
#[derive(Debug, Clone)]
pub struct ServerAi {
    pub kind: ProviderKind,
    pub base_url: String,
    pub api_key: Option<Secret<String>>,
    pub model: String,
    /// Embeds knowledge-base passages and questions; empty: full-text search only.
    pub embedding_model: String,
}

pub struct AiConfig {
    pub server: Option<ServerAi>,
    /// Deadline of one model request.
    pub timeout: Duration,
    /// Rounds of tool calls in one reply before the AI has to answer.
    pub max_tool_rounds: usize,
    /// Earlier messages of the conversation given to the model.
    pub history_messages: u32,
}

/// The AI service: configuration and the two HTTP clients providers are reached through.
pub struct Ai {
    pub config: AiConfig,
    /// SSRF-filtered: for base URLs a tenant chose.
    pub tenant_http: HttpClient,
    /// Unfiltered: only for the operator's server-wide provider.
    pub operator_http: HttpClient,
}

/// A tenant's AI settings as shown: the key only as `api_key_set`.
pub struct AiSettingsView {
    pub settings: Option<AiSettings>,
    pub api_key_set: bool,
    pub server_default: Option<ServerAi>,
}

/// Where a tenant's model calls go: its own settings or the server's.
struct Resolved {
    kind: ProviderKind,
    base_url: String,
    api_key: Option<Secret<String>>,
    model: String,
    embedding_model: String,
    instructions: String,
    http: HttpClient,
}

/// Which AI answers for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AiSource {
    /// The tenant's own provider.
    Tenant,
    /// The server-wide provider.
    Server,
    /// None: AI is off.
    None,
}

/// The AI settings as the API shows them. The tenant's own settings carry every field; the
/// server's default only `provider` and `model`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct AiSettingsShown {
    pub source: AiSource,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_set: Option<bool>,
    /// The model that embeds knowledge-base passages (empty: full-text search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<sb_domain::Timestamp>,
}

impl AiSettingsView {
    pub fn shown(&self) -> AiSettingsShown {
        let source = match (&self.settings, &self.server_default) {
            (Some(_), _) => AiSource::Tenant,
            (None, Some(_)) => AiSource::Server,
            (None, None) => AiSource::None,
        };
        let mut shown = AiSettingsShown {
            source,
            enabled: source != AiSource::None,
            provider: None,
            model: None,
            base_url: None,
            instructions: None,
            api_key_set: None,
            embedding_model: None,
            updated_at: None,
        };
        if let Some(s) = &self.settings {
            shown.provider = Some(s.provider.clone());
            shown.model = Some(s.model.clone());
            shown.base_url = Some(s.base_url.clone());
            shown.instructions = Some(s.instructions.clone());
            shown.api_key_set = Some(self.api_key_set);
            shown.embedding_model = Some(s.embedding_model.clone());
            shown.updated_at = Some(s.updated_at);
        } else if let Some(server) = &self.server_default {
            shown.provider = Some(server.kind.as_str().to_owned());
            shown.model = Some(server.model.clone());
            shown.embedding_model = Some(server.embedding_model.clone());
        }
        shown
    }
}

pub struct AiSettingsDraft {
    pub provider: String,
    pub base_url: Option<String>,
    pub model: String,
    pub api_key: Option<Secret<String>>,
    pub instructions: Option<String>,
    pub embedding_model: Option<String>,
}

/// What a model call was for, in the usage records.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Reply,
    Intent,
    Extract,
    Translate,
    Embed,
    /// A test case's AI judge.
    Judge,
    /// A test case's simulated visitor.
    Simulate,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reply => "reply",
            Purpose::Intent => "intent",
            Purpose::Extract => "extract",
            Purpose::Translate => "translate",
            Purpose::Embed => "embed",
            Purpose::Judge => "judge",
            Purpose::Simulate => "simulate",
        }
    }
}

impl AiService {
    /// Where `tenant`'s model calls go: its own settings if it has any, else the server's, else
    /// nowhere (AI is off).
    async fn resolve(&self, tenant: &TenantId) -> Result<Option<Resolved>, EngineError> {
        if let Some((settings, sealed)) = self.store.ai.get_ai_settings(tenant).await? {
            let api_key = match sealed {
                Some(sealed) => {
                    let bytes = self
                        .keyring
                        .open(tenant.as_str(), &sealed)
                        .map_err(|e| EngineError::Internal(format!("AI key: {e}")))?;
                    Some(Secret::new(
                        String::from_utf8(bytes)
                            .map_err(|_| EngineError::Internal("AI key is not text".into()))?,
                    ))
                }
                None => None,
            };
            return Ok(Some(Resolved {
                kind: settings.provider.parse().map_err(EngineError::Internal)?,
                base_url: settings.base_url,
                api_key,
                model: settings.model,
                embedding_model: settings.embedding_model,
                instructions: settings.instructions,
                http: self.ai.tenant_http.clone(),
            }));
        }
        Ok(self.ai.config.server.as_ref().map(|server| Resolved {
            kind: server.kind,
            base_url: server.base_url.clone(),
            api_key: server.api_key.clone(),
            model: server.model.clone(),
            embedding_model: server.embedding_model.clone(),
            instructions: String::new(),
            http: self.ai.operator_http.clone(),
        }))
    }

    /// The model that answers for `tenant`, with the tenant's instructions; `None`: AI is off.
    pub(crate) async fn provider_for(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<(Arc<dyn Provider>, String)>, EngineError> {
        Ok(self.resolve(tenant).await?.map(|r| {
            let config = ProviderConfig {
                kind: r.kind,
                base_url: r.base_url,
                api_key: r.api_key,
                model: r.model,
                timeout: self.ai.config.timeout,
            };
            (sb_llm::provider(config, r.http), r.instructions)
        }))
    }

    /// The embeddings model for `tenant`'s knowledge base; `None`: full-text search only.
    pub(crate) async fn embedder_for(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<Arc<dyn Provider>>, EngineError> {
        let Some(r) = self.resolve(tenant).await? else { return Ok(None) };
        if r.embedding_model.is_empty() || r.kind != ProviderKind::Openai {
            return Ok(None);
        }
        let config = ProviderConfig {
            kind: r.kind,
            base_url: r.base_url,
            api_key: r.api_key,
            model: r.embedding_model,
            timeout: self.ai.config.timeout,
        };
        Ok(Some(sb_llm::provider(config, r.http)))
    }

    /// One model call, with its tokens recorded for the tenant and conversation.
    pub(crate) async fn chat(
        &self,
        provider: &dyn Provider,
        tenant: &TenantId,
        conversation: Option<&ConversationId>,
        purpose: Purpose,
        request: &ChatRequest,
    ) -> Result<ChatResponse, LlmError> {
        let response = provider.chat(request).await?;
        let usage = AiUsage {
            tenant_id: tenant.clone(),
            conversation_id: conversation.cloned(),
            purpose: purpose.as_str().into(),
            provider: provider.kind().into(),
            model: provider.model().into(),
            input_tokens: response.usage.input_tokens,
            output_tokens: response.usage.output_tokens,
            at: Timestamp::now(),
        };
        if let Err(err) = self.store.ai.record_ai_usage(&usage).await {
            tracing::warn!(error = %err, "could not record AI token usage");
        }
        metrics::counter!("ai_tokens_total", "direction" => "input")
            .increment(response.usage.input_tokens);
        metrics::counter!("ai_tokens_total", "direction" => "output")
            .increment(response.usage.output_tokens);
        Ok(response)
    }

    /// Vectors for `texts`, with the tokens recorded for the tenant.
    pub(crate) async fn embed_texts(
        &self,
        provider: &dyn Provider,
        tenant: &TenantId,
        texts: &[String],
    ) -> Result<Vec<Vec<f32>>, LlmError> {
        let embeddings = provider.embed(texts).await?;
        let usage = AiUsage {
            tenant_id: tenant.clone(),
            conversation_id: None,
            purpose: Purpose::Embed.as_str().into(),
            provider: provider.kind().into(),
            model: provider.model().into(),
            input_tokens: embeddings.input_tokens,
            output_tokens: 0,
            at: Timestamp::now(),
        };
        if let Err(err) = self.store.ai.record_ai_usage(&usage).await {
            tracing::warn!(error = %err, "could not record AI token usage");
        }
        Ok(embeddings.vectors)
    }

    fn server_default(&self) -> Option<ServerAi> {
        self.ai.config.server.clone()
    }

    pub async fn ai_settings(&self, actor: &Actor) -> Result<AiSettingsView, EngineError> {
        let stored = self.store.ai.get_ai_settings(&actor.tenant_id).await?;
        let api_key_set = stored.as_ref().is_some_and(|(_, key)| key.is_some());
        Ok(AiSettingsView {
            settings: stored.map(|(s, _)| s),
            api_key_set,
            server_default: self.server_default(),
        })
    }

    /// Saves the tenant's own provider. A base URL goes through the SSRF rules like any tenant
    /// URL; a key left out is kept if the provider stays the same.
    pub async fn put_ai_settings(
        &self,
        actor: &Actor,
        draft: AiSettingsDraft,
    ) -> Result<AiSettingsView, EngineError> {
        actor.require(Role::Admin)?;
        let kind: ProviderKind = draft
            .provider
            .parse()
            .map_err(|why: String| ValidationError::new("provider", "invalid_provider", why))?;
        let base_url = draft.base_url.unwrap_or_default().trim().trim_end_matches('/').to_owned();
        if !base_url.is_empty() {
            let url = Url::parse(&base_url).map_err(|e| {
                ValidationError::new("base_url", "invalid_url", format!("not a URL: {e}"))
            })?;
            crate::connections::check_public_url("base_url", &url, self.ai.tenant_http.policy())?;
        }
        let model = draft.model.trim().to_owned();
        if model.is_empty() {
            return Err(ValidationError::new(
                "model",
                "required",
                "name the model, e.g. gpt-4o-mini",
            )
            .into());
        }
        let embedding_model = draft.embedding_model.unwrap_or_default().trim().to_owned();
        if !embedding_model.is_empty() && kind != ProviderKind::Openai {
            return Err(ValidationError::new(
                "embedding_model",
                "not_supported",
                "embeddings need an OpenAI-compatible provider; leave it empty",
            )
            .into());
        }
        let previous = self.store.ai.get_ai_settings(&actor.tenant_id).await?;
        let sealed = match (draft.api_key, previous) {
            (Some(key), _) if !key.expose().is_empty() => {
                Some(self.keyring.seal(actor.tenant_id.as_str(), key.expose().as_bytes()))
            }
            (Some(_), _) => None,
            (None, Some((old, sealed))) if old.provider == kind.as_str() => sealed,
            (None, _) => None,
        };
        let settings = AiSettings {
            tenant_id: actor.tenant_id.clone(),
            provider: kind.as_str().into(),
            base_url,
            model,
            instructions: draft.instructions.unwrap_or_default().trim().to_owned(),
            embedding_model,
            updated_at: Timestamp::now(),
        };
        self.store.ai.put_ai_settings(&settings, sealed.as_deref()).await?;
        Ok(AiSettingsView {
            api_key_set: sealed.is_some(),
            settings: Some(settings),
            server_default: self.server_default(),
        })
    }

    /// Removes the tenant's own provider (the server's, if any, answers again).
    pub async fn delete_ai_settings(&self, actor: &Actor) -> Result<(), EngineError> {
        actor.require(Role::Admin)?;
        Ok(self.store.ai.delete_ai_settings(&actor.tenant_id).await?)
    }
}

impl AiService {
    /// The tenant's model calls and tokens since `since`, or one conversation's.
    pub async fn usage(
        &self,
        actor: &Actor,
        conversation: Option<&ConversationId>,
        since: Timestamp,
    ) -> Result<sb_store::UsageTotals, EngineError> {
        Ok(self.store.ai.ai_usage_totals(&actor.tenant_id, conversation, since).await?)
    }
}
