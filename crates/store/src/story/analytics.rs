//! Analytics as the store keeps it, at times chosen by the story: each count in its hour and
//! widget, outcomes moving between counts, first response times to the millisecond, the
//! questions kept as knowledge gaps — all the tenant's own.

use sb_domain::analytics::{HourCount, Outcome, ReplySource};
use sb_domain::{AiUsage, Author, ConversationStatus, MessageId, RuleId, TenantId, Timestamp};
use serde_json::json;

use super::conversations::{conversation, widget};
use crate::{ConversationState, FinishedMessage, NewMessage, NewTrace, OutcomeChange, Store};

fn at(second: i64) -> Timestamp {
    // 2020-01-01 10:00:00 UTC, and on: an hour no other story writes to.
    Timestamp::from_second(1_577_872_800 + second).unwrap()
}

fn message<'a>(
    id: &'a MessageId,
    chat: &'a sb_domain::ConversationId,
    author: Author,
    second: i64,
) -> NewMessage<'a> {
    NewMessage {
        id,
        conversation_id: chat,
        author,
        author_user_id: None,
        text: "where is my parcel",
        translation: None,
        created_at: at(second),
        action: None,
        attachments: &[],
        search_terms: "",
        source: (author == Author::Bot).then_some(ReplySource::Api),
    }
}

pub(super) async fn analytics(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    let shop = widget(tenant, "Reports");
    store.create_widget(&shop, None).await.unwrap();
    let mut chat = conversation(tenant, &shop.id);
    (chat.created_at, chat.updated_at) = (at(0), at(0));
    store.create_conversation(&chat, "analytics-token-hash").await.unwrap();

    // A visitor's question at 10s, a rule answering with an endpoint's data at 12s.
    let question = MessageId::new();
    store.append_message(tenant, message(&question, &chat.id, Author::Visitor, 10)).await.unwrap();
    let (reply, rule) = (MessageId::new(), RuleId::new());
    let replies = [message(&reply, &chat.id, Author::Bot, 12)];
    let fired = NewTrace {
        tenant: tenant.clone(),
        conversation: chat.id.clone(),
        message: Some(question.clone()),
        kind: "rule_fired".into(),
        data: json!({"rule_id": rule}),
        at: at(11),
    };
    let assigned =
        NewTrace { kind: "assigned".into(), data: json!({}), at: at(60), ..fired.clone() };
    let finished = FinishedMessage {
        tenant,
        message: &question,
        replies: &replies,
        variables: None,
        variable_terms: "",
        gap: Some("fallback"),
        traces: &[fired, assigned],
        call_stats: &[],
        proposed: &[],
        settled: None,
    };
    store.finish_message(&finished).await.unwrap();
    // Handed over at 60s; a person writes at 70s; the AI was asked at 30s.
    let person = MessageId::new();
    store.append_message(tenant, message(&person, &chat.id, Author::Operator, 70)).await.unwrap();
    let usage = AiUsage {
        tenant_id: tenant.clone(),
        conversation_id: Some(chat.id.clone()),
        purpose: "reply".into(),
        provider: "openai".into(),
        model: "m".into(),
        input_tokens: 120,
        output_tokens: 30,
        at: at(30),
    };
    store.record_ai_usage(&usage).await.unwrap();

    let hour = at(0).as_millisecond();
    let counts = store.hour_counts(tenant, Some(&shop.id), at(0), at(3600), None).await.unwrap();
    let count = |metric: &str, n: i64| HourCount { hour, metric: metric.into(), count: n };
    assert_eq!(
        counts,
        [
            count("ai_input_tokens", 120),
            count("ai_output_tokens", 30),
            count("ai_requests", 1),
            count("assistant_involved", 1),
            count("conversations", 1),
            count("reply:api", 1),
            count(&format!("rule:{rule}"), 1),
            count("visitor_messages", 1),
        ]
    );
    assert!(store.hour_counts(other, None, at(0), at(3600), None).await.unwrap().is_empty());
    let picked = ["conversations", "reply:api"];
    let some = store.hour_counts(tenant, Some(&shop.id), at(0), at(3600), Some(&picked)).await;
    assert_eq!(some.unwrap(), [count("conversations", 1), count("reply:api", 1)]);
    let waits = store.first_responses(tenant, Some(&shop.id), at(0), at(3600)).await.unwrap();
    let one = |ms| sb_domain::analytics::Percentiles { p50: Some(ms), p90: Some(ms), count: 1 };
    assert_eq!(
        (waits.assistant, waits.people),
        (one(2_000), one(10_000)),
        "from the question to the reply; from the hand-over to the person"
    );
    let totals = store.metric_totals(tenant, Some(&shop.id), at(0), at(3600)).await.unwrap();
    assert_eq!(totals.len(), 8);
    assert!(totals.contains(&("ai_input_tokens".to_owned(), 120)));
    let later = store.first_responses(tenant, Some(&shop.id), at(1), at(3600)).await.unwrap();
    assert_eq!(later.assistant.count, 0, "started before the range");

    // Outcomes move between counts, in the hour they are decided.
    let facts = store.outcome_facts(tenant, &chat.id).await.unwrap();
    assert_eq!(
        (facts.operator_messages, facts.handed_over, facts.last_visitor_message_answered),
        (1, true, true)
    );
    assert_eq!(Outcome::of(&facts), Outcome::ResolvedWithPerson);
    let state = |status| ConversationState { status, assigned_to: None, assigned_team: None };
    let (closed, open) = (state(ConversationStatus::Closed), state(ConversationStatus::Open));
    let handed_over = OutcomeChange::Closed(Outcome::HandedOver);
    // Another tenant's close changes nothing, and counts nothing.
    let refused = store.set_conversation_state(other, &chat.id, &closed, handed_over).await;
    assert!(matches!(refused, Err(crate::StoreError::NotFound)), "{refused:?}");
    assert_eq!(decided(store, tenant, &shop.id).await, []);
    store.set_conversation_state(tenant, &chat.id, &closed, handed_over).await.unwrap();
    let closed_at = store.get_conversation(tenant, &chat.id).await.unwrap().closed_at;
    assert!(closed_at.is_some_and(|t| t > at(70)), "{closed_at:?}");
    // A rating changing it keeps the hour (and the time) it closed in, counted once.
    let rating = sb_domain::Rating {
        conversation_id: chat.id.clone(),
        score: 4,
        comment: None,
        rated_at: Timestamp::now(),
    };
    store.rate(tenant, &rating, Outcome::ResolvedWithPerson).await.unwrap();
    assert_eq!(
        decided(store, tenant, &shop.id).await,
        [
            ("closed".to_owned(), 1),
            ("outcome:resolved_with_person".to_owned(), 1),
            ("rating:4".to_owned(), 1)
        ]
    );
    let rated = store.get_conversation(tenant, &chat.id).await.unwrap();
    assert_eq!((rated.outcome, rated.closed_at), (Some(Outcome::ResolvedWithPerson), closed_at));
    store.set_conversation_state(tenant, &chat.id, &open, OutcomeChange::Reopened).await.unwrap();
    let reopened = [("rating:4".to_owned(), 1), ("reopened".to_owned(), 1)];
    assert_eq!(decided(store, tenant, &shop.id).await, reopened);
    // Opened again when it was not decided: nothing to count.
    store.set_conversation_state(tenant, &chat.id, &open, OutcomeChange::Reopened).await.unwrap();
    assert_eq!(decided(store, tenant, &shop.id).await, reopened);
    // Folding the added counts into their hours' totals changes no figure; a fold finding
    // nothing is harmless.
    let before = store.hour_counts(tenant, None, at(0), Timestamp::now(), None).await.unwrap();
    while store.fold_counts(3).await.unwrap() > 0 {}
    let after = store.hour_counts(tenant, None, at(0), Timestamp::now(), None).await.unwrap();
    assert_eq!(before, after);
    assert_eq!(store.fold_counts(3).await.unwrap(), 0);
    let open_again = store.get_conversation(tenant, &chat.id).await.unwrap();
    assert_eq!((open_again.outcome, open_again.closed_at), (None, None));

    // The question is a gap, the tenant's only, and goes with its conversation.
    let gaps = store.question_gaps(tenant, at(0), at(3600), 10).await.unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        (gaps[0].message_id.clone(), gaps[0].reason.as_str(), gaps[0].widget_id.clone()),
        (question, "fallback", shop.id.clone())
    );
    assert!(store.question_gaps(other, at(0), at(3600), 10).await.unwrap().is_empty());
    store.delete_conversation(tenant, &chat.id).await.unwrap();
    assert!(store.question_gaps(tenant, at(0), at(3600), 10).await.unwrap().is_empty());
    // Counts name no one: they stay.
    assert_eq!(
        store.hour_counts(tenant, Some(&shop.id), at(0), at(3600), None).await.unwrap().len(),
        8
    );
}

/// The widget's non-zero totals of the last hours, by metric.
async fn decided(
    store: &dyn Store,
    tenant: &TenantId,
    widget: &sb_domain::WidgetId,
) -> Vec<(String, i64)> {
    let from = Timestamp::now() - jiff::SignedDuration::from_hours(2);
    let to = Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let mut totals: std::collections::BTreeMap<String, i64> = Default::default();
    for c in store.hour_counts(tenant, Some(widget), from, to, None).await.unwrap() {
        *totals.entry(c.metric).or_insert(0) += c.count;
    }
    totals.into_iter().filter(|(_, n)| *n != 0).collect()
}
