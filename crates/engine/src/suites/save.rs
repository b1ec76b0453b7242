//! "Save as test": a real conversation becomes a test case. The visitor's messages become the
//! turns, each endpoint answer its trace shows becomes a fake (an answer built so that mapping
//! it gives back the values the conversation had), and the replies as they were become the
//! expectations — to be edited into what should hold.

use std::collections::BTreeMap;

use sb_connectors::mapping::JsonPath;
use sb_domain::test_case::{Expectation, Fake, FakeFailure, TestTurn, TestVisitor};
use sb_domain::{
    Author, ConversationId, Endpoint, EndpointId, Role, TestCase, TestCaseDefinition, TraceEvent,
};
use serde_json::Value;

use super::SuitesService;
use super::validate::{MAX_FAKES, MAX_TURNS};
use crate::{Actor, EngineError};

/// One call the trace shows: its endpoint, the inputs it was made with, how it ended.
struct SeenCall {
    message: Option<sb_domain::MessageId>,
    endpoint: Endpoint,
    when: BTreeMap<String, Value>,
    fake: Fake,
}

impl SuitesService {
    pub async fn save_as_test(
        &self,
        actor: &Actor,
        id: &ConversationId,
    ) -> Result<TestCase, EngineError> {
        actor.require(Role::Admin)?;
        let tenant = &actor.tenant_id;
        let conversation = self.store.conversations.get_conversation(tenant, id).await?;
        let messages = self.store.conversations.list_messages(tenant, id, 0, 1000).await?;
        let trace = self.store.conversations.list_trace(tenant, id).await?;
        let calls = self.calls_in(tenant, &trace).await;

        let mut turns: Vec<TestTurn> = Vec::new();
        let mut turn_of = BTreeMap::new();
        // Turns past the limit are left out, with the replies that answered them.
        // Files sent without words were never handled: nothing to replay.
        let said =
            sb_domain::exchanges(&messages).into_iter().filter(|e| !e.visitor.text.is_empty());
        for exchange in said.take(MAX_TURNS) {
            turn_of.insert(exchange.visitor.id.clone(), turns.len());
            let expect = exchange
                .replies
                .iter()
                .filter(|m| matches!(m.author, Author::Bot | Author::System))
                .map(|m| Expectation::ReplyContains { reply_contains: m.text.clone() })
                .collect();
            turns.push(TestTurn { text: exchange.visitor.text.clone(), expect });
        }
        let mut fakes: Vec<Fake> = Vec::new();
        for call in calls {
            let at = call.message.as_ref().and_then(|m| turn_of.get(m)).copied();
            if let Some(turn) = at.and_then(|i| turns.get_mut(i)) {
                let called = Expectation::Called {
                    called: call.endpoint.name.clone(),
                    with: call.when.clone(),
                };
                if !turn.expect.contains(&called) {
                    turn.expect.push(called);
                }
            }
            if !fakes.contains(&call.fake) && fakes.len() < MAX_FAKES {
                fakes.push(call.fake);
            }
        }
        let visitor = &conversation.visitor;
        let definition = TestCaseDefinition {
            suite: None,
            widget_id: conversation.widget_id.clone(),
            visitor: TestVisitor {
                language: visitor.language.clone(),
                verified: visitor.verified,
                user_id: visitor.user_id.clone(),
                email: visitor.email.clone(),
                name: visitor.name.clone(),
                variables: BTreeMap::new(),
            },
            turns,
            fakes,
            expect: Vec::new(),
            simulate: None,
        };
        if definition.turns.is_empty() {
            let message = "the visitor has not written anything yet: there is nothing to test";
            return Err(sb_domain::ValidationError::new("id", "empty_conversation", message).into());
        }
        let first = definition.turns[0].text.chars().take(60).collect::<String>();
        self.create_test_case(actor, &format!("Saved: “{first}”"), definition).await
    }

    /// The calls of a trace, each with what it was sent and a fake that answers as it was
    /// answered. Calls refused before sending (and of endpoints deleted since) are left out.
    async fn calls_in(&self, tenant: &sb_domain::TenantId, trace: &[TraceEvent]) -> Vec<SeenCall> {
        let mut vars: BTreeMap<String, Value> = BTreeMap::new();
        let mut calls: Vec<SeenCall> = Vec::new();
        let mut endpoints: BTreeMap<EndpointId, Option<Endpoint>> = BTreeMap::new();
        for event in trace {
            let data = &event.data;
            match event.kind.as_str() {
                "variable_set" => {
                    let (Some(name), Some(value)) = (data["name"].as_str(), data.get("value"))
                    else {
                        continue;
                    };
                    vars.insert(name.to_owned(), value.clone());
                    // A value the last call mapped: part of the answer its fake gives.
                    if let Some(call) = calls.last_mut()
                        && data["source"] == call.endpoint.name
                        && let Some(path) = call.endpoint.response_mapping.get(name)
                        && let Ok(path) = JsonPath::parse(path)
                    {
                        let body = call.fake.body.get_or_insert(Value::Null);
                        path.place(body, value.clone());
                    }
                }
                // Only calls that were sent: one refused beforehand has no URL.
                "api_call" if data["url"].is_string() => {
                    let Some(id) =
                        data["endpoint_id"].as_str().and_then(|s| s.parse::<EndpointId>().ok())
                    else {
                        continue;
                    };
                    if !endpoints.contains_key(&id) {
                        let found = self.store.connections.get_endpoint(tenant, &id).await.ok();
                        endpoints.insert(id.clone(), found);
                    }
                    let Some(Some(endpoint)) = endpoints.get(&id).cloned() else { continue };
                    let when: BTreeMap<String, Value> = endpoint
                        .inputs()
                        .into_iter()
                        .filter(|name| !sb_domain::is_built_in(name))
                        .filter_map(|name| vars.get(&name).map(|v| (name, v.clone())))
                        .collect();
                    let fail = match data["error"]["code"].as_str() {
                        Some("timeout") => Some(FakeFailure::Timeout),
                        Some("connect_failed" | "dns_failed" | "tls_failed") => {
                            Some(FakeFailure::Connect)
                        }
                        Some("invalid_response") => Some(FakeFailure::InvalidJson),
                        _ => None,
                    };
                    let fake = Fake {
                        endpoint: endpoint.name.clone(),
                        when: when.clone(),
                        status: data["status"]
                            .as_u64()
                            .and_then(|s| u16::try_from(s).ok())
                            .unwrap_or(200),
                        body: None,
                        delay_ms: None,
                        fail,
                        set_state: BTreeMap::new(),
                        when_state: BTreeMap::new(),
                    };
                    calls.push(SeenCall {
                        message: event.message_id.clone(),
                        endpoint,
                        when,
                        fake,
                    });
                }
                _ => {}
            }
        }
        calls
    }
}
