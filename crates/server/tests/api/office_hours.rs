//! Office hours: the widget learns whether its team is there and when it is back, rules read
//! `widget.open`, and a visitor outside the hours leaves an e-mail address the team sees.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error};

const EVERY_DAY: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[tokio::test]
async fn the_widget_knows_its_hours_and_an_away_visitor_leaves_an_email() {
    for app in TestApp::every_backend().await {
        let owner = app.signup("Acme", "owner@acme.test").await;
        let always: serde_json::Map<String, Value> =
            EVERY_DAY.iter().map(|d| ((*d).to_owned(), json!([["00:00", "24:00"]]))).collect();
        let open = owner
            .create_widget_with(json!({"name": "Open", "office_hours": {"time_zone": "Europe/Berlin", "days": always}}))
            .await;
        let away = owner
            .create_widget_with(json!({"name": "Away", "office_hours": {"days": {},
                "offline_message": "We're on holiday until Monday.", "ask_email_offline": true}}))
            .await;
        let config = |widget: String| {
            let client = app.anonymous();
            async move {
                client.get(format!("/api/v1/widget/{widget}/config")).await.1["data"]["office_hours"].clone()
            }
        };
        assert_eq!(
            config(open.clone()).await,
            json!({"open": true, "next_open_at": null, "offline_message": null, "ask_email": false})
        );
        assert_eq!(
            config(away.clone()).await,
            json!({"open": false, "next_open_at": null,
            "offline_message": "We're on holiday until Monday.", "ask_email": true})
        );

        // Open tomorrow only: away now, back tomorrow.
        let tomorrow =
            jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().tomorrow().unwrap();
        let day = EVERY_DAY[tomorrow.weekday().to_monday_zero_offset() as usize];
        let (status, _) = owner.patch(format!("/api/v1/widgets/{away}"), json!({"office_hours": {"days": {day: [["09:00", "17:00"]]}, "ask_email_offline": true}})).await;
        assert_eq!(status, StatusCode::OK);
        let later = config(away.clone()).await;
        assert_eq!(later["open"], false);
        assert_eq!(later["next_open_at"], json!(format!("{tomorrow}T09:00:00Z")));

        // Rules read `widget.open`.
        owner
            .create_rule(json!({"name": "Hours", "trigger": {"type": "keywords", "any": ["there"]},
                "actions": [{"type": "REPLY_TEXT", "text": "open: {widget.open}"}]}))
            .await;
        assert_eq!(app.start_conversation(&open).await.say("anyone there?").await, ["open: true"]);
        let visitor = app.start_conversation(&away).await;
        assert_eq!(visitor.say("anyone there?").await, ["open: false"]);

        // The away visitor leaves an address; the team sees it in the conversation.
        let path = format!("/api/v1/widget/conversations/{}/email", visitor.conversation_id);
        let leave = |email: &str| {
            let request = visitor
                .client
                .request(Method::POST, &path)
                .bearer_auth(&visitor.token)
                .json(&json!({"email": email}));
            visitor.client.send(request)
        };
        let bad = leave("not an address").await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", Some("email"));
        assert_eq!(leave("ann@example.com").await.0, StatusCode::NO_CONTENT);
        let (_, messages) =
            owner.get(format!("/api/v1/conversations/{}/messages", visitor.conversation_id)).await;
        let last = messages["data"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (&last["author"], &last["text"]),
            (
                &json!("system"),
                &json!("The visitor left an e-mail address for the reply: ann@example.com")
            )
        );
        let conversation = owner.conversation(&visitor.conversation_id).await;
        assert_eq!(conversation["visitor"]["email"], "ann@example.com");
        let (_, contact) = owner
            .get(format!("/api/v1/contacts/{}", conversation["contact_id"].as_str().unwrap()))
            .await;
        assert_eq!(contact["data"]["email"], "ann@example.com");

        // Bad hours say where; null removes them.
        let overlap = owner.patch(format!("/api/v1/widgets/{away}"), json!({"office_hours": {"days": {"tue": [["09:00", "17:00"], ["16:00", "18:00"]]}}})).await;
        assert_error(
            &overlap,
            StatusCode::UNPROCESSABLE_ENTITY,
            "overlapping",
            Some("office_hours.days.tue[1]"),
        );
        let zone = owner
            .patch(
                format!("/api/v1/widgets/{away}"),
                json!({"office_hours": {"time_zone": "Mars/Olympus"}}),
            )
            .await;
        assert_error(
            &zone,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time_zone",
            Some("office_hours.time_zone"),
        );
        owner.patch(format!("/api/v1/widgets/{away}"), json!({"office_hours": null})).await;
        assert_eq!(config(away.clone()).await, Value::Null);
    }
}
