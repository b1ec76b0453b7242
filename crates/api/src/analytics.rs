//! `/analytics`: is the assistant working — the summary over a range of days, one metric per
//! day or week, and the counts as CSV (docs/analytics.md).

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_domain::WidgetId;
use sb_domain::analytics::Summary;
use sb_engine::conversations::{DayRange, Interval, KnowledgeGap, Point};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::Data;
use crate::openapi::ApiRouter;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new("Analytics")
        .get("/analytics/summary", "Every figure over a range of days", summary)
        .get("/analytics/timeseries", "One metric per day or week", timeseries)
        .get("/analytics/export.csv", "The counts per day or week, as CSV", export)
        .get(
            "/analytics/knowledge-gaps",
            "Questions the assistant did not answer well, grouped, most asked first",
            gaps,
        )
}

/// Which days and conversations a report covers.
#[derive(Deserialize, JsonSchema)]
struct RangeQuery {
    /// The first day, `YYYY-MM-DD` in the account's time zone (default: 29 days before `to`).
    from: Option<String>,
    /// The last day, included (default: today). At most 400 days after `from`.
    to: Option<String>,
    /// Only this widget's conversations.
    widget_id: Option<String>,
    /// `day` (default) or `week` (weeks start on Monday); for the series and the CSV.
    interval: Option<String>,
    /// For the series: `conversations`, `involvement_rate`, `assistant_resolution_rate`, …
    metric: Option<String>,
}

fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", rejection.body_text())
}

/// The range and widget asked for, checked.
async fn scope(
    state: &AppState,
    actor: &sb_engine::Actor,
    query: &RangeQuery,
) -> ApiResult<(DayRange, Option<WidgetId>)> {
    let zone = state.accounts.tenant(actor).await?.time_zone;
    let zone = jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let range = DayRange::parse(query.from.as_deref(), query.to.as_deref(), zone)?;
    let widget = match query.widget_id.as_deref().filter(|w| !w.is_empty()) {
        Some(raw) => Some(raw.parse::<WidgetId>().map_err(|_| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", "not a widget id")
                .with_field("widget_id")
        })?),
        None => None,
    };
    Ok((range, widget))
}

async fn summary(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Data<Summary>> {
    let Query(query) = query.map_err(bad_query)?;
    let (range, widget) = scope(&state, &actor, &query).await?;
    Ok(Data(state.conversations.analytics_summary(&actor, &range, widget.as_ref()).await?))
}

async fn timeseries(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Data<Vec<Point>>> {
    let Query(query) = query.map_err(bad_query)?;
    let (range, widget) = scope(&state, &actor, &query).await?;
    let interval = Interval::parse(query.interval.as_deref())?;
    let metric = query.metric.as_deref().unwrap_or("conversations");
    let points = state
        .conversations
        .analytics_timeseries(&actor, metric, interval, &range, widget.as_ref())
        .await?;
    Ok(Data(points))
}

async fn gaps(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Data<Vec<KnowledgeGap>>> {
    let Query(query) = query.map_err(bad_query)?;
    let (range, _) = scope(&state, &actor, &query).await?;
    Ok(Data(state.conversations.knowledge_gaps(&actor, &range).await?))
}

async fn export(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<CsvDownload> {
    let Query(query) = query.map_err(bad_query)?;
    let (range, widget) = scope(&state, &actor, &query).await?;
    let interval = Interval::parse(query.interval.as_deref())?;
    let csv = state.conversations.analytics_csv(&actor, interval, &range, widget.as_ref()).await?;
    Ok(CsvDownload { csv, name: format!("analytics-{}-{}.csv", range.from, range.to) })
}

/// The counts as a CSV download.
pub(crate) struct CsvDownload {
    csv: String,
    /// Letters, digits, dashes and a dot only: nothing to quote.
    name: String,
}

impl IntoResponse for CsvDownload {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.name);
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ];
        (headers, self.csv).into_response()
    }
}
