//! Office hours: when a widget's people are there. Outside them the widget says when they are
//! back and may ask for an e-mail address, so the conversation can go on later.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Timestamp, ValidationError};

/// The days of the week, as office hours name them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(date: Date) -> Self {
        use jiff::civil::Weekday as W;
        match date.weekday() {
            W::Monday => Day::Mon,
            W::Tuesday => Day::Tue,
            W::Wednesday => Day::Wed,
            W::Thursday => Day::Thu,
            W::Friday => Day::Fri,
            W::Saturday => Day::Sat,
            W::Sunday => Day::Sun,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeHours {
    /// IANA time zone of the hours; the account's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Opening ranges per day, `["09:00", "17:00"]` (`"24:00"` ends at midnight); a day not
    /// listed is closed.
    #[serde(default)]
    pub days: BTreeMap<Day, Vec<[String; 2]>>,
    /// Said outside the hours instead of the built-in "we're away" line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_message: Option<String>,
    /// Outside the hours, ask for an e-mail address to reply to.
    #[serde(default)]
    pub ask_email_offline: bool,
}

/// Whether people are there now, and when they are next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Availability {
    pub open: bool,
    /// When the next opening starts (null while open, or with no opening at all).
    pub next_open_at: Option<Timestamp>,
}

/// Minutes since midnight of `"HH:MM"` (`"24:00"` is 1440).
fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl OfficeHours {
    /// Checks the hours: a known time zone, ranges of `HH:MM` that start before they end and
    /// do not overlap, at most four a day, a message of at most 1000 characters.
    pub fn check(&self) -> Result<(), ValidationError> {
        if let Some(zone) = &self.time_zone {
            TimeZone::get(zone).map_err(|_| {
                ValidationError::new(
                    "office_hours.time_zone",
                    "invalid_time_zone",
                    "use an IANA name such as Europe/Berlin",
                )
            })?;
        }
        for (day, ranges) in &self.days {
            let name = serde_json::to_value(day)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            if ranges.len() > 4 {
                let field = format!("office_hours.days.{name}");
                return Err(ValidationError::new(field, "too_many", "at most four ranges a day"));
            }
            let mut spans: Vec<(u32, u32)> = Vec::new();
            for (i, [start, end]) in ranges.iter().enumerate() {
                let field = format!("office_hours.days.{name}[{i}]");
                let (Some(s), Some(e)) = (minutes(start), minutes(end)) else {
                    return Err(ValidationError::new(
                        field,
                        "invalid_time",
                        "times are HH:MM, 00:00 to 24:00",
                    ));
                };
                if s >= e {
                    return Err(ValidationError::new(
                        field,
                        "invalid_range",
                        "a range starts before it ends",
                    ));
                }
                if spans.iter().any(|&(a, b)| s < b && a < e) {
                    return Err(ValidationError::new(
                        field,
                        "overlapping",
                        "ranges of a day do not overlap",
                    ));
                }
                spans.push((s, e));
            }
        }
        if self.offline_message.as_ref().is_some_and(|m| m.chars().count() > 1000) {
            return Err(ValidationError::new(
                "office_hours.offline_message",
                "too_long",
                "at most 1000 characters",
            ));
        }
        Ok(())
    }

    fn ranges(&self, date: Date) -> Vec<(u32, u32)> {
        self.days
            .get(&Day::of(date))
            .into_iter()
            .flatten()
            .filter_map(|[s, e]| Some((minutes(s)?, minutes(e)?)))
            .collect()
    }

    /// Whether the hours are open at `now`, in `zone` (the account's unless the hours name one),
    /// and when they open next.
    pub fn availability(&self, account_zone: &str, now: Timestamp) -> Availability {
        let zone = self
            .time_zone
            .as_deref()
            .and_then(|z| TimeZone::get(z).ok())
            .or_else(|| TimeZone::get(account_zone).ok())
            .unwrap_or(TimeZone::UTC);
        let here = now.to_zoned(zone.clone());
        let minute =
            u32::from(here.hour().unsigned_abs()) * 60 + u32::from(here.minute().unsigned_abs());
        let today = here.date();
        if self.ranges(today).iter().any(|&(s, e)| s <= minute && minute < e) {
            return Availability { open: true, next_open_at: None };
        }
        // The first start after now, within a week.
        for ahead in 0..8 {
            let Ok(date) = today.checked_add(jiff::Span::new().days(ahead)) else { break };
            let mut starts: Vec<u32> = self.ranges(date).into_iter().map(|(s, _)| s).collect();
            starts.sort_unstable();
            for start in starts {
                if ahead == 0 && start <= minute {
                    continue;
                }
                let time = Time::new((start / 60) as i8, (start % 60) as i8, 0, 0)
                    .unwrap_or(Time::midnight());
                if let Ok(at) = date.to_datetime(time).to_zoned(zone.clone()) {
                    return Availability { open: false, next_open_at: Some(at.timestamp()) };
                }
            }
        }
        Availability { open: false, next_open_at: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(json: serde_json::Value) -> OfficeHours {
        serde_json::from_value(json).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn open_within_the_ranges_of_the_day_in_its_time_zone() {
        let weekdays = hours(serde_json::json!({"time_zone": "Europe/Berlin",
            "days": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["09:00", "24:00"]]}}));
        // Monday 2026-12-07, 10:00 in Berlin is 09:00 UTC.
        assert!(weekdays.availability("UTC", at("2026-12-07T09:00:00Z")).open);
        let lunch = weekdays.availability("UTC", at("2026-12-07T11:30:00Z"));
        assert_eq!(
            lunch,
            Availability { open: false, next_open_at: Some(at("2026-12-07T12:00:00Z")) }
        );
        // Monday evening: back on Friday at nine.
        let evening = weekdays.availability("UTC", at("2026-12-07T17:00:00Z"));
        assert_eq!(evening.next_open_at, Some(at("2026-12-11T08:00:00Z")));
        // Friday 23:59 in Berlin is still open ("24:00" ends at midnight).
        assert!(weekdays.availability("UTC", at("2026-12-11T22:59:00Z")).open);
        // No days: never open, no next opening.
        assert_eq!(
            hours(serde_json::json!({})).availability("UTC", at("2026-12-07T09:00:00Z")),
            Availability { open: false, next_open_at: None }
        );
        // Without a zone of their own, the account's.
        let plain = hours(serde_json::json!({"days": {"mon": [["09:00", "10:00"]]}}));
        assert!(plain.availability("America/New_York", at("2026-12-07T14:30:00Z")).open);
        assert!(!plain.availability("UTC", at("2026-12-07T14:30:00Z")).open);
    }

    #[test]
    fn bad_hours_say_which_range_is_wrong() {
        let check = |json: serde_json::Value| hours(json).check().unwrap_err();
        let e =
            check(serde_json::json!({"days": {"tue": [["09:00", "17:00"], ["16:00", "18:00"]]}}));
        assert_eq!((e.code, e.field.as_ref()), ("overlapping", "office_hours.days.tue[1]"));
        let e = check(serde_json::json!({"days": {"mon": [["17:00", "09:00"]]}}));
        assert_eq!(e.code, "invalid_range");
        let e = check(serde_json::json!({"days": {"mon": [["9:00", "17:00"]]}}));
        assert_eq!(e.code, "invalid_time");
        let e = check(serde_json::json!({"time_zone": "Mars/Olympus"}));
        assert_eq!((e.code, e.field.as_ref()), ("invalid_time_zone", "office_hours.time_zone"));
        assert!(
            serde_json::from_value::<OfficeHours>(serde_json::json!({"days": {"monday": []}}))
                .is_err()
        );
    }
}
