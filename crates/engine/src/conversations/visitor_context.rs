//! What the inbox may call an anonymous visitor by — "Visitor from Berlin, Chrome" — without a
//! location database: the place comes from the browser's time zone, the browser from its
//! User-Agent. Neither is identity: both are stored beside what the visitor typed and are never
//! rule variables, so no endpoint call or reply can use them.

use sb_domain::ValidationError;

use super::optional_text;

/// The longest time zone accepted; IANA names are at most about 32 characters.
const MAX_TIME_ZONE_CHARS: usize = 64;

/// The browser's time zone as the widget reported it, if it looks like an IANA name
/// (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`). Not checked against the server's
/// time zone database: a browser may know a newer zone, and the name is only shown.
pub(crate) fn time_zone(value: Option<String>) -> Result<Option<String>, ValidationError> {
    let value = optional_text("time_zone", value, MAX_TIME_ZONE_CHARS)?;
    if value.as_deref().is_some_and(|zone| !looks_like_iana_name(zone)) {
        return Err(ValidationError::new(
            "visitor.time_zone",
            "invalid_time_zone",
            "use an IANA time zone name such as Europe/Berlin",
        ));
    }
    Ok(value)
}

/// Up to three `/`-separated parts, each a letter followed by letters, digits, `_`, `-` or `+`.
fn looks_like_iana_name(zone: &str) -> bool {
    let parts: Vec<&str> = zone.split('/').collect();
    parts.len() <= 3
        && parts.iter().all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

/// Browsers whose User-Agent also carries the tokens of the families below; named by their
/// family they would be misnamed, so they are not named at all.
const OTHER_BROWSERS: [&str; 4] = ["SamsungBrowser/", "YaBrowser/", "UCBrowser/", "Vivaldi/"];

/// The browser family a User-Agent names: Chrome, Firefox, Safari, Edge or Opera; anything else
/// (other browsers, scripts, server-side integrations) is not named. Edge and Opera carry
/// Chrome's token and Chrome carries Safari's, so the order of the checks matters.
pub(crate) fn browser_family(user_agent: &str) -> Option<&'static str> {
    let has = |token: &str| user_agent.contains(token);
    let any = |tokens: &[&str]| tokens.iter().any(|t| has(t));
    if any(&OTHER_BROWSERS) {
        None
    } else if any(&["Edg/", "EdgA/", "EdgiOS/", "Edge/"]) {
        Some("Edge")
    } else if any(&["OPR/", "OPiOS/", "Opera"]) {
        Some("Opera")
    } else if any(&["Firefox/", "FxiOS/"]) {
        Some("Firefox")
    } else if any(&["Chrome/", "CriOS/", "Chromium/"]) {
        Some("Chrome")
    } else if has("Safari/") && has("Version/") {
        Some("Safari")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_pass_and_anything_else_is_refused() {
        for zone in ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC", "Etc/GMT+5"] {
            assert_eq!(time_zone(Some(zone.into())).unwrap().as_deref(), Some(zone));
        }
        assert_eq!(time_zone(Some("  ".into())).unwrap(), None);
        assert_eq!(time_zone(None).unwrap(), None);
        for bad in
            ["Berlin, Germany", "Europe//Berlin", "/Berlin", "a/b/c/d", "<script>", "Europe/1"]
        {
            let err = time_zone(Some(bad.into())).unwrap_err();
            assert_eq!((err.field.as_ref(), err.code), ("visitor.time_zone", "invalid_time_zone"));
        }
        let err = time_zone(Some(format!("Europe/{}", "B".repeat(64)))).unwrap_err();
        assert_eq!((err.field.as_ref(), err.code), ("visitor.time_zone", "invalid_field"));
    }

    #[test]
    fn browsers_are_named_by_family() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                Some("Chrome"),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                Some("Chrome"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1",
                Some("Chrome"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                Some("Firefox"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
                Some("Safari"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                Some("Edge"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
                Some("Opera"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
                None,
            ),
            ("curl/8.5.0", None),
            ("", None),
        ];
        for (user_agent, family) in cases {
            assert_eq!(browser_family(user_agent), family, "{user_agent}");
        }
    }
}
