//! The static assets, compiled into the binary: the embeddable widget and the dashboard.
//! No Node.js is needed to build or run them — they are plain files.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sb_secrets::sha256_hex;

use crate::state::AppState;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// Cache-Control: the widget is cached briefly by tenants' visitors; the dashboard revalidates.
    cache: &'static str,
    etag: LazyLock<String>,
}

macro_rules! asset {
    ($path:expr, $file:expr, $type:literal, $cache:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../../web/", $file)),
            cache: $cache,
            etag: LazyLock::new(|| {
                format!(
                    "\"{}\"",
                    &sha256_hex(&String::from_utf8_lossy(include_bytes!(concat!(
                        "../../../web/",
                        $file
                    ))))[..16]
                )
            }),
        }
    };
}

/// A dashboard module: served at `/app/<name>.js`, revalidated on every load.
macro_rules! module {
    ($name:literal) => {
        asset!(
            concat!("/app/", $name, ".js"),
            concat!("dashboard/", $name, ".js"),
            "text/javascript; charset=utf-8",
            "no-cache"
        )
    };
}

static ASSETS: [Asset; 32] = [
    asset!(
        "/widget.js",
        "widget/widget.js",
        "text/javascript; charset=utf-8",
        "public, max-age=300"
    ),
    asset!("/", "dashboard/index.html", "text/html; charset=utf-8", "no-cache"),
    module!("app"),
    module!("ui"),
    module!("notify"),
    module!("start"),
    module!("tests"),
    module!("inbox"),
    module!("inbox_rows"),
    module!("actions"),
    module!("connections"),
    module!("endpoints"),
    module!("rules"),
    module!("rule_parts"),
    module!("widgets"),
    module!("knowledge"),
    module!("ai"),
    module!("team"),
    module!("labels"),
    module!("canned"),
    module!("files"),
    module!("analytics"),
    module!("charts"),
    module!("contacts"),
    module!("audit"),
    module!("office_hours"),
    module!("passwords"),
    module!("webhooks"),
    module!("openapi_import"),
    module!("mcp_tools"),
    module!("channels"),
    asset!("/app/style.css", "dashboard/style.css", "text/css; charset=utf-8", "no-cache"),
];

/// The dashboard's pages may only load our own scripts and talk to our own origin.
const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn serve(asset: &'static Asset, request: &HeaderMap) -> Response {
    let etag = asset.etag.as_str();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"0\"")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(asset.cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if asset.content_type.starts_with("text/html") {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DASHBOARD_CSP));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    if request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    (headers, asset.body).into_response()
}

pub fn router() -> Router<AppState> {
    ASSETS.iter().fold(Router::new(), |router, asset| {
        router
            .route(asset.path, get(move |headers: HeaderMap| async move { serve(asset, &headers) }))
    })
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    /// A new module that is not listed here would be a 404, and with it the whole dashboard.
    #[test]
    fn every_file_of_the_dashboard_and_the_widget_is_served() {
        for dir in ["dashboard", "widget"] {
            let folder = format!("{}/../../web/{dir}", env!("CARGO_MANIFEST_DIR"));
            for entry in std::fs::read_dir(folder).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                let body =
                    std::fs::read(format!("{}/../../web/{dir}/{name}", env!("CARGO_MANIFEST_DIR")))
                        .unwrap();
                assert!(
                    ASSETS.iter().any(|asset| asset.body == body.as_slice()),
                    "web/{dir}/{name} is not served: add it to ASSETS"
                );
            }
        }
    }
}
