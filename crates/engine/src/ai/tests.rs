//! Who may change the AI settings: admins; every member sees them (without the key).

use super::AiSettingsDraft;
use crate::testing::{assert_forbidden, assert_permitted, world};

fn draft() -> AiSettingsDraft {
    AiSettingsDraft {
        provider: "openai".into(),
        base_url: Some("https://llm.example.test/v1".into()),
        model: "small".into(),
        api_key: None,
        instructions: None,
        embedding_model: None,
    }
}

#[tokio::test]
async fn only_admins_change_ai_settings() {
    let w = world().await;
    let ai = &w.services.ai;
    assert_forbidden(ai.put_ai_settings(&w.operator, draft()).await);
    assert_forbidden(ai.delete_ai_settings(&w.operator).await);
    assert_permitted(ai.put_ai_settings(&w.admin, draft()).await);
    let seen = ai.ai_settings(&w.operator).await.unwrap();
    assert_eq!(seen.settings.map(|s| s.model), Some("small".into()));
    assert!(ai.ai_settings(&w.stranger).await.unwrap().settings.is_none());
    assert_permitted(ai.delete_ai_settings(&w.admin).await);
}
