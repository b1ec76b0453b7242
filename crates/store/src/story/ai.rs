use sb_domain::{AiSettings, AiUsage, Author, ConversationId, MessageId, TenantId, Translation};

use super::{assert_not_found, now};
use crate::{NewMessage, PageRequest, SealedKind, Store};

pub(super) async fn ai(store: &dyn Store, tenant: &TenantId, other: &TenantId) {
    assert!(store.get_ai_settings(tenant).await.unwrap().is_none());
    let settings = AiSettings {
        tenant_id: tenant.clone(),
        provider: "anthropic".into(),
        base_url: String::new(),
        model: "claude".into(),
        instructions: "Be brief.".into(),
        embedding_model: "embed-small".into(),
        updated_at: now(),
    };
    store.put_ai_settings(&settings, Some("sealed-key")).await.unwrap();
    assert_eq!(
        store.get_ai_settings(tenant).await.unwrap(),
        Some((settings.clone(), Some("sealed-key".into())))
    );
    let changed = AiSettings { model: "claude-2".into(), ..settings.clone() };
    store.put_ai_settings(&changed, None).await.unwrap();
    assert_eq!(store.get_ai_settings(tenant).await.unwrap(), Some((changed, None)));
    assert!(store.get_ai_settings(other).await.unwrap().is_none());
    store.put_ai_settings(&settings, Some("sealed-key")).await.unwrap();
    let sealed = store.list_sealed().await.unwrap();
    let key = sealed
        .iter()
        .find(|v| v.kind == SealedKind::AiApiKey)
        .expect("the AI key is listed for rotation");
    assert!(store.replace_sealed(key, "resealed").await.unwrap());
    assert_eq!(
        store.get_ai_settings(tenant).await.unwrap().unwrap().1.as_deref(),
        Some("resealed")
    );
    assert_not_found(store.delete_ai_settings(other).await);
    store.delete_ai_settings(tenant).await.unwrap();
    assert!(store.get_ai_settings(tenant).await.unwrap().is_none());

    let conversation = ConversationId::new();
    let usage = |conversation: Option<ConversationId>, input| AiUsage {
        tenant_id: tenant.clone(),
        conversation_id: conversation,
        purpose: "reply".into(),
        provider: "openai".into(),
        model: "m".into(),
        input_tokens: input,
        output_tokens: 5,
        at: now(),
    };
    store.record_ai_usage(&usage(Some(conversation.clone()), 100)).await.unwrap();
    store.record_ai_usage(&usage(None, 50)).await.unwrap();
    let since = now() - jiff::SignedDuration::from_hours(1);
    let all = store.ai_usage_totals(tenant, None, since).await.unwrap();
    assert_eq!((all.calls, all.input_tokens, all.output_tokens), (2, 150, 10));
    let one = store.ai_usage_totals(tenant, Some(&conversation), since).await.unwrap();
    assert_eq!((one.calls, one.input_tokens), (1, 100));
    assert_eq!(store.ai_usage_totals(other, None, since).await.unwrap().calls, 0);

    let users = store.list_users(tenant, &PageRequest::default()).await.unwrap().items;
    assert_eq!(users[0].language, "en", "operators start in English");
    store.set_language(tenant, &users[0].id, "de").await.unwrap();
    assert_eq!(store.get_user(tenant, &users[0].id).await.unwrap().language, "de");
    assert_not_found(store.set_language(other, &users[0].id, "fr").await);

    // Translations are kept beside the original.
    let widget = super::conversations::widget(tenant, "AI");
    store.create_widget(&widget, None).await.unwrap();
    let conv = super::conversations::conversation(tenant, &widget.id);
    store.create_conversation(&conv, "ai-token").await.unwrap();
    let id = MessageId::new();
    let new = NewMessage {
        id: &id,
        conversation_id: &conv.id,
        author: Author::Operator,
        author_user_id: None,
        text: "Hello",
        translation: None,
        created_at: now(),
        action: None,
        attachments: &[],
        search_terms: "",
        source: None,
    };
    store.append_message(tenant, new).await.unwrap();
    let translation = Translation { language: "de".into(), text: "Hallo".into() };
    store.set_translation(tenant, &id, &translation).await.unwrap();
    assert_eq!(
        store.get_message(tenant, &id).await.unwrap().translation,
        Some(translation.clone())
    );
    assert_not_found(store.set_translation(other, &id, &translation).await);
    store.delete_widget(tenant, &widget.id).await.unwrap();
}
