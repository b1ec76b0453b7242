//! URLs and allowlist entries come from tenants and operators: any text is parsed or refused,
//! and the policy gives every URL that parses a verdict without panicking.

use proptest::prelude::*;
use sb_net::{AllowEntry, SsrfPolicy, Url};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn any_url_gets_a_verdict(
        scheme in prop_oneof![
            Just("http".to_owned()),
            Just("https".to_owned()),
            Just("file".to_owned()),
            "[a-z]{1,6}",
        ],
        host in "[a-zA-Z0-9.:\\[\\]%@_~-]{0,40}",
        rest in "\\PC{0,30}",
    ) {
        let policy = SsrfPolicy::default();
        if let Ok(url) = Url::parse(&format!("{scheme}://{host}{rest}")) {
            let _ = policy.check_url(&url);
        }
    }

    #[test]
    fn any_allowlist_entry_is_parsed_or_refused(entry in "\\PC{0,40}") {
        if let Ok(parsed) = entry.parse::<AllowEntry>() {
            let policy = SsrfPolicy::new(vec![parsed]);
            let url = Url::parse("http://10.0.0.1:8080/").unwrap();
            let _ = policy.check_url(&url);
        }
    }
}
