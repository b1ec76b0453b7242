//! Endpoint call health: every real call an endpoint makes for a conversation is counted in an
//! hourly bucket per endpoint, and the windows the dashboard shows (1 h, 24 h, 7 d) are computed
//! from those buckets here, without I/O.
//!
//! **Windows.** Buckets are whole clock hours (UTC), so a rolling window cannot cut one in half.
//! A window of `W` takes the bucket holding the instant `W` ago and every later one: "1h" is this
//! hour so far and the whole previous hour (60 to 120 minutes of calls), "24h" is 24 to 25 hours,
//! "7d" is 7 days to 7 days and an hour. Buckets are kept [`RETENTION_HOURS`].
//!
//! **Latency.** A fixed histogram of [`LATENCY_BOUNDS_MS`]: counts per bucket add up across
//! hours, endpoints and database nodes, which averages and stored percentiles would not. A
//! percentile is reported as the upper bound of the bucket that holds it.

use serde::Serialize;

use crate::{ConnectionId, EndpointId, TestSummary, Timestamp};

/// Upper bounds (inclusive, in ms) of the latency buckets: roughly ×1.5 per step from 5 ms to
/// 5 s. No call lasts much longer than 5 s (the ceiling of every timeout, see
/// [`crate::MAX_TIMEOUT_MS`]); the few that overrun it by scheduling land in the last bucket.
pub const LATENCY_BOUNDS_MS: [u64; 17] =
    [5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000];

/// Latency buckets per hourly row.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len();

const HOUR_MS: i64 = 3_600_000;

/// How long hourly buckets are kept: the longest window and a day to spare.
pub const RETENTION_HOURS: i64 = 8 * 24;

/// The latency bucket a call of `ms` milliseconds falls in.
pub fn latency_bucket(ms: u64) -> usize {
    LATENCY_BOUNDS_MS.iter().position(|&bound| ms <= bound).unwrap_or(LATENCY_BUCKETS - 1)
}

/// The start of the clock hour holding `at`.
pub fn hour_of(at: Timestamp) -> Timestamp {
    let ms = at.as_millisecond();
    Timestamp::from_millisecond(ms - ms.rem_euclid(HOUR_MS)).unwrap_or(at)
}

/// The first bucket of a window of `hours` ending at `now` (see the module comment).
pub fn window_start(now: Timestamp, hours: i64) -> Timestamp {
    let start = Timestamp::from_millisecond(now.as_millisecond() - hours * HOUR_MS);
    hour_of(start.unwrap_or(now))
}

/// The last failed call of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LastError {
    pub at: Timestamp,
    /// The call's error code (see docs/api-connections.md, "Outcomes").
    pub code: String,
    pub message: String,
}

/// One endpoint's calls in one clock hour, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyStats {
    pub endpoint_id: EndpointId,
    pub connection_id: ConnectionId,
    pub hour: Timestamp,
    pub calls: u64,
    pub errors: u64,
    /// Calls per latency bucket. Calls refused before anything was sent have no latency and are
    /// counted in `calls` and `errors` only.
    pub latency: [u64; LATENCY_BUCKETS],
    pub last_call: TestSummary,
    pub last_error: Option<LastError>,
}

/// Longest error message kept with a bucket.
const MAX_MESSAGE_CHARS: usize = 500;

impl HourlyStats {
    /// One call as a bucket of its own, to be added to the stored bucket of its hour. `sent`:
    /// whether a request went out (otherwise the latency says nothing about the backend).
    pub fn one_call(
        endpoint_id: EndpointId,
        connection_id: ConnectionId,
        call: TestSummary,
        sent: bool,
        error_message: Option<&str>,
    ) -> Self {
        let mut latency = [0; LATENCY_BUCKETS];
        if sent {
            latency[latency_bucket(call.latency_ms)] = 1;
        }
        let last_error = (!call.ok).then(|| LastError {
            at: call.at,
            code: call.error_code.clone().unwrap_or_else(|| "unknown".into()),
            message: error_message.unwrap_or_default().chars().take(MAX_MESSAGE_CHARS).collect(),
        });
        Self {
            endpoint_id,
            connection_id,
            hour: hour_of(call.at),
            calls: 1,
            errors: u64::from(!call.ok),
            latency,
            last_call: call,
            last_error,
        }
    }
}

/// Calls in one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WindowStats {
    pub calls: u64,
    pub errors: u64,
    /// `errors / calls`, from 0 to 1; null without calls.
    pub error_rate: Option<f64>,
    /// Median latency: the upper bound of its histogram bucket; null without calls that were
    /// sent.
    pub p50_ms: Option<u64>,
    /// 95th percentile latency, like `p50_ms`.
    pub p95_ms: Option<u64>,
}

/// The three windows. "1h" is this clock hour and the previous one, "24h" this hour and the 24
/// before, "7d" this hour and the 168 before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Windows {
    #[serde(rename = "1h")]
    pub hour: WindowStats,
    #[serde(rename = "24h")]
    pub day: WindowStats,
    #[serde(rename = "7d")]
    pub week: WindowStats,
}

/// Health of some calls: the windows, and the latest call and error among the buckets given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CallStats {
    pub windows: Windows,
    /// The latest call (null if none is on record).
    pub last_call: Option<TestSummary>,
    /// The latest failed call (null if none is on record).
    pub last_error: Option<LastError>,
}

/// The short form shown with each connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ConnectionHealth {
    pub last_call: Option<TestSummary>,
    pub calls_24h: u64,
    pub errors_24h: u64,
    /// From 0 to 1; null without calls in the last 24 hours.
    pub error_rate_24h: Option<f64>,
}

impl From<CallStats> for ConnectionHealth {
    fn from(stats: CallStats) -> Self {
        let day = stats.windows.day;
        Self {
            last_call: stats.last_call,
            calls_24h: day.calls,
            errors_24h: day.errors,
            error_rate_24h: day.error_rate,
        }
    }
}

/// The upper bound of the bucket holding the `percent`th percentile of `histogram`.
fn percentile(histogram: &[u64; LATENCY_BUCKETS], percent: u64) -> Option<u64> {
    let total: u64 = histogram.iter().sum();
    if total == 0 {
        return None;
    }
    // The rank of the percentile among the calls, counting from 1 (nearest-rank method).
    let rank = (total * percent).div_ceil(100).max(1);
    let mut seen = 0;
    for (count, bound) in histogram.iter().zip(LATENCY_BOUNDS_MS) {
        seen += count;
        if seen >= rank {
            return Some(bound);
        }
    }
    LATENCY_BOUNDS_MS.last().copied()
}

fn window(buckets: &[HourlyStats], start: Timestamp) -> WindowStats {
    let mut stats = WindowStats::default();
    let mut histogram = [0; LATENCY_BUCKETS];
    for bucket in buckets.iter().filter(|b| b.hour >= start) {
        stats.calls += bucket.calls;
        stats.errors += bucket.errors;
        for (sum, count) in histogram.iter_mut().zip(bucket.latency) {
            *sum += count;
        }
    }
    if stats.calls > 0 {
        stats.error_rate = Some(stats.errors as f64 / stats.calls as f64);
    }
    stats.p50_ms = percentile(&histogram, 50);
    stats.p95_ms = percentile(&histogram, 95);
    stats
}

/// Computes the windows ending at `now`, and the latest call and error, from hourly buckets (of
/// one endpoint, or of several to sum them up).
pub fn summarize(buckets: &[HourlyStats], now: Timestamp) -> CallStats {
    CallStats {
        windows: Windows {
            hour: window(buckets, window_start(now, 1)),
            day: window(buckets, window_start(now, 24)),
            week: window(buckets, window_start(now, 7 * 24)),
        },
        last_call: buckets.iter().map(|b| &b.last_call).max_by_key(|c| c.at).cloned(),
        last_error: buckets
            .iter()
            .filter_map(|b| b.last_error.as_ref())
            .max_by_key(|e| e.at)
            .cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn call(when: &str, ok: bool, latency_ms: u64) -> TestSummary {
        TestSummary {
            ok,
            status: Some(if ok { 200 } else { 500 }),
            latency_ms,
            error_code: (!ok).then(|| "http_error".into()),
            at: at(when),
        }
    }

    /// Adds calls up the way the database does: per endpoint and hour.
    fn buckets(calls: &[(TestSummary, bool)]) -> Vec<HourlyStats> {
        let (endpoint, connection) = (EndpointId::new(), ConnectionId::new());
        let mut buckets: Vec<HourlyStats> = Vec::new();
        for (c, sent) in calls {
            let one = HourlyStats::one_call(
                endpoint.clone(),
                connection.clone(),
                c.clone(),
                *sent,
                Some("boom"),
            );
            match buckets.iter_mut().find(|b| b.hour == one.hour) {
                Some(b) => {
                    b.calls += 1;
                    b.errors += one.errors;
                    b.latency.iter_mut().zip(one.latency).for_each(|(s, n)| *s += n);
                    if one.last_call.at >= b.last_call.at {
                        b.last_call = one.last_call;
                    }
                    b.last_error = one.last_error.or(b.last_error.take());
                }
                None => buckets.push(one),
            }
        }
        buckets
    }

    #[test]
    fn latencies_fall_in_log_scaled_buckets() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(5), 0, "bounds are inclusive");
        assert_eq!(latency_bucket(6), 1);
        assert_eq!(latency_bucket(120), 7);
        assert_eq!(LATENCY_BOUNDS_MS[7], 150);
        assert_eq!(latency_bucket(5000), LATENCY_BUCKETS - 1);
        assert_eq!(latency_bucket(9000), LATENCY_BUCKETS - 1, "overruns land in the last bucket");
        assert!(LATENCY_BOUNDS_MS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn hours_and_window_starts_are_whole_clock_hours() {
        assert_eq!(hour_of(at("2026-03-01T10:59:59.999Z")), at("2026-03-01T10:00:00Z"));
        assert_eq!(hour_of(at("2026-03-01T11:00:00Z")), at("2026-03-01T11:00:00Z"));
        let now = at("2026-03-01T10:20:00Z");
        assert_eq!(window_start(now, 1), at("2026-03-01T09:00:00Z"), "this hour and the last");
        assert_eq!(window_start(now, 24), at("2026-02-28T10:00:00Z"));
        assert_eq!(window_start(now, 168), at("2026-02-22T10:00:00Z"));
    }

    #[test]
    fn windows_count_calls_errors_and_percentiles() {
        let now = at("2026-03-01T10:20:00Z");
        let mut calls = vec![
            (call("2026-03-01T10:05:00Z", true, 120), true),
            (call("2026-03-01T10:06:00Z", true, 130), true),
            (call("2026-03-01T09:10:00Z", true, 140), true),
            (call("2026-03-01T09:15:00Z", false, 400), true),
            // Yesterday: only in 24 h and 7 d.
            (call("2026-02-28T12:00:00Z", false, 3), true),
            // Five days ago: only in 7 d. Refused before sending: no latency.
            (call("2026-02-24T12:00:00Z", false, 0), false),
            // Eight days ago: in no window.
            (call("2026-02-21T12:00:00Z", false, 0), true),
        ];
        calls
            .extend((0..15).map(|i| (call(&format!("2026-03-01T10:{:02}:30Z", i), true, 2), true)));
        let stats = summarize(&buckets(&calls), now);

        let hour = &stats.windows.hour;
        assert_eq!((hour.calls, hour.errors), (19, 1));
        assert_eq!(hour.error_rate, Some(1.0 / 19.0));
        // 15 calls of 2 ms, then 120, 130, 140 (≤150) and 400 (≤500): the median is in the
        // first bucket, the 95th percentile (the 19th of 19) in the ≤500 one.
        assert_eq!((hour.p50_ms, hour.p95_ms), (Some(5), Some(500)));

        let day = &stats.windows.day;
        // Yesterday's 3 ms call moves the 95th percentile (now the 19th of 20) down a bucket.
        assert_eq!((day.calls, day.errors, day.p95_ms), (20, 2, Some(150)));
        let week = &stats.windows.week;
        assert_eq!((week.calls, week.errors), (21, 3));
        assert_eq!(week.p50_ms, Some(5), "the refused call has no latency");

        let last = stats.last_call.unwrap();
        assert_eq!(last.at, at("2026-03-01T10:14:30Z"));
        let error = stats.last_error.unwrap();
        assert_eq!(
            (error.at, error.code.as_str(), error.message.as_str()),
            (at("2026-03-01T09:15:00Z"), "http_error", "boom")
        );
    }

    #[test]
    fn without_calls_rates_and_percentiles_are_null() {
        let stats = summarize(&[], at("2026-03-01T10:00:00Z"));
        assert_eq!(stats.windows.day, WindowStats::default());
        assert_eq!(stats.windows.day.error_rate, None);
        assert!(stats.last_call.is_none() && stats.last_error.is_none());
        let health = ConnectionHealth::from(stats);
        assert_eq!((health.calls_24h, health.error_rate_24h), (0, None));

        // Only refused calls: counted, but no latency to report.
        let refused = buckets(&[(call("2026-03-01T09:30:00Z", false, 0), false)]);
        let stats = summarize(&refused, at("2026-03-01T10:00:00Z"));
        assert_eq!(stats.windows.hour.error_rate, Some(1.0));
        assert_eq!(stats.windows.hour.p50_ms, None);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut histogram = [0; LATENCY_BUCKETS];
        histogram[latency_bucket(110)] = 3;
        histogram[latency_bucket(320)] = 1;
        assert_eq!(percentile(&histogram, 50), Some(150));
        assert_eq!(percentile(&histogram, 95), Some(500));
        histogram = [0; LATENCY_BUCKETS];
        histogram[0] = 95;
        histogram[LATENCY_BUCKETS - 1] = 5;
        assert_eq!(percentile(&histogram, 95), Some(5), "the 95th of 100 is still fast");
        histogram[LATENCY_BUCKETS - 1] = 6;
        assert_eq!(percentile(&histogram, 95), Some(5000));
    }

    #[test]
    fn long_error_messages_are_cut() {
        let one = HourlyStats::one_call(
            EndpointId::new(),
            ConnectionId::new(),
            call("2026-03-01T09:30:00Z", false, 10),
            true,
            Some(&"x".repeat(2000)),
        );
        assert_eq!(one.last_error.unwrap().message.len(), MAX_MESSAGE_CHARS);
        assert_eq!(one.latency[latency_bucket(10)], 1);
        assert_eq!(one.hour, at("2026-03-01T09:00:00Z"));
    }
}
