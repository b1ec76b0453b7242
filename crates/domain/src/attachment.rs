//! Attachments' types, told by their content — never by the file's name or what the sender
//! claims — so a script named `photo.png` is not an image, and an SVG (which can carry script)
//! is never taken for a plain picture.

/// The most an attachment may weigh unless the account says otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The types accepted unless the account says otherwise: pictures shown inline, documents
/// offered as downloads.
pub const DEFAULT_TYPES: [&str; 6] =
    ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

/// How much of the start of a file the text check reads.
const TEXT_PROBE: usize = 8 * 1024;

/// The type `bytes` are, by their first bytes; `None` when nothing known matches.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"\xff\xd8\xff") {
        return Some("image/jpeg");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(b"PK\x03\x04") {
        return Some("application/zip");
    }
    text_type(bytes)
}

/// Text: UTF-8 (a cut character at the probe's end allowed) without control characters other
/// than tabs and line breaks. Markup that a browser would run is named for what it is.
fn text_type(bytes: &[u8]) -> Option<&'static str> {
    let probe = &bytes[..bytes.len().min(TEXT_PROBE)];
    let text = match std::str::from_utf8(probe) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(&probe[..err.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return None;
    }
    let head = text.trim_start_matches('\u{feff}').trim_start().to_ascii_lowercase();
    if head.starts_with('<') {
        if head.contains("<svg") {
            return Some("image/svg+xml");
        }
        if head.starts_with("<!doctype html") || head.contains("<html") || head.contains("<script")
        {
            return Some("text/html");
        }
    }
    Some("text/plain")
}

/// Whether a type is shown inline as a picture; anything else is offered as a download.
pub fn is_inline_image(content_type: &str) -> bool {
    matches!(content_type, "image/png" | "image/jpeg" | "image/gif" | "image/webp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Some("application/zip"));
        assert_eq!(sniff("Grüße, order 4521\r\n\tthanks".as_bytes()), Some("text/plain"));
        // A cut multi-byte character at the end of the probe is still text.
        let mut long = "é".repeat(TEXT_PROBE / 2).into_bytes();
        long.insert(0, b'a');
        assert_eq!(sniff(&long), Some("text/plain"));
    }

    #[test]
    fn markup_and_binaries_are_never_plain_text_or_pictures() {
        assert_eq!(
            sniff(b"  <svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
            Some("image/svg+xml")
        );
        assert_eq!(sniff(b"\xef\xbb\xbf<?xml version='1.0'?><svg/>"), Some("image/svg+xml"));
        assert_eq!(sniff(b"<!DOCTYPE html><p>hi"), Some("text/html"));
        assert_eq!(sniff(b"<div><script>alert(1)</script></div>"), Some("text/html"));
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0"), None);
        assert_eq!(sniff(b"\xff\xfe\xfd"), None);
        for t in ["image/svg+xml", "text/html", "application/pdf", "text/plain"] {
            assert!(!is_inline_image(t), "{t}");
        }
        assert!(!DEFAULT_TYPES.contains(&"image/svg+xml") && !DEFAULT_TYPES.contains(&"text/html"));
        assert!(is_inline_image("image/webp"));
    }
}
