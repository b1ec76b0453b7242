//! The endpoints of a test run's sandbox: each case's fakes answer its conversation's calls,
//! judged and mapped exactly as real answers. Every call is kept for the expectations; a call
//! no fake answers fails (and fails its case) — it never reaches the tenant's backend.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use sb_connectors::{CallError, CallOutcome, CallTarget};
use sb_domain::template::Variables;
use sb_domain::test_case::{Fake, FakeFailure};
use sb_domain::{ConversationId, Endpoint, MAX_TIMEOUT_MS};
use serde::Serialize;
use serde_json::Value;

use crate::conversations::FakeCalls;

/// One call a case's conversation made.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Call {
    pub endpoint: String,
    /// The values of the endpoint's inputs, as sent.
    pub variables: BTreeMap<String, Value>,
    pub status: Option<u16>,
    /// False when no fake answered: the case fails.
    pub faked: bool,
}

#[derive(Default)]
struct Book {
    fakes: Vec<Fake>,
    state: BTreeMap<String, Value>,
    calls: Vec<Call>,
}

/// Every case's fakes, state and calls, by its conversation.
#[derive(Default)]
pub(crate) struct Fakes {
    books: Mutex<HashMap<ConversationId, Book>>,
}

/// Whether two values are the same as far as a template would tell: `4521` and `"4521"` are.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    a == b || (!a.is_object() && !a.is_array() && text(a) == text(b))
}

fn matches(wanted: &BTreeMap<String, Value>, found: &BTreeMap<String, Value>) -> bool {
    wanted.iter().all(|(k, v)| found.get(k).is_some_and(|f| same(f, v)))
}

impl Fakes {
    pub(crate) fn register(&self, conversation: &ConversationId, fakes: Vec<Fake>) {
        let book = Book { fakes, ..Book::default() };
        self.lock().insert(conversation.clone(), book);
    }

    /// The calls `conversation` made so far, in order.
    pub(crate) fn calls(&self, conversation: &ConversationId) -> Vec<Call> {
        self.lock().get(conversation).map(|b| b.calls.clone()).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, Book>> {
        self.books.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Picks the fake that answers (the first that matches), notes the call and applies the
    /// fake's state change.
    fn pick(
        &self,
        conversation: &ConversationId,
        endpoint: &Endpoint,
        variables: BTreeMap<String, Value>,
        vars: &Variables,
    ) -> Option<Fake> {
        let mut books = self.lock();
        let book = books.entry(conversation.clone()).or_default();
        let found = book
            .fakes
            .iter()
            .find(|f| {
                f.endpoint == endpoint.name
                    && matches(&f.when, vars)
                    && matches(&f.when_state, &book.state)
            })
            .cloned();
        if let Some(fake) = &found {
            book.state.extend(fake.set_state.clone());
        }
        let status = found.as_ref().filter(|f| f.fail.is_none()).map(|f| f.status);
        book.calls.push(Call {
            endpoint: endpoint.name.clone(),
            variables,
            status,
            faked: found.is_some(),
        });
        found
    }
}

#[async_trait::async_trait]
impl FakeCalls for Fakes {
    async fn answer(
        &self,
        target: CallTarget<'_>,
        endpoint: &Endpoint,
        vars: &Variables,
        conversation: &ConversationId,
    ) -> CallOutcome {
        let failed = |error: CallError| CallOutcome { error: Some(error), ..Default::default() };
        // Rendered as a real call would be: a missing or invalid value fails the same way.
        let request = match sb_connectors::would_send(target, endpoint, vars) {
            Ok(request) => request,
            Err(error) => return failed(error),
        };
        let used: BTreeMap<String, Value> = endpoint
            .inputs()
            .into_iter()
            .filter_map(|name| vars.get(&name).map(|v| (name, v.clone())))
            .collect();
        let Some(fake) = self.pick(conversation, endpoint, used, vars) else {
            let message =
                format!("no fake answers {} with these values: add one to the case", endpoint.name);
            let mut outcome = failed(CallError::new("no_fake", message));
            outcome.request = Some(request);
            return outcome;
        };
        let limit = endpoint
            .timeout_ms
            .unwrap_or(target.connection.timeout_ms)
            .min(target.connection.timeout_ms)
            .min(MAX_TIMEOUT_MS);
        let waited = fake.delay_ms.unwrap_or(0);
        let timed_out = fake.fail == Some(FakeFailure::Timeout) || waited >= limit;
        let mut outcome = if timed_out {
            let message = format!("no answer within {limit} ms");
            CallOutcome {
                error: Some(CallError::new("timeout", message)),
                latency_ms: limit.into(),
                ..Default::default()
            }
        } else if fake.fail == Some(FakeFailure::Connect) {
            let message = "the backend could not be reached (a fake's failure)";
            CallOutcome {
                error: Some(CallError::new("connect_failed", message)),
                ..Default::default()
            }
        } else {
            tokio::time::sleep(Duration::from_millis(waited.into())).await;
            let body = match (fake.fail, &fake.body) {
                (Some(FakeFailure::InvalidJson), _) => b"<html>Service unavailable</html>".to_vec(),
                (_, Some(body)) => body.to_string().into_bytes(),
                (_, None) => b"{}".to_vec(),
            };
            sb_connectors::made_up_answer(
                endpoint,
                request.clone(),
                fake.status,
                body,
                waited.into(),
            )
        };
        outcome.request = Some(request);
        outcome.ok = outcome.error.is_none();
        outcome
    }
}
