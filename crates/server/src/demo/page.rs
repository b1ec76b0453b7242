//! The `/demo` page: a pretend shop with the widget embedded, and what to try.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use sb_domain::WidgetId;

pub fn page_router(widget: WidgetId) -> Router {
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Lamps — Switchboard demo</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 760px; margin: 40px auto; padding: 0 20px; line-height: 1.5; color: #222; }}
  code {{ background: #f1f3f5; padding: 1px 5px; border-radius: 4px; }}
  li {{ margin: 6px 0; }}
</style></head>
<body>
<h1>Demo Lamps</h1>
<p>This pretend shop runs the Switchboard widget (bottom right). Behind it, a demo backend in the
same process answers order, stock and account questions — the orders API behind OAuth 2.0 client
credentials, inventory and accounts behind an API key.</p>
<h2>Try</h2>
<ul>
  <li><code>Where is my order #4521?</code> — looks the order up and answers with its live status.</li>
  <li><code>Is something in stock?</code> then <code>LAMP-2</code> — a flow over two messages.</li>
  <li><code>My e-mail is vip@example.com</code> — a premium customer is handed to a person;
      <code>ann@example.com</code> gets an answer.</li>
  <li><code>What is your return policy?</code> — answered from the knowledge base, even with AI off.</li>
</ul>
<p>Then open the <a href="/">dashboard</a> (log in as <code>agent@switchboard.local</code> /
<code>demo-password</code>) to see the conversation live, with its variables and the trace of every
rule and API call. The owner account is <code>demo@switchboard.local</code>.</p>
<script src="/widget.js" data-widget="{widget}" async></script>
</body></html>"#
    );
    Router::new().route(
        "/demo",
        get(move || {
            let html = html.clone();
            async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response() }
        }),
    )
}
