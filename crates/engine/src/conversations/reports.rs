//! Reports over a range of days in the account's time zone: the summary, one metric per day or
//! week, and the same as CSV (docs/analytics.md). Read from the hourly counts, so a report
//! costs the same however many messages the range holds.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use sb_domain::analytics::{HourCount, Summary, TIMESERIES_METRICS, Totals};
use sb_domain::{Role, Timestamp, ValidationError, WidgetId};
use schemars::JsonSchema;
use serde::Serialize;

use super::ConversationsService;
use crate::{Actor, EngineError};

/// The longest range a report covers.
pub const MAX_DAYS: i32 = 400;

/// Days a report covers: `from` to `to`, both included, in the account's time zone.
#[derive(Debug, Clone)]
pub struct DayRange {
    pub from: Date,
    pub to: Date,
    zone: TimeZone,
}

impl DayRange {
    /// The days named (`YYYY-MM-DD`); without them, the 30 days up to today.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        zone: TimeZone,
    ) -> Result<Self, ValidationError> {
        let day = |field: &'static str, raw: &str| {
            raw.parse::<Date>().map_err(|_| {
                ValidationError::new(
                    field,
                    "invalid_date",
                    format!("{raw:?} is not a day: use YYYY-MM-DD"),
                )
            })
        };
        let today = Timestamp::now().to_zoned(zone.clone()).date();
        let to = match to {
            Some(raw) => day("to", raw)?,
            None => today,
        };
        let from = match from {
            Some(raw) => day("from", raw)?,
            None => to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to),
        };
        if to < from {
            return Err(ValidationError::new("to", "invalid_range", "`to` is before `from`"));
        }
        let days = (to - from).get_days() + 1;
        if days > MAX_DAYS {
            let message = format!("a report covers at most {MAX_DAYS} days; this asks for {days}");
            return Err(ValidationError::new("to", "range_too_long", message));
        }
        Ok(Self { from, to, zone })
    }

    fn start_of(&self, day: Date) -> Timestamp {
        day.to_zoned(self.zone.clone()).map(|z| z.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// From the first day's start to the end of the last.
    pub fn bounds(&self) -> (Timestamp, Timestamp) {
        let after = self.to.tomorrow().unwrap_or(self.to);
        (self.start_of(self.from), self.start_of(after))
    }

    /// The day (in the account's zone) an hour's count belongs to: the day its end is in, so
    /// in a zone half an hour off UTC the hour holding local midnight opens the new day.
    fn day_of(&self, hour: i64) -> Date {
        Timestamp::from_millisecond(hour + 3_599_999)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.zone.clone())
            .date()
    }
}

/// Days or weeks (starting on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    Week,
}

impl Interval {
    pub fn parse(raw: Option<&str>) -> Result<Self, ValidationError> {
        match raw.unwrap_or("day") {
            "day" => Ok(Self::Day),
            "week" => Ok(Self::Week),
            other => Err(ValidationError::new(
                "interval",
                "invalid_field",
                format!("{other:?}: use day or week"),
            )),
        }
    }

    /// The first day of the interval `day` is in.
    fn start(self, day: Date) -> Date {
        match self {
            Self::Day => day,
            Self::Week => {
                let back = i64::from(day.weekday().to_monday_zero_offset());
                day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day)
            }
        }
    }
}

/// One point of a time series.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Point {
    /// The first day of the day or week (`YYYY-MM-DD`).
    #[schemars(with = "String")]
    pub start: Date,
    /// Null for a rate with nothing to divide.
    pub value: Option<f64>,
}

/// Columns of the CSV export, after the day: counts as they are kept.
const CSV_METRICS: [&str; 27] = [
    "conversations",
    "visitor_messages",
    "assistant_involved",
    "closed",
    "outcome:assistant_resolved",
    "outcome:resolved_with_person",
    "outcome:handed_over",
    "outcome:abandoned",
    "reopened",
    "reply:rule",
    "reply:api",
    "reply:kb",
    "reply:ai",
    "reply:fallback",
    "rating:1",
    "rating:2",
    "rating:3",
    "rating:4",
    "rating:5",
    "helpful:rule",
    "not_helpful:rule",
    "helpful:api",
    "not_helpful:api",
    "helpful:kb",
    "not_helpful:kb",
    "helpful:ai",
    "not_helpful:ai",
];

/// How many added counts one fold takes at most (one transaction).
const FOLD_BATCH: u32 = 10_000;

impl ConversationsService {
    /// Folds the counts added since the last fold into their hours' totals (every node may, each
    /// minute; no figure changes); how many were folded.
    pub async fn fold_counts(&self) -> Result<u64, EngineError> {
        let mut folded = 0;
        loop {
            let moved = self.store.analytics.fold_counts(FOLD_BATCH).await?;
            folded += moved;
            if moved < u64::from(FOLD_BATCH) {
                return Ok(folded);
            }
        }
    }

    async fn counts(
        &self,
        actor: &Actor,
        range: &DayRange,
        widget: Option<&WidgetId>,
        metrics: Option<&[String]>,
    ) -> Result<Vec<HourCount>, EngineError> {
        actor.require(Role::Operator)?;
        let (from, to) = range.bounds();
        let tenant = &actor.tenant_id;
        let names: Option<Vec<&str>> = metrics.map(|m| m.iter().map(String::as_str).collect());
        let (from, to) = (hour_of(from), hour_of(to));
        Ok(self.store.analytics.hour_counts(tenant, widget, from, to, names.as_deref()).await?)
    }

    /// Every figure over the range (`GET /analytics/summary`).
    pub async fn analytics_summary(
        &self,
        actor: &Actor,
        range: &DayRange,
        widget: Option<&WidgetId>,
    ) -> Result<Summary, EngineError> {
        actor.require(Role::Operator)?;
        let (from, to) = range.bounds();
        let tenant = &actor.tenant_id;
        let analytics = &self.store.analytics;
        // Summed in the database: a 400-day range is thousands of hours.
        let totals = analytics.metric_totals(tenant, widget, hour_of(from), hour_of(to)).await?;
        let totals = Totals(totals.into_iter().collect());
        let waits = analytics.first_responses(tenant, widget, from, to).await?;
        let rules: Vec<_> =
            self.store.rules.list_rules(tenant).await?.into_iter().map(|r| r.id).collect();
        Ok(Summary::of(&totals, &rules, waits))
    }

    /// One metric per day or week of the range (`GET /analytics/timeseries`).
    pub async fn analytics_timeseries(
        &self,
        actor: &Actor,
        metric: &str,
        interval: Interval,
        range: &DayRange,
        widget: Option<&WidgetId>,
    ) -> Result<Vec<Point>, EngineError> {
        if !TIMESERIES_METRICS.contains(&metric) {
            let message =
                format!("{metric:?} is not a metric; use one of {}", TIMESERIES_METRICS.join(", "));
            return Err(ValidationError::new("metric", "invalid_field", message).into());
        }
        // Only what the metric is made of: a 400-day range has thousands of hours.
        let needed = Totals::needed(metric);
        let counts = self.counts(actor, range, widget, Some(&needed)).await?;
        Ok(buckets(range, interval, &counts)
            .into_iter()
            .map(|(start, totals)| Point { start, value: totals.value(metric) })
            .collect())
    }

    /// The counts per day or week as CSV (`GET /analytics/export.csv`).
    pub async fn analytics_csv(
        &self,
        actor: &Actor,
        interval: Interval,
        range: &DayRange,
        widget: Option<&WidgetId>,
    ) -> Result<String, EngineError> {
        let names = CSV_METRICS
            .iter()
            .chain(["helpful:fallback", "not_helpful:fallback", "ai_requests"].iter());
        // Only its columns: not the per-rule and per-endpoint counts of every hour.
        let columns: Vec<String> = names.clone().map(|m| (*m).to_owned()).collect();
        let counts = self.counts(actor, range, widget, Some(&columns)).await?;
        let header: Vec<String> = names.clone().map(|m| m.replace(':', "_")).collect();
        let mut csv = format!("start,{}\r\n", header.join(","));
        for (start, totals) in buckets(range, interval, &counts) {
            let values: Vec<String> = names.clone().map(|m| totals.get(m).to_string()).collect();
            csv.push_str(&format!("{start},{}\r\n", values.join(",")));
        }
        Ok(csv)
    }
}

/// The start of the hour `t` is in: hourly counts are cut there.
fn hour_of(t: Timestamp) -> Timestamp {
    let ms = t.as_millisecond();
    Timestamp::from_millisecond(ms - ms.rem_euclid(3_600_000)).unwrap_or(t)
}

/// The counts summed per day or week of the range, every interval present (empty ones too).
fn buckets(range: &DayRange, interval: Interval, counts: &[HourCount]) -> Vec<(Date, Totals)> {
    let mut starts = Vec::new();
    let mut day = range.from;
    while day <= range.to {
        let start = interval.start(day);
        if starts.last() != Some(&start) {
            starts.push(start);
        }
        day = match day.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    // One pass: each hour's interval found once (the counts come by hour).
    let mut sums: std::collections::BTreeMap<Date, std::collections::BTreeMap<String, i64>> =
        std::collections::BTreeMap::new();
    let mut current: Option<(i64, Date)> = None;
    for c in counts {
        let start = match current {
            Some((hour, start)) if hour == c.hour => start,
            _ => {
                let start = interval.start(range.day_of(c.hour));
                current = Some((c.hour, start));
                start
            }
        };
        *sums.entry(start).or_default().entry(c.metric.clone()).or_insert(0) += c.count;
    }
    starts
        .into_iter()
        .map(|start| (start, Totals(sums.remove(&start).unwrap_or_default())))
        .collect()
}
