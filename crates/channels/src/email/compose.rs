//! A reply as a message that lands in the customer's thread: `Re:` their subject,
//! `In-Reply-To` their last message, `References` the thread so far, and a `Message-ID` that
//! names the channel's thread — so the customer's answer to it finds its conversation even
//! when their client drops everything else. Plain text: every client shows it, and nothing in
//! a reply can hide a link behind other words.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MessageBuilder, MultiPart, SinglePart};

use crate::OutgoingFile;

/// Where a reply goes, and the thread it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'a> {
    pub from_address: &'a str,
    pub from_name: &'a str,
    pub to: &'a str,
    pub to_name: Option<&'a str>,
    /// The thread's subject (without `Re:`).
    pub subject: &'a str,
    /// Message-IDs (without brackets) of the thread, oldest first; the last is answered.
    pub references: &'a [String],
    /// This reply's Message-ID (see [`message_id`]).
    pub message_id: &'a str,
    pub text: &'a str,
    /// Files attached to it.
    pub files: &'a [&'a OutgoingFile],
    /// Written by the assistant (not a person): marked `Auto-Submitted: auto-replied`, so
    /// well-behaved responders do not answer it.
    pub automatic: bool,
}

/// The Message-ID of message `seq` of thread `thread_key` on a channel of `domain`.
pub fn message_id(thread_key: &str, seq: i64, domain: &str) -> String {
    format!("sb.{thread_key}.{seq}@{domain}")
}

/// The thread and message a Message-ID of [`message_id`]'s making names, when it is one of
/// `domain`'s.
pub fn message_of_id<'a>(id: &'a str, domain: &str) -> Option<(&'a str, i64)> {
    let (local, at) = id.rsplit_once('@')?;
    if !at.eq_ignore_ascii_case(domain) {
        return None;
    }
    let (thread, seq) = local.strip_prefix("sb.")?.rsplit_once('.')?;
    let seq = seq.parse::<i64>().ok()?;
    (!thread.is_empty()).then_some((thread, seq))
}

/// The thread a Message-ID of [`message_id`]'s making names, when it is one of `domain`'s.
pub fn thread_of_message_id<'a>(id: &'a str, domain: &str) -> Option<&'a str> {
    message_of_id(id, domain).map(|(thread, _)| thread)
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, String> {
    let address = address.parse().map_err(|e| format!("{address} is not an address: {e}"))?;
    Ok(Mailbox::new(name.map(|n| n.replace(['\r', '\n'], " ")), address))
}

fn raw(builder: MessageBuilder, name: &'static str, value: String) -> MessageBuilder {
    builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(name), value))
}

/// The reply as a message, and the addresses of its envelope.
pub fn compose(reply: &Reply<'_>) -> Result<(Vec<u8>, lettre::address::Envelope), String> {
    let subject = reply.subject.trim();
    let lower = subject.to_ascii_lowercase();
    let subject = match subject {
        "" => "Your message".to_owned(),
        _ if lower.starts_with("re:") || lower.starts_with("aw:") => subject.to_owned(),
        _ => format!("Re: {subject}"),
    };
    let bracketed = |id: &String| format!("<{id}>");
    let mut builder = Message::builder()
        .from(mailbox(Some(reply.from_name), reply.from_address)?)
        .to(mailbox(reply.to_name, reply.to)?)
        .subject(subject)
        .message_id(Some(format!("<{}>", reply.message_id)));
    if let Some(last) = reply.references.last() {
        builder = builder.in_reply_to(bracketed(last));
        let chain: Vec<String> = reply.references.iter().map(bracketed).collect();
        builder = builder.references(chain.join(" "));
    }
    // Out-of-office replies to a reply are what loops are made of: ask for none.
    builder = raw(builder, "X-Auto-Response-Suppress", "All".into());
    if reply.automatic {
        builder = raw(builder, "Auto-Submitted", "auto-replied".into());
    }
    let message = if reply.files.is_empty() {
        builder.header(ContentType::TEXT_PLAIN).body(reply.text.to_owned())
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(reply.text.to_owned()));
        for file in reply.files {
            let content_type = ContentType::parse(&file.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
            let name = file.name.replace(['\r', '\n'], " ");
            parts = parts.singlepart(Attachment::new(name).body(file.bytes.clone(), content_type));
        }
        builder.multipart(parts)
    };
    let message = message.map_err(|e| e.to_string())?;
    Ok((message.formatted(), message.envelope().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::InboundMail;

    #[test]
    fn thread_ids_round_trip_and_foreign_ones_do_not() {
        let id = message_id("t0k3n", 7, "shop.example");
        assert_eq!(id, "sb.t0k3n.7@shop.example");
        assert_eq!(thread_of_message_id(&id, "SHOP.example"), Some("t0k3n"));
        assert_eq!(message_of_id(&id, "shop.example"), Some(("t0k3n", 7)));
        assert_eq!(thread_of_message_id(&id, "other.example"), None);
        assert_eq!(thread_of_message_id("CAF=abc@mail.gmail.com", "shop.example"), None);
        assert_eq!(thread_of_message_id("sb.x.notanumber@shop.example", "shop.example"), None);
    }

    #[test]
    fn a_reply_lands_in_the_thread_and_reads_back() {
        let references = vec!["m0@example.org".to_owned(), "m1@example.org".to_owned()];
        let reply = Reply {
            from_address: "help@shop.example",
            from_name: "Shop Support",
            to: "ann@example.org",
            to_name: Some("Ann Lee"),
            subject: "Where is my order #4521?",
            references: &references,
            message_id: "sb.t.3@shop.example",
            text: "Your order #4521 ships tomorrow — größer ist besser.",
            files: &[],
            automatic: true,
        };
        let (bytes, envelope) = compose(&reply).unwrap();
        assert_eq!(envelope.to()[0].to_string(), "ann@example.org");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("In-Reply-To: <m1@example.org>"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        // What the customer's client reads is what was written, threaded.
        let read = InboundMail::parse(&bytes, None).unwrap();
        assert_eq!(read.subject, "Re: Where is my order #4521?");
        assert_eq!(read.message_id, "sb.t.3@shop.example");
        assert_eq!(read.answers, ["m1@example.org", "m0@example.org"]);
        assert_eq!(read.text, reply.text);
        assert_eq!(read.automatic.map(|a| a.as_str()), Some("auto-submitted"));
    }

    #[test]
    fn files_are_attached_and_read_back_as_files() {
        let pdf = OutgoingFile {
            name: "receipt.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF-1.4\n".to_vec(),
        };
        let reply = Reply {
            from_address: "help@shop.example",
            from_name: "Shop",
            to: "ann@example.org",
            to_name: None,
            subject: "Order",
            references: &[],
            message_id: "sb.t.5@shop.example",
            text: "Your receipt.",
            files: &[&pdf],
            automatic: false,
        };
        let (bytes, _) = compose(&reply).unwrap();
        let read = InboundMail::parse(&bytes, None).unwrap();
        assert_eq!(read.text, "Your receipt.");
        assert_eq!(
            read.files,
            [crate::email::MailFile { name: "receipt.pdf".into(), bytes: pdf.bytes }]
        );
    }

    #[test]
    fn a_persons_reply_is_not_marked_automatic_and_header_injection_fails() {
        let reply = Reply {
            from_address: "help@shop.example",
            from_name: "Shop\r\nBcc: victim@example.org",
            to: "ann@example.org",
            to_name: None,
            subject: "Re: Order",
            references: &[],
            message_id: "sb.t.4@shop.example",
            text: "Hello",
            files: &[],
            automatic: false,
        };
        let (bytes, _) = compose(&reply).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Auto-Submitted"));
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert!(text.contains("Subject: Re: Order\r\n"));
        let bad = Reply { to: "not an address", ..reply };
        assert!(compose(&bad).is_err());
    }
}
