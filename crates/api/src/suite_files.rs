//! Suites as files (docs/test-suites.md): `POST /test-cases/import` takes a suite file, JSON or
//! YAML, and creates or updates its cases; `GET /test-cases/export` gives a suite back as a file
//! to keep beside the code, for `switchboard test run --file` in CI.

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sb_domain::suite_file::SuiteFile;
use sb_engine::EngineError;
use sb_engine::suites::ImportOutcome;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::{ApiJson, Data, from_value};
use crate::openapi::ApiRouter;
use crate::state::AppState;

/// A suite file may be this large (500 cases of a typical few KiB each fit easily).
const FILE_MAX_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> ApiRouter {
    ApiRouter::new("Test suites")
        .post(
            "/test-cases/import",
            "Create or update test cases from a suite file, JSON or YAML (admins; body up to 16 MiB)",
            import,
        )
        .map_router(|router| router.layer(DefaultBodyLimit::max(FILE_MAX_BYTES)))
        .get("/test-cases/export", "Download a suite as a file, JSON or YAML (admins)", export)
}

/// A suite file to import.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SuiteImportInput")]
struct ImportBody {
    /// The file: an object (`SuiteFile`), or its text, JSON or YAML.
    file: Value,
    /// Check the file and say what would change, changing nothing.
    #[serde(default)]
    dry_run: bool,
}

async fn import(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ImportBody>,
) -> ApiResult<Data<ImportOutcome>> {
    let document = match body.file {
        Value::String(text) => sb_connectors::openapi::parse_text(&text).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unparsable_file", e.0)
                .with_field("file")
        })?,
        other => other,
    };
    let file: SuiteFile = from_value(document, "file")?;
    let imported = state.suites.import_suite(&actor, file, body.dry_run).await;
    // The engine names fields within the file; the request holds it under `file`.
    Ok(Data(imported.map_err(|error| match error {
        EngineError::Invalid(mut invalid) => {
            invalid.field = format!("file.{}", invalid.field).into();
            EngineError::Invalid(invalid)
        }
        other => other,
    })?))
}

#[derive(Deserialize, JsonSchema, Clone, Copy, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Json,
    Yaml,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// The suite; without it, the cases that belong to no suite.
    suite: Option<String>,
    /// `json` (default) or `yaml`.
    #[serde(default)]
    format: Format,
}

/// A suite file, sent as a download.
pub(crate) struct SuiteDownload {
    name: String,
    format: Format,
    text: String,
}

impl IntoResponse for SuiteDownload {
    fn into_response(self) -> Response {
        let (media, extension) = match self.format {
            Format::Json => ("application/json", "json"),
            Format::Yaml => ("application/yaml", "yaml"),
        };
        // Only letters, digits and dashes reach the header: no quoting to get wrong.
        let stem: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        let disposition = format!("attachment; filename=\"{stem}.suite.{extension}\"");
        (
            [(header::CONTENT_TYPE, media.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
            self.text,
        )
            .into_response()
    }
}

async fn export(
    State(state): State<AppState>,
    Auth(actor): Auth,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<SuiteDownload> {
    let Query(query) = query
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let file = state.suites.export_suite(&actor, query.suite.as_deref()).await?;
    let text = match query.format {
        Format::Json => serde_json::to_string_pretty(&file).map(|t| t + "\n").map_err(internal)?,
        Format::Yaml => yaml_serde::to_string(&file).map_err(internal)?,
    };
    Ok(SuiteDownload {
        name: query.suite.unwrap_or_else(|| "cases".into()),
        format: query.format,
        text,
    })
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("writing the suite file: {error}"))
}
