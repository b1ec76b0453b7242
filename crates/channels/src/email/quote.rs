//! What the customer wrote this time: mail clients put the whole earlier thread under a reply
//! (and a signature above it), and the assistant must answer the new words, not the history.
//! The usual marks are recognised — an attribution line ("On … wrote:", in the common
//! languages, even when the client wrapped it over two lines), Outlook's "Original Message"
//! separator and its `From:`/`Sent:` header block, `>` quotes, the `-- ` signature line, and
//! "Sent from my phone" footers — and everything from the first of them on is dropped.

/// Endings of an attribution line ("On Tue, 3 Dec 2026, Ann <ann@x> wrote:").
const ATTRIBUTION_ENDINGS: [&str; 12] = [
    "wrote:",
    "schrieb:",
    "a écrit :",
    "a écrit:",
    "escribió:",
    "ha scritto:",
    "schreef:",
    "escreveu:",
    "napisał:",
    "написал:",
    "skrev:",
    "kirjoitti:",
];

/// Separators clients put above the quoted message (compared without case, trimmed).
const SEPARATORS: [&str; 6] = [
    "-----original message-----",
    "----- original message -----",
    "-----ursprüngliche nachricht-----",
    "-----message d'origine-----",
    "-----mensaje original-----",
    "-------- forwarded message --------",
];

/// Footers mobile clients add under what was written.
const FOOTERS: [&str; 5] = [
    "sent from my iphone",
    "sent from my ipad",
    "sent from my android",
    "sent from my samsung",
    "get outlook for ",
];

/// Header names of a quoted message's header block (Outlook puts one under a reply).
const QUOTED_HEADERS: [&str; 8] =
    ["from:", "sent:", "date:", "to:", "subject:", "von:", "gesendet:", "de :"];

/// Words attribution lines start with ("On …", "Am …", "Le …").
const ATTRIBUTION_STARTS: [&str; 7] = ["on ", "am ", "le ", "el ", "il ", "op ", "em "];

fn ends_attribution(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    ATTRIBUTION_ENDINGS.iter().any(|end| lower.ends_with(end))
}

fn is_attribution(line: &str, next: Option<&str>) -> bool {
    let lower = line.trim().to_lowercase();
    let starts = ATTRIBUTION_STARTS.iter().any(|s| lower.starts_with(s));
    // German puts the verb before the name: "Am 03.12.2026 schrieb Ann <ann@x>:".
    let verb_inside = ATTRIBUTION_ENDINGS.iter().any(|end| {
        let verb = end.trim_end_matches(':').trim_end();
        lower.contains(&format!(" {verb} "))
    });
    // "The courier wrote:" is the customer's own words: an attribution names an address, a
    // date, or starts as attributions do, or quotes follow it.
    let looks_attributed = starts
        || lower.contains('@')
        || lower.chars().any(|c| c.is_ascii_digit())
        || next.is_some_and(|n| n.trim_start().starts_with('>'));
    (ends_attribution(line) && looks_attributed)
        || (starts && lower.ends_with(':') && verb_inside)
        // Clients wrap a long attribution: "On Tue, 3 Dec 2026, Ann Lee" / "<ann@x> wrote:".
        || (starts && next.is_some_and(ends_attribution))
}

/// An Outlook header block: `From:` followed at once by another quoted header.
fn is_header_block(line: &str, next: Option<&str>) -> bool {
    let lower = line.trim().to_lowercase();
    let header = |l: &str| QUOTED_HEADERS.iter().any(|h| l.starts_with(h));
    (lower.starts_with("from:") || lower.starts_with("von:") || lower.starts_with("de :"))
        && next.is_some_and(|n| header(&n.trim().to_lowercase()))
}

/// Where the history (or the signature) starts, as a line index.
fn history_start(lines: &[&str]) -> Option<usize> {
    lines.iter().enumerate().position(|(i, line)| {
        let next = lines.get(i + 1).copied();
        let lower = line.trim().to_lowercase();
        *line == "-- "
            || line.trim_end() == "--"
            || is_attribution(line, next)
            || SEPARATORS.contains(&lower.as_str())
            || (lower.len() >= 10 && lower.chars().all(|c| c == '_'))
            || is_header_block(line, next)
            || FOOTERS.iter().any(|f| lower.starts_with(f))
    })
}

/// The new words of a reply: quoted history and signature cut, `>` lines dropped, blank
/// lines at the ends trimmed. A message that is nothing but quotes keeps its text (better a
/// long message than a lost one).
pub fn strip_reply(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let end = history_start(&lines).unwrap_or(lines.len());
    let kept: Vec<&str> =
        lines[..end].iter().copied().filter(|l| !l.trim_start().starts_with('>')).collect();
    let stripped = kept.join("\n").trim().to_owned();
    if stripped.is_empty() { text.trim().to_owned() } else { stripped }
}

#[cfg(test)]
mod tests {
    use super::strip_reply;

    #[test]
    fn gmail_replies_lose_the_quoted_thread() {
        let mail = "Thanks! And where is #4522?\r\n\r\nOn Tue, 3 Dec 2026 at 10:02, Shop Support <help@shop.example> wrote:\r\n> Your order #4521 ships tomorrow.\r\n> \r\n";
        assert_eq!(strip_reply(mail), "Thanks! And where is #4522?");
    }

    #[test]
    fn wrapped_and_translated_attributions_are_recognised() {
        let wrapped = "Yes please.\n\nOn Tue, 3 Dec 2026 at 10:02, Shop Support\n<help@shop.example> wrote:\n> Shall I cancel it?";
        assert_eq!(strip_reply(wrapped), "Yes please.");
        let german = "Ja, bitte.\n\nAm 03.12.2026 um 10:02 schrieb Shop Support <help@shop.example>:\n> Soll ich stornieren?";
        assert_eq!(strip_reply(german), "Ja, bitte.");
        let french = "Oui.\n\nLe mar. 3 déc. 2026, Shop <help@shop.example> a écrit :\n> Annuler ?";
        assert_eq!(strip_reply(french), "Oui.");
    }

    #[test]
    fn outlook_history_and_signatures_are_cut() {
        let outlook = "Please cancel it.\n\n-----Original Message-----\nFrom: Shop Support\nSent: Tuesday\nSubject: Re: Order";
        assert_eq!(strip_reply(outlook), "Please cancel it.");
        let block = "Please cancel it.\n\n________________________________\nFrom: Shop Support <help@shop.example>\nSent: Tuesday";
        assert_eq!(strip_reply(block), "Please cancel it.");
        let bare_block =
            "Cancel it.\nFrom: Shop Support <help@shop.example>\nSent: Tuesday, 3 December";
        assert_eq!(strip_reply(bare_block), "Cancel it.");
        let signed = "Where is my order #4521?\n\n-- \nAnn Lee\nACME Ltd, 1 Main St";
        assert_eq!(strip_reply(signed), "Where is my order #4521?");
        let phone = "Where is it?\n\nSent from my iPhone";
        assert_eq!(strip_reply(phone), "Where is it?");
    }

    #[test]
    fn words_that_merely_look_alike_stay() {
        let text = "From: my account page, the order says shipped.\nIt did not arrive.";
        assert_eq!(strip_reply(text), text);
        let mention = "My colleague wrote: it is broken. Can you help?";
        assert_eq!(strip_reply(mention), mention);
        let courier = "The courier wrote:\nparcel left at the door.\nIt was not there.";
        assert_eq!(strip_reply(courier), courier);
    }

    #[test]
    fn a_message_of_quotes_only_keeps_its_text() {
        assert_eq!(strip_reply("> only a quote"), "> only a quote");
        assert_eq!(strip_reply("Answer\n> quoted\nmore answer"), "Answer\nmore answer");
    }
}
