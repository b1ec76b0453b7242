use sb_domain::template::Variables;
use sb_domain::{
    Action, Author, Conversation, ConversationId, ConversationStatus, MatchMode, MessageId, Rule,
    RuleDefinition, RuleId, TenantId, Timestamp, Trigger, Visitor, Widget, WidgetId,
    WidgetPosition,
};
use serde_json::{Value, json};

use super::{assert_not_found, now};
use crate::{
    ConversationFilter, ConversationState, FinishedMessage, NewMessage, NewTrace, PageRequest,
    SealedKind, Store, StoreError,
};

pub(super) fn widget(tenant: &TenantId, name: &str) -> Widget {
    Widget {
        id: WidgetId::new(),
        tenant_id: tenant.clone(),
        name: name.into(),
        greeting: Some("Hi! How can we help?".into()),
        active: true,
        ai_enabled: false,
        translation_enabled: false,
        primary_color: "#112233".into(),
        position: WidgetPosition::BottomLeft,
        allowed_origins: vec!["https://shop.example.com".into()],
        office_hours: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub(super) fn conversation(tenant: &TenantId, widget: &WidgetId) -> Conversation {
    Conversation {
        id: ConversationId::new(),
        tenant_id: tenant.clone(),
        widget_id: widget.clone(),
        status: ConversationStatus::Open,
        assigned_to: None,
        assigned_team: None,
        visitor: Visitor {
            name: Some("Ann".into()),
            language: Some("de".into()),
            ..Visitor::default()
        },
        variables: Variables::new(),
        created_at: now(),
        updated_at: now(),
        last_message_at: None,
        labels: Vec::new(),
        contact_id: None,
        outcome: None,
        closed_at: None,
        channel: sb_domain::ChannelRef::widget(widget),
    }
}

pub(super) async fn widgets_conversations_and_rules(
    store: &dyn Store,
    tenant: &TenantId,
    other: &TenantId,
) {
    let mut tenant_row = store.get_tenant(tenant).await.unwrap();
    tenant_row.time_zone = "Europe/Berlin".into();
    store.update_tenant(&tenant_row).await.unwrap();
    assert_eq!(store.get_tenant(tenant).await.unwrap().time_zone, "Europe/Berlin");

    let users = store.list_users(tenant, &PageRequest::default()).await.unwrap().items;
    for user in &users[1..] {
        store.set_available(tenant, &user.id, false).await.unwrap();
    }
    store.set_available(tenant, &users[0].id, true).await.unwrap();
    assert_eq!(
        store
            .available_users(tenant)
            .await
            .unwrap()
            .iter()
            .map(|u| u.id.clone())
            .collect::<Vec<_>>(),
        vec![users[0].id.clone()]
    );
    assert_not_found(store.set_available(other, &users[0].id, true).await);

    let shop = widget(tenant, "Shop");
    store.create_widget(&shop, Some("sealed-identity")).await.unwrap();
    let stored = store.get_widget(tenant, &shop.id).await.unwrap();
    assert_eq!(stored.widget, shop);
    assert_eq!(stored.identity_secret_sealed.as_deref(), Some("sealed-identity"));
    assert_eq!(store.find_widget(&shop.id).await.unwrap().unwrap().widget, shop);
    assert_not_found(store.get_widget(other, &shop.id).await);
    let mut changed = shop.clone();
    changed.ai_enabled = true;
    changed.allowed_origins.clear();
    store.update_widget(&changed, None).await.unwrap();
    assert_eq!(store.get_widget(tenant, &shop.id).await.unwrap().identity_secret_sealed, None);
    assert_not_found(
        store.update_widget(&Widget { tenant_id: other.clone(), ..changed.clone() }, None).await,
    );
    let listed = store.list_widgets(tenant, &PageRequest::default()).await.unwrap().items;
    assert_eq!(listed.iter().map(|w| w.widget.clone()).collect::<Vec<_>>(), vec![changed.clone()]);
    assert!(
        store
            .list_sealed()
            .await
            .unwrap()
            .iter()
            .all(|v| v.kind != SealedKind::WidgetIdentitySecret || v.id != shop.id.as_str())
    );

    // Conversations, messages in order, variables, state.
    let first = conversation(tenant, &shop.id);
    store.create_conversation(&first, "token-1").await.unwrap();
    assert_eq!(store.get_conversation(tenant, &first.id).await.unwrap(), first);
    assert_not_found(store.get_conversation(other, &first.id).await);
    assert_eq!(store.find_conversation_by_token("token-1").await.unwrap().unwrap().id, first.id);
    assert!(store.find_conversation_by_token("token-x").await.unwrap().is_none());
    let stranger = conversation(tenant, &WidgetId::new());
    assert!(matches!(
        store.create_conversation(&stranger, "token-2").await,
        Err(StoreError::MissingReference)
    ));

    let hello = MessageId::new();
    let m1 = store
        .append_message(
            tenant,
            NewMessage {
                id: &hello,
                conversation_id: &first.id,
                author: Author::Visitor,
                author_user_id: None,
                text: "Hello",
                translation: None,
                created_at: now(),
                action: None,
                attachments: &[],
                search_terms: "",
                source: None,
            },
        )
        .await
        .unwrap();
    let reply_id = MessageId::new();
    let m2 = store
        .append_message(
            tenant,
            NewMessage {
                id: &reply_id,
                conversation_id: &first.id,
                author: Author::Operator,
                author_user_id: Some(&users[0].id),
                text: "Hi Ann",
                translation: None,
                created_at: now(),
                action: None,
                attachments: &[],
                search_terms: "",
                source: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((m1.seq, m2.seq), (1, 2));
    let foreign = MessageId::new();
    let result = store
        .append_message(
            other,
            NewMessage {
                id: &foreign,
                conversation_id: &first.id,
                author: Author::Visitor,
                author_user_id: None,
                text: "x",
                translation: None,
                created_at: now(),
                action: None,
                attachments: &[],
                search_terms: "",
                source: None,
            },
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(
        store.list_messages(tenant, &first.id, 0, 10).await.unwrap(),
        vec![m1.clone(), m2.clone()]
    );
    assert_eq!(store.list_messages(tenant, &first.id, 1, 10).await.unwrap(), vec![m2.clone()]);
    assert!(store.list_messages(other, &first.id, 0, 10).await.unwrap().is_empty());
    assert_eq!(store.get_message(tenant, &hello).await.unwrap(), m1);
    assert_eq!(
        store.get_conversation(tenant, &first.id).await.unwrap().last_message_at,
        Some(m2.created_at)
    );

    let waiting =
        store.unprocessed_messages(now() - jiff::SignedDuration::from_hours(1), 10).await.unwrap();
    assert!(
        waiting.iter().any(|(t, m)| *t == *tenant && m.id == hello),
        "the visitor message awaits processing"
    );
    assert!(!waiting.iter().any(|(_, m)| m.id == reply_id), "operator messages need no processing");
    let next = store.next_unprocessed(tenant, &first.id).await.unwrap();
    assert_eq!(next.map(|m| m.id), Some(hello.clone()), "the oldest unhandled visitor message");
    assert!(store.next_unprocessed(other, &first.id).await.unwrap().is_none());
    let finished = |tenant, variables| FinishedMessage {
        variable_terms: "",
        gap: None,
        tenant,
        message: &hello,
        replies: &[],
        variables,
        traces: &[],
        call_stats: &[],
        proposed: &[],
        settled: None,
    };
    store.finish_message(&finished(tenant, None)).await.unwrap();
    assert!(store.next_unprocessed(tenant, &first.id).await.unwrap().is_none());
    leases(store, &first.id).await;
    let waiting =
        store.unprocessed_messages(now() - jiff::SignedDuration::from_hours(1), 10).await.unwrap();
    assert!(!waiting.iter().any(|(_, m)| m.id == hello));

    let vars = Variables::from([
        ("order_id".to_owned(), json!("4521")),
        ("total".to_owned(), json!(19.5)),
    ]);
    let traces = [NewTrace {
        tenant: tenant.clone(),
        conversation: first.id.clone(),
        message: Some(hello.clone()),
        kind: "finished".into(),
        data: json!({"with": "the variables"}),
        at: now(),
    }];
    let saving = Some((&first.id, &vars));
    let with_trace = FinishedMessage { traces: &traces, ..finished(tenant, saving) };
    store.finish_message(&with_trace).await.unwrap();
    assert_eq!(store.get_conversation(tenant, &first.id).await.unwrap().variables, vars);
    let trace = store.list_trace(tenant, &first.id).await.unwrap();
    assert_eq!(trace.last().map(|t| t.kind.as_str()), Some("finished"), "written with them");
    assert_not_found(store.finish_message(&finished(other, saving)).await);
    assert_eq!(
        store.get_conversation(tenant, &first.id).await.unwrap().variables,
        vars,
        "another tenant's handling changes nothing"
    );

    let state = ConversationState {
        status: ConversationStatus::Pending,
        assigned_to: Some(users[0].id.clone()),
        assigned_team: None,
    };
    let unchanged = crate::OutcomeChange::Unchanged;
    store.set_conversation_state(tenant, &first.id, &state, unchanged).await.unwrap();
    assert_not_found(store.set_conversation_state(other, &first.id, &state, unchanged).await);
    let counts =
        store.pending_counts(tenant, &[users[0].id.clone(), users[1].id.clone()]).await.unwrap();
    assert_eq!(counts, vec![(users[0].id.clone(), 1), (users[1].id.clone(), 0)]);

    let second = conversation(tenant, &shop.id);
    store.create_conversation(&second, "token-3").await.unwrap();
    let all = store
        .list_conversations(tenant, &ConversationFilter::default(), None, &PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(all.items[0].conversation.id, second.id, "latest activity first");
    let rest = store
        .list_conversations(
            tenant,
            &ConversationFilter::default(),
            None,
            &PageRequest { after: all.next, limit: 5 },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|c| c.conversation.id.clone()).collect::<Vec<_>>(),
        vec![first.id.clone()]
    );
    let pending =
        ConversationFilter { status: Some(ConversationStatus::Pending), ..Default::default() };
    assert_eq!(
        store
            .list_conversations(tenant, &pending, None, &PageRequest::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let mine =
        ConversationFilter { assigned_to: Some(Some(users[0].id.clone())), ..Default::default() };
    assert_eq!(
        store.list_conversations(tenant, &mine, None, &PageRequest::default()).await.unwrap().items
            [0]
        .conversation
        .id,
        first.id
    );
    let unassigned = ConversationFilter {
        assigned_to: Some(None),
        widget_id: Some(shop.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_conversations(tenant, &unassigned, None, &PageRequest::default())
            .await
            .unwrap()
            .items[0]
            .conversation
            .id,
        second.id
    );
    assert!(
        store
            .list_conversations(
                other,
                &ConversationFilter::default(),
                None,
                &PageRequest::default()
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let entry = |message: Option<&MessageId>, kind: &str, data: Value| NewTrace {
        tenant: tenant.clone(),
        conversation: first.id.clone(),
        message: message.cloned(),
        kind: kind.into(),
        data,
        at: Timestamp::now(),
    };
    store.append_traces(&[]).await.unwrap();
    store
        .append_traces(&[
            entry(Some(&hello), "rule_fired", json!({"rule": "a"})),
            entry(None, "assigned", json!({"to": "b"})),
        ])
        .await
        .unwrap();
    // Besides the entry a finished message wrote above.
    let since_finished = async || {
        let trace = store.list_trace(tenant, &first.id).await.unwrap();
        trace.into_iter().filter(|t| t.kind != "finished").collect::<Vec<_>>()
    };
    let trace = since_finished().await;
    assert_eq!(
        trace.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["rule_fired", "assigned"]
    );
    assert!(trace[0].seq < trace[1].seq);
    assert_eq!(trace[0].message_id.as_ref(), Some(&hello));
    assert_eq!(trace[0].data, json!({"rule": "a"}));
    assert!(store.list_trace(other, &first.id).await.unwrap().is_empty());
    // A batch larger than one statement takes is written whole, in order.
    let many: Vec<NewTrace> =
        (0..250).map(|i| entry(None, &format!("step_{i}"), json!({"i": i}))).collect();
    store.append_traces(&many).await.unwrap();
    let trace = since_finished().await;
    assert_eq!(trace.len(), 252);
    for (i, e) in trace[2..].iter().enumerate() {
        assert_eq!((e.kind.as_str(), &e.data), (format!("step_{i}").as_str(), &json!({"i": i})));
        assert!(e.message_id.is_none());
    }
    assert!(trace.windows(2).all(|pair| pair[0].seq < pair[1].seq));

    rules(store, tenant, other, &shop.id).await;

    store.delete_widget(tenant, &shop.id).await.unwrap();
    assert_not_found(store.get_conversation(tenant, &first.id).await);
}

/// One node at a time handles a conversation; a lease a crashed node left runs out.
async fn leases(store: &dyn Store, conversation: &ConversationId) {
    let t0 = now();
    let later = |secs| t0 + jiff::SignedDuration::from_secs(secs);
    assert!(store.take_lease(conversation, "node-a", later(60), t0).await.unwrap());
    assert!(!store.take_lease(conversation, "node-b", later(60), t0).await.unwrap(), "held");
    assert!(store.take_lease(conversation, "node-a", later(120), later(30)).await.unwrap());
    assert!(!store.take_lease(conversation, "node-b", later(200), later(90)).await.unwrap());
    assert!(
        store.take_lease(conversation, "node-b", later(300), later(121)).await.unwrap(),
        "an expired lease is taken over"
    );
    store.release_lease(conversation, "node-a").await.unwrap();
    assert!(!store.take_lease(conversation, "node-a", later(400), later(122)).await.unwrap());
    store.release_lease(conversation, "node-b").await.unwrap();
    assert!(store.take_lease(conversation, "node-a", later(400), later(122)).await.unwrap());
    store.release_lease(conversation, "node-a").await.unwrap();
}

async fn rules(store: &dyn Store, tenant: &TenantId, other: &TenantId, widget: &WidgetId) {
    let rule = |name: &str, priority: i32, widget_id: Option<WidgetId>| Rule {
        id: RuleId::new(),
        tenant_id: tenant.clone(),
        name: name.into(),
        widget_id,
        priority,
        enabled: true,
        definition: RuleDefinition {
            trigger: Trigger::Keywords { any: vec!["order".into()] },
            conditions: vec![],
            match_mode: MatchMode::All,
            actions: vec![Action::ReplyText { text: "Hi {visitor.name}".into() }],
            stop: false,
            suppress_ai_reply: false,
        },
        created_at: now(),
        updated_at: now(),
    };
    let late = rule("late", 20, None);
    let early = rule("early", 10, Some(widget.clone()));
    let elsewhere = rule("elsewhere", 5, Some(WidgetId::new()));
    let revision = |tenant: &TenantId| {
        let tenant = tenant.clone();
        async move { store.config_revision(&tenant).await }
    };
    let (start, others) = (revision(tenant).await.unwrap(), revision(other).await.unwrap());
    store.create_rule(&late).await.unwrap();
    store.create_rule(&early).await.unwrap();
    assert_eq!(revision(tenant).await.unwrap(), start + 2, "each creation counts");
    assert!(matches!(store.create_rule(&elsewhere).await, Err(StoreError::MissingReference)));
    assert_eq!(revision(tenant).await.unwrap(), start + 2, "a refused one does not");
    assert_eq!(store.get_rule(tenant, &early.id).await.unwrap(), early);
    assert_not_found(store.get_rule(other, &early.id).await);
    assert_eq!(store.list_rules(tenant).await.unwrap(), vec![early.clone(), late.clone()]);
    assert!(store.list_rules(other).await.unwrap().is_empty());
    assert_eq!(store.rules_for_widget(tenant, widget).await.unwrap().len(), 2);
    assert_eq!(store.rules_for_widget(tenant, &WidgetId::new()).await.unwrap(), vec![late.clone()]);
    let mut disabled = early.clone();
    disabled.enabled = false;
    disabled.updated_at = now();
    store.update_rule(&disabled).await.unwrap();
    assert_eq!(store.rules_for_widget(tenant, widget).await.unwrap(), vec![late.clone()]);
    assert_not_found(
        store.update_rule(&Rule { tenant_id: other.clone(), ..disabled.clone() }).await,
    );
    assert_eq!(revision(tenant).await.unwrap(), start + 3, "a change counts");
    assert_not_found(store.delete_rule(other, &late.id).await);
    store.delete_rule(tenant, &late.id).await.unwrap();
    assert_eq!(store.list_rules(tenant).await.unwrap(), vec![disabled]);
    assert_eq!(revision(tenant).await.unwrap(), start + 4, "a deletion counts");
    assert_eq!(revision(other).await.unwrap(), others, "another tenant's count is its own");
}
