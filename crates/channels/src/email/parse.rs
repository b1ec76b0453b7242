//! A received message, read: who wrote it, which thread it answers (`In-Reply-To`,
//! `References`), its new words and its files — and whether a person wrote it at all.
//! Auto-replies, bounces and other machine mail are recognised so that no reply ever goes to
//! them: two auto-responders answering each other is the classic mail loop.

use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use super::quote::strip_reply;

/// A file that came with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Why a message was written by a machine, not a person: it is taken and never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automatic {
    /// `Auto-Submitted` other than `no` (RFC 3834): auto-replies, vacation notices.
    AutoSubmitted,
    /// `Precedence: bulk | junk | list | auto_reply`, or an `X-Autoreply`-style header.
    AutoReply,
    /// A delivery report (`multipart/report`), from a mailer daemon or with an empty
    /// return path: a bounce.
    Bounce,
}

impl Automatic {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoSubmitted => "auto-submitted",
            Self::AutoReply => "auto-reply",
            Self::Bounce => "bounce",
        }
    }
}

/// A message as the channel takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// Its `Message-ID` without brackets (a digest of the message when it has none).
    pub message_id: String,
    /// The messages it answers, nearest first (`In-Reply-To`, then `References` backwards).
    pub answers: Vec<String>,
    /// The sender's address, lower-cased; empty when there is none.
    pub from: String,
    /// Where the sender asks replies to go (`Reply-To`), when elsewhere.
    pub reply_to: Option<String>,
    pub name: Option<String>,
    pub subject: String,
    /// The new words: quoted history and signature cut off.
    pub text: String,
    pub files: Vec<MailFile>,
    pub automatic: Option<Automatic>,
    /// Whether `trusted_authserv_id`'s `Authentication-Results` says DMARC passed for the one
    /// `From` address.
    pub sender_verified: bool,
}

const AUTO_HEADERS: [&str; 4] = ["X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder"];

fn header_text<'a>(message: &'a mail_parser::Message<'a>, name: &'static str) -> Option<&'a str> {
    message.header_raw(name).map(str::trim)
}

fn automatic(message: &mail_parser::Message<'_>, from: &str) -> Option<Automatic> {
    if header_text(message, "Auto-Submitted")
        .is_some_and(|v| !v.to_ascii_lowercase().starts_with("no"))
    {
        return Some(Automatic::AutoSubmitted);
    }
    let precedence = header_text(message, "Precedence").map(str::to_ascii_lowercase);
    if precedence.is_some_and(|p| matches!(p.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
        || AUTO_HEADERS.iter().any(|h| message.header_raw(*h).is_some())
    {
        return Some(Automatic::AutoReply);
    }
    let local = from.split('@').next().unwrap_or_default();
    let report = message.content_type().is_some_and(|t| {
        t.ctype().eq_ignore_ascii_case("multipart")
            && t.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let null_return_path = header_text(message, "Return-Path").is_some_and(|p| p == "<>");
    if report || null_return_path || matches!(local, "mailer-daemon" | "postmaster") {
        return Some(Automatic::Bounce);
    }
    None
}

/// `value` without its comments (`(…)`, nested) and quoted strings (`"…"`, which may hold `;`
/// or `dmarc=pass` in an address the sender chose).
fn without_comments(value: &str) -> String {
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    let mut kept = String::with_capacity(value.len());
    for c in value.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted || depth > 0 => escaped = true,
            '"' if depth == 0 => {
                quoted = !quoted;
                kept.push(' ');
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if quoted || depth > 0 => {}
            _ => kept.push(c),
        }
    }
    kept
}

/// Whether the topmost `Authentication-Results` of `authserv_id` (the receiving server, which
/// removes any claiming to be it) says DMARC passed for `from`'s domain (RFC 8601: the
/// `dmarc` method's result `pass`, its `header.from` property that domain).
fn dmarc_passed(message: &mail_parser::Message<'_>, authserv_id: Option<&str>, from: &str) -> bool {
    let Some(authserv_id) = authserv_id else { return false };
    let Some((_, domain)) = from.rsplit_once('@') else { return false };
    let results = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| without_comments(value).to_ascii_lowercase());
    for value in results {
        let mut parts = value.split(';');
        let id = parts.next().unwrap_or_default().split_whitespace().next().unwrap_or_default();
        if id != authserv_id {
            continue;
        }
        return parts.any(|part| {
            let mut tokens = part.split_whitespace();
            tokens.next() == Some("dmarc=pass")
                && tokens.any(|t| t == format!("header.from={domain}"))
        });
    }
    false
}

/// Message-IDs of a header, without brackets.
fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match value {
        mail_parser::HeaderValue::Text(one) => vec![one.to_string()],
        mail_parser::HeaderValue::TextList(many) => many.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|id| id.trim_matches(|c| c == '<' || c == '>' || c == ' ').to_owned())
        .filter(|id| !id.is_empty())
        .collect()
}

/// Inline pictures smaller than this are taken for a signature's decoration.
const MIN_INLINE_FILE_BYTES: usize = 16 * 1024;

/// Most files one message keeps; later ones are named, not kept.
const MAX_FILES: usize = 10;

impl InboundMail {
    /// Reads a raw RFC 5322 message. `Err` when it is not one.
    pub fn parse(raw: &[u8], authserv_id: Option<&str>) -> Result<Self, String> {
        let message = MessageParser::default()
            .parse(raw)
            .filter(|m| !m.headers().is_empty())
            .ok_or("not an e-mail message (RFC 5322)")?;
        let sender = message.from().and_then(|a| a.first());
        let from = sender.and_then(|a| a.address()).unwrap_or_default().trim().to_ascii_lowercase();
        // One `From` holding one mailbox, or the sender cannot be verified (a second one could
        // be what DMARC checked while the first is shown).
        let from_headers =
            message.headers().iter().filter(|h| h.name().eq_ignore_ascii_case("From")).count();
        let one_sender = from_headers == 1 && message.from().is_some_and(|a| a.iter().count() == 1);
        let reply_to = message
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|a| a.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty() && *a != from && super::valid_address(a));
        let name =
            sender.and_then(|a| a.name()).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let message_id = match message.message_id() {
            Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => {
                let digest = Sha256::digest(raw);
                format!("sha256-{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
            }
        };
        let mut answers = ids(message.in_reply_to());
        for id in ids(message.references()).into_iter().rev() {
            if !answers.contains(&id) {
                answers.push(id);
            }
        }
        let subject = message.subject().unwrap_or_default().trim().to_owned();
        let body = message.body_text(0).map(|b| b.into_owned()).unwrap_or_default();
        let mut text = strip_reply(&body);
        let mut files = Vec::new();
        for part in message.attachments() {
            // Small pictures shown inline are a signature's logos and icons, not files the
            // customer sent (a pasted screenshot is larger).
            let inline_picture = part.content_id().is_some()
                && part.content_disposition().is_none_or(|d| d.is_inline())
                && part.contents().len() < MIN_INLINE_FILE_BYTES;
            if inline_picture || part.is_message() {
                continue;
            }
            let name = part.attachment_name().unwrap_or("attachment").to_owned();
            if files.len() == MAX_FILES {
                text.push_str(&format!(
                    "\n[file not kept, more than {MAX_FILES} in one message: {name}]"
                ));
                continue;
            }
            files.push(MailFile { name, bytes: part.contents().to_vec() });
        }
        let automatic = automatic(&message, &from);
        let sender_verified = one_sender && dmarc_passed(&message, authserv_id, &from);
        Ok(Self {
            message_id,
            answers,
            from,
            reply_to,
            name,
            subject,
            text: text.trim().to_owned(),
            files,
            automatic,
            sender_verified,
        })
    }

    /// Where replies go: `Reply-To` when it names another address, else the sender.
    pub fn reply_address(&self) -> &str {
        self.reply_to.as_deref().unwrap_or(&self.from)
    }

    /// The customer's answer to a reply asking them to confirm: `Some(true)` for "CONFIRM",
    /// `Some(false)` for "CANCEL" (alone on the first line, in any case).
    pub fn decision(&self) -> Option<bool> {
        let first = self.text.lines().map(str::trim).find(|l| !l.is_empty())?;
        match first.trim_matches(|c: char| c.is_ascii_punctuation()).to_lowercase().as_str() {
            "confirm" => Some(true),
            "cancel" => Some(false),
            _ => None,
        }
    }

    /// What the customer says: the new words, with the subject first when it starts a thread
    /// (many write their question only there: "Where is my order #4521?").
    pub fn said(&self) -> String {
        let subject = self.subject.trim();
        let starts_thread = self.answers.is_empty();
        if subject.is_empty() || !starts_thread || self.text.contains(subject) {
            return self.text.clone();
        }
        if self.text.is_empty() {
            subject.to_owned()
        } else {
            format!("{subject}\n\n{}", self.text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\r\n\r\n{body}").into_bytes()
    }

    const PLAIN: &str = "From: Ann Lee <Ann@Example.org>\r\nTo: help@shop.example\r\nSubject: Where is my order #4521?\r\nMessage-ID: <m1@example.org>";

    #[test]
    fn a_first_message_says_its_subject_and_body() {
        let parsed =
            InboundMail::parse(&mail(PLAIN, "Hi, it has not come yet.\r\n-- \r\nAnn"), None)
                .unwrap();
        assert_eq!(parsed.from, "ann@example.org");
        assert_eq!(parsed.name.as_deref(), Some("Ann Lee"));
        assert_eq!(parsed.message_id, "m1@example.org");
        assert!(parsed.answers.is_empty());
        assert_eq!(parsed.said(), "Where is my order #4521?\n\nHi, it has not come yet.");
        assert_eq!(parsed.automatic, None);
        assert!(!parsed.sender_verified);
    }

    #[test]
    fn replies_name_the_thread_nearest_first() {
        let headers = format!(
            "{PLAIN}\r\nIn-Reply-To: <r2@shop.example>\r\nReferences: <m0@example.org> <r1@shop.example>\r\n <r2@shop.example>"
        );
        let parsed = InboundMail::parse(
            &mail(&headers, "And #4522?\r\n\r\nOn Tue, Shop wrote:\r\n> ships"),
            None,
        )
        .unwrap();
        assert_eq!(parsed.answers, ["r2@shop.example", "r1@shop.example", "m0@example.org"]);
        assert_eq!(parsed.said(), "And #4522?");
    }

    #[test]
    fn confirm_and_cancel_are_read_off_the_first_line() {
        let answer = |body: &str| InboundMail::parse(&mail(PLAIN, body), None).unwrap().decision();
        assert_eq!(answer("CONFIRM\r\n\r\nOn Tue, Shop wrote:\r\n> Reply CONFIRM"), Some(true));
        assert_eq!(answer("cancel."), Some(false));
        assert_eq!(answer("Please cancel my order"), None);
        assert_eq!(answer("Thanks"), None);
    }

    #[test]
    fn replies_go_where_the_sender_asks() {
        let form = "From: Web form <noreply@forms.example>\r\nReply-To: Ann <ann@example.org>\r\nSubject: Contact\r\nMessage-ID: <f1@forms.example>";
        let parsed = InboundMail::parse(&mail(form, "order 4521?"), None).unwrap();
        assert_eq!(
            (parsed.from.as_str(), parsed.reply_address()),
            ("noreply@forms.example", "ann@example.org")
        );
        let plain = InboundMail::parse(&mail(PLAIN, "hi"), None).unwrap();
        assert_eq!(plain.reply_address(), "ann@example.org");
    }

    #[test]
    fn machines_are_recognised() {
        let auto = format!("{PLAIN}\r\nAuto-Submitted: auto-replied");
        assert_eq!(
            InboundMail::parse(&mail(&auto, "I am away"), None).unwrap().automatic,
            Some(Automatic::AutoSubmitted)
        );
        let person = format!("{PLAIN}\r\nAuto-Submitted: no");
        assert_eq!(InboundMail::parse(&mail(&person, "hi"), None).unwrap().automatic, None);
        let bulk = format!("{PLAIN}\r\nPrecedence: bulk");
        assert_eq!(
            InboundMail::parse(&mail(&bulk, "news"), None).unwrap().automatic,
            Some(Automatic::AutoReply)
        );
        let daemon = "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nSubject: Undelivered\r\nMessage-ID: <b1@mx>";
        assert_eq!(
            InboundMail::parse(&mail(daemon, "failed"), None).unwrap().automatic,
            Some(Automatic::Bounce)
        );
        let report = format!(
            "{PLAIN}\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\""
        );
        let body = "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n";
        assert_eq!(
            InboundMail::parse(&mail(&report, body), None).unwrap().automatic,
            Some(Automatic::Bounce)
        );
    }

    #[test]
    fn files_are_kept_and_inline_pictures_are_not() {
        let headers = format!(
            "{PLAIN}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\""
        );
        let body = "--b\r\nContent-Type: text/plain\r\n\r\nSee the receipt.\r\n\
            --b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"receipt.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
            --b\r\nContent-Type: image/png\r\nContent-ID: <logo@sig>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
        let parsed = InboundMail::parse(&mail(&headers, body), None).unwrap();
        assert_eq!(
            parsed.files,
            [MailFile { name: "receipt.pdf".into(), bytes: b"%PDF-1.4\n".to_vec() }]
        );
        assert_eq!(parsed.text, "See the receipt.");
    }

    #[test]
    fn only_the_trusted_servers_dmarc_verdict_counts() {
        let trusted = format!(
            "Authentication-Results: mx.shop.example;\r\n dkim=pass header.d=example.org;\r\n dmarc=pass header.from=example.org\r\n{PLAIN}"
        );
        assert!(
            InboundMail::parse(&mail(&trusted, "hi"), Some("mx.shop.example"))
                .unwrap()
                .sender_verified
        );
        assert!(!InboundMail::parse(&mail(&trusted, "hi"), None).unwrap().sender_verified);
        // A forged result further down does not count: the trusted server's own says fail.
        let forged = format!(
            "Authentication-Results: mx.shop.example; dmarc=fail\r\nAuthentication-Results: mx.shop.example; dmarc=pass\r\n{PLAIN}"
        );
        assert!(
            !InboundMail::parse(&mail(&forged, "hi"), Some("mx.shop.example"))
                .unwrap()
                .sender_verified
        );
        let other = format!("Authentication-Results: evil.example; dmarc=pass\r\n{PLAIN}");
        assert!(
            !InboundMail::parse(&mail(&other, "hi"), Some("mx.shop.example"))
                .unwrap()
                .sender_verified
        );
    }

    #[test]
    fn what_is_not_mail_is_refused_and_a_missing_id_is_made() {
        assert!(InboundMail::parse(b"", None).is_err());
        let parsed =
            InboundMail::parse(&mail("From: a@b.example\r\nSubject: x", "body"), None).unwrap();
        assert!(parsed.message_id.starts_with("sha256-"));
    }
}
