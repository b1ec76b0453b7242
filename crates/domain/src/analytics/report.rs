//! Reports from the hourly counts (docs/analytics.md defines every figure): totals and rates
//! over a range, the same per day or week, and the first-response percentiles from the
//! conversations themselves.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::ReplySource;
use crate::{EndpointId, RuleId};

/// One hour's count of one metric (summed over the widgets asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCount {
    /// The hour's start, milliseconds since the Unix epoch (UTC).
    pub hour: i64,
    pub metric: String,
    pub count: i64,
}

/// Totals by metric name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals(pub BTreeMap<String, i64>);

impl Totals {
    pub fn of<'a>(counts: impl IntoIterator<Item = &'a HourCount>) -> Self {
        let mut totals = BTreeMap::new();
        for c in counts {
            *totals.entry(c.metric.clone()).or_insert(0) += c.count;
        }
        Self(totals)
    }

    pub fn get(&self, metric: &str) -> i64 {
        self.0.get(metric).copied().unwrap_or(0)
    }

    /// `part / whole`, or null when there is no whole.
    fn rate(&self, part: i64, whole: &str) -> Option<f64> {
        let whole = self.get(whole);
        (whole > 0).then(|| part as f64 / whole as f64)
    }

    /// The value of a metric of [`TIMESERIES_METRICS`] (a count, or a rate).
    pub fn value(&self, metric: &str) -> Option<f64> {
        match metric {
            "involvement_rate" => self.rate(self.get("assistant_involved"), "conversations"),
            "assistant_resolution_rate" => {
                self.rate(self.get("outcome:assistant_resolved"), "closed")
            }
            "handover_rate" => self.rate(self.handed(), "closed"),
            "reopen_rate" => self.rate(self.get("reopened"), "closed"),
            "rating_average" => self.rating().average,
            other => Some(self.get(other) as f64),
        }
    }

    /// The counts [`Totals::value`] reads for `metric`.
    pub fn needed(metric: &str) -> Vec<String> {
        let names: &[&str] = match metric {
            "involvement_rate" => &["assistant_involved", "conversations"],
            "assistant_resolution_rate" => &["outcome:assistant_resolved", "closed"],
            "handover_rate" => &["outcome:handed_over", "outcome:resolved_with_person", "closed"],
            "reopen_rate" => &["reopened", "closed"],
            "rating_average" => &["rating:1", "rating:2", "rating:3", "rating:4", "rating:5"],
            other => return vec![other.to_owned()],
        };
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    /// Closed conversations people had: handed over, or answered by a person.
    fn handed(&self) -> i64 {
        self.get("outcome:handed_over") + self.get("outcome:resolved_with_person")
    }

    fn rating(&self) -> RatingSummary {
        let distribution: BTreeMap<u8, i64> =
            (1..=5u8).map(|s| (s, self.get(&format!("rating:{s}")))).collect();
        let count: i64 = distribution.values().sum();
        let sum: i64 = distribution.iter().map(|(s, n)| i64::from(*s) * n).sum();
        let average = (count > 0).then(|| sum as f64 / count as f64);
        RatingSummary { average, count, distribution }
    }

    /// The ids after `prefix` (`calls:`, `rule:`) with their counts.
    fn keyed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, i64)> + 'a {
        self.0.iter().filter_map(move |(k, v)| k.strip_prefix(prefix).map(|id| (id, *v)))
    }
}

/// The metrics `GET /analytics/timeseries` draws.
pub const TIMESERIES_METRICS: [&str; 15] = [
    "conversations",
    "visitor_messages",
    "assistant_involved",
    "closed",
    "reopened",
    "outcome:assistant_resolved",
    "outcome:resolved_with_person",
    "outcome:handed_over",
    "outcome:abandoned",
    "involvement_rate",
    "assistant_resolution_rate",
    "handover_rate",
    "reopen_rate",
    "rating_average",
    "ai_requests",
];

/// Median and 90th percentile (nearest rank) of waits, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, JsonSchema)]
pub struct Percentiles {
    pub p50: Option<i64>,
    pub p90: Option<i64>,
    /// How many conversations had such a reply.
    pub count: usize,
}

impl Percentiles {
    /// Nearest rank: the smallest value that at least p% of the values do not exceed.
    pub fn of(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        let at = |p: usize| Self::rank(values.len(), p).map(|r| values[r - 1]);
        Self { p50: at(50), p90: at(90), count: values.len() }
    }

    /// The 1-based position of the `p`th percentile among `n` sorted values (nearest rank).
    pub fn rank(n: usize, p: usize) -> Option<usize> {
        (n > 0).then(|| (n * p).div_ceil(100).max(1))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct FirstResponse {
    pub assistant: Percentiles,
    pub people: Percentiles,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct RatingSummary {
    pub average: Option<f64>,
    pub count: i64,
    /// Ratings per score, 1 to 5.
    pub distribution: BTreeMap<u8, i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Marks {
    pub helpful: i64,
    pub not_helpful: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Helpful {
    /// Marks on the assistant's replies, by what answered.
    pub by_source: BTreeMap<ReplySource, Marks>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EndpointCalls {
    pub endpoint_id: EndpointId,
    pub calls: i64,
    pub failures: i64,
    pub failure_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RuleFired {
    pub rule_id: RuleId,
    pub fired: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AiUse {
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Outcomes {
    pub assistant_resolved: i64,
    pub resolved_with_person: i64,
    pub handed_over: i64,
    pub abandoned: i64,
}

/// Everything over a range (`GET /analytics/summary`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Summary {
    pub conversations: i64,
    pub visitor_messages: i64,
    /// Conversations the assistant answered at least once, of those started.
    pub involvement_rate: Option<f64>,
    /// Conversations closed as `assistant_resolved`, of those closed.
    pub assistant_resolution_rate: Option<f64>,
    /// Conversations closed as `handed_over` or `resolved_with_person`, of those closed.
    pub handover_rate: Option<f64>,
    /// Reopenings, per conversation closed.
    pub reopen_rate: Option<f64>,
    pub closed: i64,
    pub outcomes: Outcomes,
    /// The assistant's replies by what answered.
    pub replies: BTreeMap<ReplySource, i64>,
    pub first_response_ms: FirstResponse,
    pub rating: RatingSummary,
    pub helpful: Helpful,
    /// Calls per endpoint, most first.
    pub endpoints: Vec<EndpointCalls>,
    /// Rules by how often they fired, most first; rules that never fired last, with 0.
    pub rules: Vec<RuleFired>,
    pub ai: AiUse,
}

impl Summary {
    /// The summary of `totals`; `rules` are the account's rules (to list those that never
    /// fired), `first_response` the waits of the conversations started in the range.
    pub fn of(totals: &Totals, rules: &[RuleId], first_response: FirstResponse) -> Self {
        let t = totals;
        let replies = ReplySource::ALL
            .into_iter()
            .map(|s| (s, t.get(&format!("reply:{}", s.as_str()))))
            .collect();
        let by_source = ReplySource::ALL
            .into_iter()
            .map(|s| {
                let marks = Marks {
                    helpful: t.get(&format!("helpful:{}", s.as_str())),
                    not_helpful: t.get(&format!("not_helpful:{}", s.as_str())),
                };
                (s, marks)
            })
            .collect();
        let mut endpoints: Vec<EndpointCalls> = t
            .keyed("calls:")
            .filter_map(|(id, calls)| {
                let failures = t.get(&format!("failures:{id}"));
                Some(EndpointCalls {
                    endpoint_id: id.parse().ok()?,
                    calls,
                    failures,
                    failure_rate: (calls > 0).then(|| failures as f64 / calls as f64),
                })
            })
            .collect();
        endpoints
            .sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.endpoint_id.cmp(&b.endpoint_id)));
        let mut fired: Vec<RuleFired> = rules
            .iter()
            .map(|id| RuleFired { rule_id: id.clone(), fired: t.get(&format!("rule:{id}")) })
            .collect();
        fired.sort_by(|a, b| b.fired.cmp(&a.fired).then_with(|| a.rule_id.cmp(&b.rule_id)));
        Self {
            conversations: t.get("conversations"),
            visitor_messages: t.get("visitor_messages"),
            involvement_rate: t.value("involvement_rate"),
            assistant_resolution_rate: t.value("assistant_resolution_rate"),
            handover_rate: t.value("handover_rate"),
            reopen_rate: t.value("reopen_rate"),
            closed: t.get("closed"),
            outcomes: Outcomes {
                assistant_resolved: t.get("outcome:assistant_resolved"),
                resolved_with_person: t.get("outcome:resolved_with_person"),
                handed_over: t.get("outcome:handed_over"),
                abandoned: t.get("outcome:abandoned"),
            },
            replies,
            first_response_ms: first_response,
            rating: t.rating(),
            helpful: Helpful { by_source },
            endpoints,
            rules: fired,
            ai: AiUse {
                requests: t.get("ai_requests"),
                input_tokens: t.get("ai_input_tokens"),
                output_tokens: t.get("ai_output_tokens"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, i64)]) -> Totals {
        let rows: Vec<HourCount> = pairs
            .iter()
            .map(|(m, n)| HourCount { hour: 0, metric: (*m).into(), count: *n })
            .collect();
        Totals::of(&rows)
    }

    #[test]
    fn rates_are_parts_of_their_wholes_and_null_without_one() {
        let t = counts(&[
            ("conversations", 4),
            ("assistant_involved", 3),
            ("closed", 2),
            ("outcome:assistant_resolved", 1),
            ("outcome:handed_over", 1),
            ("reopened", 1),
            ("rating:5", 2),
            ("rating:2", 1),
        ]);
        assert_eq!(t.value("involvement_rate"), Some(0.75));
        assert_eq!(t.value("assistant_resolution_rate"), Some(0.5));
        assert_eq!(t.value("handover_rate"), Some(0.5));
        assert_eq!(t.value("reopen_rate"), Some(0.5));
        assert_eq!(t.value("rating_average"), Some(4.0));
        assert_eq!(counts(&[]).value("reopen_rate"), None);
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let p = Percentiles::of(vec![50, 10, 40, 20, 30]);
        assert_eq!((p.p50, p.p90, p.count), (Some(30), Some(50), 5));
        assert_eq!(Percentiles::of(vec![7]).p90, Some(7));
        assert_eq!(Percentiles::of(Vec::new()).p50, None);
        let p = Percentiles::of((1..=10).collect());
        assert_eq!((p.p50, p.p90), (Some(5), Some(9)));
    }
}
