//! What visitors think: `POST /widget/conversations/{id}/rating` once the conversation is
//! closed, and `…/messages/{message_id}/feedback` on the bot's replies (visitor token). The
//! account's people read both with the conversation (docs/inbox.md#ratings). Outside office
//! hours, `…/email` leaves an address for the reply.

use axum::extract::State;
use sb_domain::{Feedback, MessageId, Rating};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::ApiResult;
use crate::json::{ApiJson, Data, NoContent};
use crate::openapi::ApiRouter;
use crate::path::MessagePathId;
use crate::state::AppState;
use crate::visitor::VisitorConversation;

/// Under the visitor API's CORS and origin rules.
pub(crate) const VISITOR_PATHS: [&str; 3] = [
    "/widget/conversations/{id}/rating",
    "/widget/conversations/{id}/messages/{message_id}/feedback",
    "/widget/conversations/{id}/email",
];

pub(crate) fn visitor_routes(routes: ApiRouter) -> ApiRouter {
    routes
        .post(VISITOR_PATHS[0], "Rate the conversation (1–5, once it is closed)", rate)
        .post(VISITOR_PATHS[1], "Say whether a reply of the assistant helped", feedback)
        .post(
            VISITOR_PATHS[2],
            "Leave an e-mail address for the reply (outside office hours)",
            email,
        )
}

/// Where the visitor wants the reply.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "VisitorEmailInput")]
struct EmailBody {
    email: String,
}

async fn email(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    ApiJson(body): ApiJson<EmailBody>,
) -> ApiResult<NoContent> {
    state.conversations.leave_email(&conversation, &body.email).await?;
    Ok(NoContent)
}

/// A rating: 1 (bad) to 5 (great), and what the visitor wants to add.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RatingInput")]
struct RatingBody {
    score: i64,
    /// At most 2000 characters.
    comment: Option<String>,
}

async fn rate(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    ApiJson(body): ApiJson<RatingBody>,
) -> ApiResult<Data<Rating>> {
    let comment = body.comment.as_deref();
    Ok(Data(state.conversations.rate(&conversation, body.score, comment).await?))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "FeedbackInput")]
struct FeedbackBody {
    helpful: bool,
}

async fn feedback(
    State(state): State<AppState>,
    VisitorConversation(conversation): VisitorConversation,
    MessagePathId(message): MessagePathId<MessageId>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> ApiResult<Data<Feedback>> {
    Ok(Data(state.conversations.give_feedback(&conversation, &message, body.helpful).await?))
}
