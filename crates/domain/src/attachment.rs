//! Attachments' types, told by their content — never by the file's name or what the sender
//! claims — so a script named `photo.png` is not an image, and an SVG (which can carry script)
//! is never taken for a plain picture.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{AttachmentId, ConversationId, ValidationError};

/// The most an attachment may weigh unless the account says otherwise.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The most any account may allow: uploads are read into memory once.
pub const CEILING_BYTES: u64 = 25 * 1024 * 1024;

/// Files per message, at most.
pub const MAX_FILES: usize = 5;

/// The types accepted unless the account says otherwise: pictures shown inline, documents
/// offered as downloads.
pub const DEFAULT_TYPES: [&str; 6] =
    ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

/// Every type [`sniff`] can tell, and so every type an account may allow.
pub const KNOWN_TYPES: [&str; 9] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "text/plain",
    "image/svg+xml",
    "text/html",
];

/// A file as its message lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttachmentRef {
    pub id: AttachmentId,
    /// The name the sender gave it, without folders.
    pub name: String,
    /// What its content is (told by the content, never by the name or the sender).
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Where it is downloaded: for the account's people here, and in the visitor API the
    /// visitor's own address (both need the caller's credentials).
    pub url: String,
}

impl AttachmentRef {
    pub fn staff_url(conversation: &ConversationId, id: &AttachmentId) -> String {
        format!("/api/v1/conversations/{conversation}/attachments/{id}")
    }

    pub fn visitor_url(conversation: &ConversationId, id: &AttachmentId) -> String {
        format!("/api/v1/widget/conversations/{conversation}/attachments/{id}")
    }
}

/// Which files an account takes: at most `max_bytes` each, of the `types` listed (an empty
/// list takes none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentPolicy {
    pub max_bytes: u64,
    pub types: Vec<String>,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        Self { max_bytes: DEFAULT_MAX_BYTES, types: DEFAULT_TYPES.map(str::to_owned).to_vec() }
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    TooLarge {
        max_bytes: u64,
    },
    /// `None`: the content is of no type Switchboard knows.
    TypeNotAllowed {
        found: Option<&'static str>,
    },
}

impl AttachmentPolicy {
    /// The policy as given, checked: a size from 1 byte to [`CEILING_BYTES`], known types.
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        if !(1..=CEILING_BYTES).contains(&self.max_bytes) {
            let message = format!("allow from 1 to {CEILING_BYTES} bytes per file");
            return Err(ValidationError::new("attachments.max_bytes", "out_of_range", message));
        }
        for (i, kind) in self.types.iter().enumerate() {
            if !KNOWN_TYPES.contains(&kind.as_str()) {
                let message = format!(
                    "{kind:?} is not a type Switchboard tells; known: {}",
                    KNOWN_TYPES.join(", ")
                );
                return Err(ValidationError::new(
                    format!("attachments.types[{i}]"),
                    "unknown_type",
                    message,
                ));
            }
        }
        self.types.sort();
        self.types.dedup();
        Ok(self)
    }

    /// The file's type, when this policy takes it.
    pub fn admit(&self, bytes: &[u8]) -> Result<&'static str, Refused> {
        if bytes.len() as u64 > self.max_bytes {
            return Err(Refused::TooLarge { max_bytes: self.max_bytes });
        }
        match sniff(bytes) {
            Some(found) if self.types.iter().any(|t| t == found) => Ok(found),
            found => Err(Refused::TypeNotAllowed { found }),
        }
    }
}

/// A file name safe to show and to offer as a download name: no folders, no control
/// characters, at most 200 characters; `file` when nothing is left.
pub fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let name = name.trim().trim_start_matches('.').trim();
    if name.is_empty() { "file".to_owned() } else { name.to_owned() }
}

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
    // Markup anywhere in the text, not only at its start: a browser that opened the file as a
    // page would run it.
    let lower = text.to_ascii_lowercase();
    let has = |markers: &[&str]| markers.iter().any(|m| lower.contains(m));
    // A drawing (script in it included) is SVG, unless a page holds it.
    if has(&["<svg"]) && !has(&["<html", "<!doctype html"]) {
        return Some("image/svg+xml");
    }
    if has(&[
        "<script",
        "<html",
        "<!doctype html",
        "<iframe",
        "<body",
        "<object",
        "<embed",
        "<meta",
    ]) || has(&["javascript:", " onerror=", " onload=", " onclick=", " onmouseover="])
        && lower.contains('<')
    {
        return Some("text/html");
    }
    Some("text/plain")
}

/// The name a file of `content_type` is offered under: `name`, with the type's extension added
/// unless it already ends in one, so that a text file named `invoice.bat` downloads as
/// `invoice.bat.txt` and never runs when opened.
pub fn name_for(name: &str, content_type: &str) -> String {
    let extensions: &[&str] = match content_type {
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "application/pdf" => &["pdf"],
        "application/zip" => &["zip"],
        "text/plain" => &["txt"],
        "image/svg+xml" => &["svg"],
        "text/html" => &["html", "htm"],
        _ => &[],
    };
    let lower = name.to_ascii_lowercase();
    match extensions.first() {
        Some(first) if !extensions.iter().any(|e| lower.ends_with(&format!(".{e}"))) => {
            format!("{name}.{first}")
        }
        _ => name.to_owned(),
    }
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
        assert_eq!(sniff(b"hello <img src=x onerror=alert(1)>"), Some("text/html"));
        assert_eq!(sniff(b"see\n<iframe src=//x>"), Some("text/html"));
        assert_eq!(sniff(b"a < b and c > d"), Some("text/plain"));
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0"), None);
        assert_eq!(sniff(b"\xff\xfe\xfd"), None);
        for t in ["image/svg+xml", "text/html", "application/pdf", "text/plain"] {
            assert!(!is_inline_image(t), "{t}");
        }
        assert!(!DEFAULT_TYPES.contains(&"image/svg+xml") && !DEFAULT_TYPES.contains(&"text/html"));
        assert!(is_inline_image("image/webp"));
    }

    #[test]
    fn a_policy_admits_by_size_and_content() {
        let policy = AttachmentPolicy { max_bytes: 16, types: vec!["image/png".into()] };
        assert_eq!(policy.admit(b"\x89PNG\r\n\x1a\n"), Ok("image/png"));
        assert_eq!(
            policy.admit(b"plain words"),
            Err(Refused::TypeNotAllowed { found: Some("text/plain") })
        );
        assert_eq!(policy.admit(&[b'a'; 17]), Err(Refused::TooLarge { max_bytes: 16 }));
        let bad = AttachmentPolicy { max_bytes: 1, types: vec!["application/x-sh".into()] };
        assert_eq!(bad.validated().unwrap_err().field, "attachments.types[0]");
        let huge = AttachmentPolicy { max_bytes: CEILING_BYTES + 1, types: Vec::new() };
        assert_eq!(huge.validated().unwrap_err().code, "out_of_range");
    }

    #[test]
    fn a_download_is_named_for_what_it_is() {
        assert_eq!(name_for("invoice.bat", "text/plain"), "invoice.bat.txt");
        assert_eq!(name_for("notes.TXT", "text/plain"), "notes.TXT");
        assert_eq!(name_for("photo.jpeg", "image/jpeg"), "photo.jpeg");
        assert_eq!(name_for("photo", "image/png"), "photo.png");
        assert_eq!(name_for("cat.png", "text/html"), "cat.png.html");
    }

    #[test]
    fn file_names_lose_folders_and_control_characters() {
        assert_eq!(file_name("C:\\Users\\me\\invoice.pdf"), "invoice.pdf");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(file_name(".."), "file");
        assert_eq!(file_name(""), "file");
    }
}
