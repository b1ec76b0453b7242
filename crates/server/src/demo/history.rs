//! A few conversations the demo has had before anyone arrives, so the inbox, the analytics page
//! and its knowledge gaps have something to show: an order looked up, a return policy from the
//! knowledge base, and a question asked twice that nothing answers yet.

use std::time::Duration;

use sb_domain::{PageRequest, WidgetId};
use sb_engine::conversations::{ConversationFilter, VisitorStart};
use sb_engine::{Actor, Services};

/// (visitor, what they asked, rating once closed).
const CONVERSATIONS: [(&str, &str, Option<i64>); 4] = [
    ("Mia", "Where is my order #4521?", Some(5)),
    ("Noah", "What is your return policy?", Some(4)),
    ("Lena", "Can I pay with a gift card?", None),
    ("Omar", "Do you take gift cards as payment?", Some(2)),
];

/// Has the conversations, once: into an account that has none.
pub async fn seed(services: &Services, actor: &Actor, widget: &WidgetId) -> anyhow::Result<()> {
    let conversations = &services.conversations;
    let first = PageRequest::first(1);
    if !conversations
        .list_conversations(actor, &ConversationFilter::default(), &first)
        .await?
        .items
        .is_empty()
    {
        return Ok(());
    }
    let widget = conversations.visitor_widget(widget, None).await?;
    for (name, question, rating) in CONVERSATIONS {
        let visitor = VisitorStart {
            name: Some(name.into()),
            language: Some("en".into()),
            ..VisitorStart::default()
        };
        let started = conversations.start_conversation(&widget, visitor).await?;
        let wait = Some(Duration::from_secs(10));
        conversations.post_visitor_message(&started.conversation, question, wait).await?;
        let closed = conversations.close(actor, &started.conversation.id).await?;
        if let Some(score) = rating {
            conversations.rate(&closed, score, None).await?;
        }
    }
    Ok(())
}
