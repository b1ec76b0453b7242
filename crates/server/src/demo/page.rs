//! The `/demo` page: a pretend shop with the widget embedded, and what to try. Like a real shop,
//! the page signs the customer who is signed in on it (server-side, with the widget's identity
//! secret), so the widget's account lookup answers for that customer and no one else.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use sb_domain::WidgetId;
use sb_secrets::Secret;

/// The pretend customers the page can be signed in as: (key in `?customer=`, name, e-mail).
const CUSTOMERS: [(&str, &str, &str); 2] =
    [("ann", "Ann", "ann@example.com"), ("vip", "Vic", "vip@example.com")];

/// The widget's `<script>` tag, carrying the signed customer when there is one.
fn widget_tag(
    widget: &WidgetId,
    secret: &Secret<String>,
    customer: Option<(&str, &str)>,
) -> String {
    let identity = customer.map_or_else(String::new, |(name, email)| {
        let hash = sb_engine::user_hash(secret.expose(), email);
        format!(r#" data-name="{name}" data-email="{email}" data-user-hash="{hash}""#)
    });
    format!(r#"<script src="/widget.js" data-widget="{widget}"{identity} async></script>"#)
}

fn signed_in_line(customer: Option<(&str, &str)>) -> String {
    let others = |current: &str| {
        let mut links: Vec<String> = CUSTOMERS
            .iter()
            .filter(|(_, _, email)| *email != current)
            .map(|(key, name, _)| {
                format!(r#"<a href="/demo?customer={key}">sign in as {name}</a>"#)
            })
            .collect();
        if !current.is_empty() {
            links.push(r#"<a href="/demo?customer=none">sign out</a>"#.into());
        }
        links.join(" · ")
    };
    match customer {
        Some((name, email)) => format!(
            "Signed in as <strong>{name}</strong> (<code>{email}</code>) — {}",
            others(email)
        ),
        None => format!("Not signed in — {}", others("")),
    }
}

fn render(widget: &WidgetId, secret: &Secret<String>, customer: Option<(&str, &str)>) -> String {
    let tag = widget_tag(widget, secret, customer);
    let signed_in = signed_in_line(customer);
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Lamps — Switchboard demo</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 760px; margin: 40px auto; padding: 0 20px; line-height: 1.5; color: #222; }}
  code {{ background: #f1f3f5; padding: 1px 5px; border-radius: 4px; }}
  li {{ margin: 6px 0; }}
  .account {{ background: #f1f3f5; padding: 8px 12px; border-radius: 6px; }}
</style></head>
<body>
<h1>Demo Lamps</h1>
<p class="account" id="account">{signed_in}</p>
<p>This pretend shop runs the Switchboard widget (bottom right). Behind it, a demo backend in the
same process answers order, stock and account questions — the orders API behind OAuth 2.0 client
credentials, inventory and accounts behind an API key.</p>
<p>Like a real shop, this page signs the customer who is signed in on it (an HMAC made by the
server with the widget's identity secret), so the assistant looks up that customer's account and
never one whose e-mail someone merely types.</p>
<h2>Try</h2>
<ul>
  <li><code>Where is my order #4521?</code> — looks the order up and answers with its live status.</li>
  <li><code>Is something in stock?</code> then <code>LAMP-2</code> — a flow over two messages.</li>
  <li><code>What plan am I on?</code> — signed in as Ann, the answer is her plan; signed in as Vic,
      a premium customer, the conversation is handed to a person; signed out, nothing is looked up.</li>
  <li><code>What is your return policy?</code> — answered from the knowledge base, even with AI off.</li>
</ul>
<p>Then open the <a href="/">dashboard</a> (log in as <code>agent@switchboard.local</code> /
<code>demo-password</code>) to see the conversation live, with its variables and the trace of every
rule and API call. The owner account is <code>demo@switchboard.local</code>.</p>
{tag}
</body></html>"#
    )
}

/// `/demo`, signed in as Ann unless `?customer=vip` or `?customer=none` says otherwise.
pub fn page_router(widget: WidgetId, secret: Secret<String>) -> Router {
    Router::new().route(
        "/demo",
        get(move |Query(query): Query<HashMap<String, String>>| {
            let wanted = query.get("customer").map_or("ann", String::as_str);
            let customer = CUSTOMERS
                .iter()
                .find(|(key, _, _)| *key == wanted)
                .map(|(_, name, email)| (*name, *email));
            let html = render(&widget, &secret, customer);
            async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response() }
        }),
    )
}
