//! Opaque, typed identifiers such as `ten_01jd6x…`.
//!
//! The body is 128 bits rendered in lowercase Crockford base32 (26 characters): 48 bits of
//! milliseconds since the epoch followed by 80 random bits. Ids therefore sort by creation time
//! (within one process also inside a millisecond: the random part then counts up), which keeps
//! keyset pagination simple, and cannot be guessed. The type prefix makes an id of
//! the wrong kind fail to parse at the edge instead of silently matching nothing.

use std::fmt;
use std::str::FromStr;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const BODY_LEN: usize = 26;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an id of the form {prefix}_<26 characters>")]
pub struct IdParseError {
    pub prefix: &'static str,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is not a condition a server can continue from.
    getrandom::fill(&mut buf).expect("operating system random source failed");
    buf
}

fn encode_u128(value: u128, out: &mut String) {
    for i in 0..BODY_LEN {
        let shift = 125 - 5 * i as u32;
        out.push(ALPHABET[((value >> shift) & 31) as usize] as char);
    }
}

/// The last id body made in this process: ids made later sort later, even within one
/// millisecond (the random part then counts up), so "in creation order" is id order.
static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);

fn new_body() -> String {
    let millis = jiff::Timestamp::now().as_millisecond().max(0) as u128 & ((1 << 48) - 1);
    let random = u128::from_be_bytes(random_bytes::<16>()) & ((1 << 80) - 1);
    let value = {
        let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let candidate = (millis << 80) | random;
        *last = if candidate > *last { candidate } else { *last + 1 };
        *last
    };
    let mut body = String::with_capacity(BODY_LEN);
    encode_u128(value, &mut body);
    body
}

fn is_valid_body(body: &str) -> bool {
    body.len() == BODY_LEN
        && body.as_bytes()[0] <= b'7'
        && body.bytes().all(|b| ALPHABET.contains(&b))
}

/// A random secret of `bytes` bytes, encoded like id bodies (lowercase base32, no padding).
pub fn random_token(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).expect("operating system random source failed");
    let mut out = String::with_capacity(bytes * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in raw {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh, time-ordered, unguessable id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(format!("{}_{}", $prefix, new_body()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.strip_prefix(concat!($prefix, "_")) {
                    Some(body) if is_valid_body(body) => Ok(Self(s.to_owned())),
                    _ => Err(IdParseError { prefix: $prefix }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    // The body: BODY_LEN characters of ALPHABET, the first at most '7'.
                    "pattern": concat!("^", $prefix, "_[0-7][0-9a-hjkmnp-tv-z]{25}$"),
                    "description": concat!("An id, `", $prefix, "_` and a time-ordered random part."),
                })
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(TenantId, "ten");
define_id!(UserId, "usr");
define_id!(TeamId, "team");
define_id!(ApiKeyId, "key");
define_id!(WidgetId, "wid");
define_id!(ConnectionId, "con");
define_id!(EndpointId, "ep");
define_id!(RuleId, "rul");
define_id!(ConversationId, "cnv");
define_id!(MessageId, "msg");
define_id!(DocumentId, "doc");
define_id!(ChunkId, "chk");
define_id!(WebhookId, "whk");
define_id!(
    /// One event on its way to one webhook; also its `webhook-id` header, the same on every retry.
    DeliveryId,
    "dlv"
);
define_id!(
    /// Identifies a dashboard login session (never the session secret itself).
    SessionId,
    "ses"
);
define_id!(
    /// An invitation for a new team member to set their own password.
    InvitationId,
    "inv"
);
define_id!(
    /// A call waiting for the visitor's confirmation or an operator's approval (safe actions);
    /// also the `Idempotency-Key` of the call once agreed to.
    ActionId,
    "act"
);
define_id!(
    /// A scripted conversation that checks the assistant (test suites).
    TestCaseId,
    "tc"
);
define_id!(
    /// One run of test cases in the sandbox.
    TestRunId,
    "tr"
);
define_id!(
    /// A tag of the account's for conversations ("refund", "vip").
    LabelId,
    "lbl"
);
define_id!(
    /// A saved reply operators insert by its shortcut (`/refund`).
    CannedReplyId,
    "cr"
);
define_id!(
    /// A person the account's visitors turned out to be: the same verified user, or the same
    /// browser, seen again.
    ContactId,
    "ctc"
);
define_id!(
    /// A file sent in a conversation.
    AttachmentId,
    "att"
);
define_id!(
    /// One entry of an account's audit log.
    AuditId,
    "aud"
);
define_id!(
    /// Correlates one HTTP request across logs, traces and the `x-request-id` header.
    RequestId,
    "req"
);
define_id!(
    /// A way customers reach the account besides the widget: an e-mail inbox, a Telegram bot,
    /// a WhatsApp number.
    ChannelId,
    "chn"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_carry_their_prefix() {
        let id = TenantId::new();
        assert!(id.as_str().starts_with("ten_"));
        assert_eq!(id.as_str().len(), 4 + BODY_LEN);
        assert_eq!(id.as_str().parse::<TenantId>().unwrap(), id);
    }

    #[test]
    fn an_id_of_another_kind_does_not_parse() {
        let user = UserId::new();
        assert_eq!(user.as_str().parse::<TenantId>(), Err(IdParseError { prefix: "ten" }));
        assert!("ten_".parse::<TenantId>().is_err());
        assert!("ten_0000000000000000000000000!".parse::<TenantId>().is_err());
        // Uppercase is not what we emit, so it is not accepted either: one spelling per id.
        let upper = TenantId::new().as_str().to_uppercase().replacen("TEN", "ten", 1);
        assert!(upper.parse::<TenantId>().is_err());
        // A first character above 7 would overflow 128 bits.
        assert!("ten_80000000000000000000000000".parse::<TenantId>().is_err());
    }

    #[test]
    fn the_documented_pattern_matches_exactly_the_ids_that_parse() {
        let schema = schemars::schema_for!(ConversationId);
        let pattern = regex::Regex::new(schema.get("pattern").unwrap().as_str().unwrap()).unwrap();
        for _ in 0..100 {
            assert!(pattern.is_match(ConversationId::new().as_str()));
        }
        for bad in ["cnv_80000000000000000000000000", "cnv_0000000000000000000000000i", "ten_0"] {
            assert!(bad.parse::<ConversationId>().is_err() && !pattern.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn ids_created_later_sort_later() {
        let first = TenantId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = TenantId::new();
        assert!(first < second);
        // Within one millisecond too.
        let burst: Vec<TenantId> = (0..1000).map(|_| TenantId::new()).collect();
        assert!(burst.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn tokens_have_the_expected_length_and_alphabet() {
        let token = random_token(32);
        assert_eq!(token.len(), 52);
        assert!(token.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(token, random_token(32));
    }

    #[test]
    fn serde_rejects_malformed_ids() {
        let ok: TenantId = serde_json::from_str(&format!("\"{}\"", TenantId::new())).unwrap();
        assert!(ok.as_str().starts_with("ten_"));
        assert!(serde_json::from_str::<TenantId>("\"usr_01\"").is_err());
    }
}
