//! Checking a case's expectations against what happened in its turn (or in the whole case).

use sb_domain::action::PendingAction;
use sb_domain::template::Variables;
use sb_domain::test_case::Expectation;
use sb_domain::{Conversation, ConversationStatus, Message, pattern};

use serde_json::json;

use super::fakes::{Call, same};

/// What happened, for the expectations to look at.
pub(crate) struct Observed<'a> {
    /// What the visitor wrote (all of it, for "no invented values").
    pub visitor_texts: &'a [String],
    pub replies: &'a [Message],
    pub calls: &'a [Call],
    pub actions: &'a [PendingAction],
    pub conversation: &'a Conversation,
    pub variables: &'a Variables,
    /// Text the tenant wrote into its own rules: values in it are not invented by the AI.
    pub tenant_text: &'a str,
}

fn quoted(replies: &[Message]) -> String {
    if replies.is_empty() {
        return "no reply".into();
    }
    let texts: Vec<String> = replies.iter().map(|m| format!("“{}”", m.text)).collect();
    format!("replies: {}", texts.join(", "))
}

/// Whether `expectation` holds; if not, what was seen instead.
pub(crate) fn check(expectation: &Expectation, seen: &Observed<'_>) -> Result<(), String> {
    let replies = seen.replies;
    let has = |needle: &str| {
        let needle = needle.to_lowercase();
        replies.iter().any(|m| m.text.to_lowercase().contains(&needle))
    };
    let fail = |why: String| Err(why);
    match expectation {
        Expectation::ReplyContains { reply_contains } if !has(reply_contains) => {
            fail(quoted(replies))
        }
        Expectation::ReplyNotContains { reply_not_contains } if has(reply_not_contains) => {
            fail(quoted(replies))
        }
        Expectation::ReplyMatches { reply_matches } => {
            let regex =
                pattern::compile_search(reply_matches, false).map_err(|why| why.to_string())?;
            if replies.iter().any(|m| regex.is_match(&m.text)) {
                Ok(())
            } else {
                fail(quoted(replies))
            }
        }
        Expectation::Called { called, with } => {
            let made: Vec<&Call> = seen.calls.iter().filter(|c| &c.endpoint == called).collect();
            let fits = made.iter().any(|c| {
                with.iter().all(|(k, v)| c.variables.get(k).is_some_and(|found| same(found, v)))
            });
            match (made.is_empty(), fits) {
                (_, true) => Ok(()),
                (true, _) => fail(format!("{called} was not called ({})", calls(seen.calls))),
                (false, false) => {
                    let sent: Vec<String> =
                        made.iter().map(|c| json!(c.variables).to_string()).collect();
                    fail(format!("{called} was called with {}", sent.join(", then ")))
                }
            }
        }
        Expectation::NotCalled { not_called }
            if seen.calls.iter().any(|c| &c.endpoint == not_called) =>
        {
            fail(format!("{not_called} was called ({})", calls(seen.calls)))
        }
        Expectation::HandedOver { handed_over, team_id } => {
            let c = seen.conversation;
            let handed = c.status == ConversationStatus::Pending;
            let team_fits = team_id.is_none() || c.assigned_team.as_ref() == team_id.as_ref();
            if handed == *handed_over && (!handed || team_fits) {
                return Ok(());
            }
            let state = match (&c.assigned_to, &c.assigned_team) {
                (Some(user), Some(team)) if handed => format!("handed to {user} of team {team}"),
                (None, Some(team)) if handed => {
                    format!("handed to team {team}, waiting for a member")
                }
                (Some(user), None) if handed => format!("handed to {user}"),
                _ if handed => "handed over, waiting for anyone".into(),
                _ => format!("not handed over (status {})", c.status.as_str()),
            };
            fail(state)
        }
        Expectation::Variable { variable, equals } => match seen.variables.get(variable) {
            Some(found) if same(found, equals) => Ok(()),
            Some(found) => fail(format!("{variable} is {found}")),
            None => fail(format!("{variable} has no value")),
        },
        Expectation::ReplyLanguage { reply_language } => {
            let text: Vec<&str> = replies.iter().map(|m| m.text.as_str()).collect();
            let found = sb_llm::language::detect(&text.join("\n")).map(|d| d.code);
            match found {
                Some(code) if crate::conversations::same_language(code, reply_language) => Ok(()),
                Some(code) => fail(format!("the replies are in {code}: {}", quoted(replies))),
                None => fail(format!("no language could be told: {}", quoted(replies))),
            }
        }
        Expectation::ActionProposed { action_proposed } => {
            if seen.actions.iter().any(|a| &a.endpoint_name == action_proposed) {
                return Ok(());
            }
            let proposed: Vec<&str> =
                seen.actions.iter().map(|a| a.endpoint_name.as_str()).collect();
            fail(format!(
                "proposed: {}",
                if proposed.is_empty() { "nothing".into() } else { proposed.join(", ") }
            ))
        }
        Expectation::NoInventedValues { no_invented_values: true } => {
            let invented = invented(seen);
            if invented.is_empty() {
                Ok(())
            } else {
                fail(format!("not from any call or the visitor: {}", invented.join(", ")))
            }
        }
        // Asked of the AI by the runner (see `judge`), which can wait for it.
        Expectation::Judge { .. } => Ok(()),
        _ => Ok(()),
    }
}

fn calls(list: &[Call]) -> String {
    if list.is_empty() {
        return "no calls".into();
    }
    let shown: Vec<String> = list
        .iter()
        .map(|c| {
            format!("{} {}", c.endpoint, serde_json::to_string(&c.variables).unwrap_or_default())
        })
        .collect();
    shown.join("; ")
}

/// Numbers and codes in the replies (4521, 19.90, LAMP-2) that none of the sources holds: the
/// calls' values and answers, the session's variables, what the visitor wrote, the tenant's
/// own rule texts.
fn invented(seen: &Observed<'_>) -> Vec<String> {
    let token = pattern::compile_search(r"[A-Za-z]*-?\d[\d.,:/-]*\d|\b\d{2,}\b", false)
        .expect("a valid pattern");
    let mut sources = String::new();
    for text in seen.visitor_texts {
        sources.push_str(text);
        sources.push('\n');
    }
    sources.push_str(&serde_json::to_string(seen.variables).unwrap_or_default());
    sources.push_str(&serde_json::to_string(seen.calls).unwrap_or_default());
    sources.push_str(seen.tenant_text);
    let mut found: Vec<String> = Vec::new();
    for reply in seen.replies {
        for hit in token.find_iter(&reply.text) {
            let value = hit.as_str().trim_end_matches(['.', ',', ':']);
            if value.len() >= 2 && !sources.contains(value) && !found.iter().any(|f| f == value) {
                found.push(value.to_owned());
            }
        }
    }
    found
}
