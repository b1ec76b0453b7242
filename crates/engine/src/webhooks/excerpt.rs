//! What of a receiver's answer goes into the delivery log.

use super::signing;

/// The receiver's answer kept in the log, at most.
pub(super) const EXCERPT_BYTES: usize = 1024;

/// The start of an answer for the log: at most [`EXCERPT_BYTES`] of text, with any signing
/// secret a receiver might echo replaced by `***` (before cutting, so a secret straddling the
/// cut leaves nothing behind) and control characters other than line breaks and tabs dropped.
pub(super) fn excerpt(body: &[u8], secrets: &[&str]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    // The whole answer (at most the client's 1 MiB cap): control characters go first, so none
    // can hide a secret, then the secrets, then the cut.
    let mut text = loggable(&String::from_utf8_lossy(body));
    for secret in secrets {
        let key = secret.strip_prefix(signing::SECRET_PREFIX).unwrap_or(secret);
        text = text.replace(secret, "***");
        if !key.is_empty() {
            text = text.replace(key, "***");
        }
    }
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (!text.is_empty()).then_some(text)
}

/// `text` without control characters other than `\n`, `\r` and `\t`: storable in any database
/// (PostgreSQL's TEXT refuses NUL) and harmless in logs.
pub(super) fn loggable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_text_without_secrets() {
        let secret = "whsec_c2VjcmV0LWtleS1ieXRlcw==";
        let echoed = format!(
            "got whsec_c2VjcmV0LWtleS1ieXRlcw== and c2VjcmV0LWtleS1ieXRlcw== {}",
            "é".repeat(1000)
        );
        let text = excerpt(echoed.as_bytes(), &[secret]).unwrap();
        assert!(text.starts_with("got *** and *** "), "{text}");
        assert!(text.len() <= EXCERPT_BYTES && !text.contains("c2VjcmV0"));
        assert_eq!(excerpt(b"", &[secret]), None);
    }

    #[test]
    fn a_secret_straddling_the_cut_is_replaced_whole_and_control_characters_dropped() {
        let secret = "whsec_c2VjcmV0LWtleS1ieXRlcw==";
        for at in EXCERPT_BYTES - 20..EXCERPT_BYTES + 5 {
            let body = format!("{}{secret} tail", "a".repeat(at));
            let text = excerpt(body.as_bytes(), &[secret]).unwrap();
            assert!(!text.contains("whsec") && !text.contains("c2Vj"), "at {at}: {text}");
            assert!(text.len() <= EXCERPT_BYTES);
        }
        // A NUL cannot split a secret to hide it, and none is kept.
        let hidden = "ok\0 whsec_c2VjcmV0\0LWtleS1ieXRlcw==\r\n\u{1b}[1m";
        assert_eq!(excerpt(hidden.as_bytes(), &[secret]).unwrap(), "ok ***\r\n[1m");
        assert_eq!(excerpt(b"\0\0", &[secret]), None);
        assert_eq!(loggable("a\0b\tc\u{7f}"), "ab\tc");
    }
}
