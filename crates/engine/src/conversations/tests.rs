//! Who may do what with widgets, rules and conversations: admins configure widgets and rules;
//! every member answers conversations; another tenant's do not exist.

use sb_domain::{Action, Trigger};
use sb_domain::{ConversationId, RuleId, WidgetId};

use super::VisitorStart;
use super::routing::AssignTarget;
use super::rules::RuleDraft;
use super::widgets::WidgetDraft;
use crate::testing::{assert_forbidden, assert_not_found, assert_permitted, world};

fn widget() -> WidgetDraft {
    WidgetDraft { name: Some("Shop".into()), ..WidgetDraft::default() }
}

fn rule() -> RuleDraft {
    RuleDraft {
        name: Some("Greeting".into()),
        trigger: Some(Trigger::Any),
        actions: Some(vec![Action::ReplyText { text: "Hello".into() }]),
        ..RuleDraft::default()
    }
}

#[tokio::test]
async fn only_admins_change_widgets() {
    let w = world().await;
    let conversations = &w.services.conversations;
    assert_forbidden(conversations.create_widget(&w.operator, widget()).await);
    let id = conversations.create_widget(&w.admin, widget()).await.unwrap().widget.id;
    assert_forbidden(conversations.update_widget(&w.operator, &id, widget()).await);
    assert_forbidden(conversations.delete_widget(&w.operator, &id).await);
    assert_permitted(conversations.get_widget(&w.operator, &id).await);
    assert_not_found(conversations.get_widget(&w.stranger, &id).await);
    assert_not_found(conversations.delete_widget(&w.stranger, &id).await);
    assert_not_found(conversations.delete_widget(&w.admin, &WidgetId::new()).await);
    assert_permitted(conversations.delete_widget(&w.admin, &id).await);
}

#[tokio::test]
async fn only_admins_change_rules() {
    let w = world().await;
    let conversations = &w.services.conversations;
    assert_forbidden(conversations.create_rule(&w.operator, rule()).await);
    let id = conversations.create_rule(&w.admin, rule()).await.unwrap().id;
    assert_forbidden(conversations.update_rule(&w.operator, &id, rule()).await);
    assert_forbidden(conversations.delete_rule(&w.operator, &id).await);
    assert_permitted(conversations.list_rules(&w.operator).await);
    assert_not_found(conversations.get_rule(&w.stranger, &id).await);
    assert_not_found(conversations.update_rule(&w.stranger, &id, rule()).await);
    assert_not_found(conversations.delete_rule(&w.admin, &RuleId::new()).await);
    assert_permitted(conversations.delete_rule(&w.admin, &id).await);
}

#[tokio::test]
async fn only_admins_dry_run_rules() {
    let w = world().await;
    let conversations = &w.services.conversations;
    let id = conversations.create_widget(&w.admin, widget()).await.unwrap().widget.id;
    let vars = || Default::default();
    assert_forbidden(conversations.dry_run(&w.operator, &id, "hello", vars()).await);
    assert_permitted(conversations.dry_run(&w.admin, &id, "hello", vars()).await);
    assert_not_found(conversations.dry_run(&w.stranger, &id, "hello", vars()).await);
}

#[tokio::test]
async fn every_member_answers_conversations_of_their_own_tenant_only() {
    let w = world().await;
    let conversations = &w.services.conversations;
    let id = conversations.create_widget(&w.admin, widget()).await.unwrap().widget.id;
    let widget = conversations.visitor_widget(&id, None).await.unwrap();
    let started = conversations.start_conversation(&widget, VisitorStart::default()).await;
    let id = started.unwrap().conversation.id;
    assert_permitted(conversations.operator_reply(&w.operator, &id, "On it").await);
    assert_permitted(conversations.assign(&w.operator, &id, AssignTarget::AnyAvailable).await);
    assert_permitted(conversations.close(&w.operator, &id).await);
    assert_permitted(conversations.reopen(&w.operator, &id).await);
    assert_not_found(conversations.get_conversation(&w.stranger, &id).await);
    assert_not_found(conversations.operator_reply(&w.stranger, &id, "Hi").await);
    assert_not_found(conversations.close(&w.stranger, &id).await);
    assert_not_found(conversations.close(&w.operator, &ConversationId::new()).await);
}

#[tokio::test]
async fn a_visitor_token_opens_its_own_conversation_from_allowed_sites_only() {
    let w = world().await;
    let conversations = &w.services.conversations;
    let draft =
        WidgetDraft { allowed_origins: Some(vec!["https://shop.example.test".into()]), ..widget() };
    let id = conversations.create_widget(&w.admin, draft).await.unwrap().widget.id;
    let site = Some("https://shop.example.test");
    let elsewhere = Some("https://evil.example.test");
    assert!(conversations.visitor_widget(&id, elsewhere).await.is_err());
    let widget = conversations.visitor_widget(&id, site).await.unwrap();
    let started = conversations.start_conversation(&widget, VisitorStart::default()).await.unwrap();
    let (token, id) = (started.visitor_token.as_str(), &started.conversation.id);
    assert!(conversations.visitor_conversation(token, id, site).await.is_ok());
    assert!(conversations.visitor_conversation(token, id, None).await.is_ok());
    let refused = conversations.visitor_conversation(token, id, elsewhere).await;
    assert!(matches!(refused, Err(crate::EngineError::Refused { code: "origin_not_allowed", .. })));
    let other = conversations.visitor_conversation(token, &ConversationId::new(), site).await;
    assert!(matches!(other, Err(crate::EngineError::NotFound("conversation"))));
    let forged = conversations.visitor_conversation("sbv_forged", id, site).await;
    assert!(matches!(forged, Err(crate::EngineError::Unauthenticated(_))));
}
