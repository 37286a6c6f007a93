//! Shifts: an absolute `{start, end}`, or a weekly schedule `{days, start, end, tz}` in the
//! employee's time zone, where an end before the start wraps past midnight and DST is
//! honoured. The gate resolves a schedule to the absolute shift that contains `at` (or to
//! none: off shift) before the policies see it, so policies only ever compare instants.

use crate::error::InvalidRequest;
use crate::time::Timestamp;
use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A working shift: on shift means `start <= at < end`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Shift {
    /// One absolute shift.
    Absolute {
        /// First instant on shift.
        #[cfg_attr(feature = "typescript", ts(type = "string | Date"))]
        start: Timestamp,
        /// First instant off shift again.
        #[cfg_attr(feature = "typescript", ts(type = "string | Date"))]
        end: Timestamp,
    },
    /// A weekly schedule, e.g. `08:00-16:00 Europe/Berlin, mon-fri`.
    Weekly(Weekly),
}

impl<'de> Deserialize<'de> for Shift {
    /// A schedule has `days`; anything else must be an absolute shift. Deciding by that key
    /// (rather than trying each shape) keeps the error about the shape that was meant, and
    /// the value is read once.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(
            deny_unknown_fields,
            expecting = "a shift object: `{start, end}`, or `{days, start, end, tz}` for a weekly one"
        )]
        struct Either {
            start: String,
            end: String,
            #[serde(default)]
            days: Option<Vec<String>>,
            #[serde(default)]
            tz: Option<String>,
        }
        let e = Either::deserialize(d)?;
        match (e.days, e.tz) {
            (Some(days), Some(tz)) => Ok(Shift::Weekly(Weekly {
                days,
                start: e.start,
                end: e.end,
                tz,
            })),
            (Some(_), None) => Err(D::Error::missing_field("tz")),
            (None, Some(_)) => Err(D::Error::unknown_field("tz", &["start", "end"])),
            (None, None) => Ok(Shift::Absolute {
                start: Timestamp::parse(&e.start).map_err(D::Error::custom)?,
                end: Timestamp::parse(&e.end).map_err(D::Error::custom)?,
            }),
        }
    }
}

/// A weekly schedule.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    /// Days a shift starts on: `mon` ... `sun`.
    pub days: Vec<String>,
    /// Local start, `HH:MM`.
    pub start: String,
    /// Local end, `HH:MM`; before the start means the next day.
    pub end: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub tz: String,
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

struct Parsed {
    days: Vec<Weekday>,
    start: NaiveTime,
    end: NaiveTime,
    tz: Tz,
}

fn hhmm(key: &str, v: &str) -> Result<NaiveTime, InvalidRequest> {
    NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| {
        InvalidRequest::new(
            format!("employee.shift.{key}"),
            format!("`{v}` is not a time `HH:MM`"),
        )
    })
}

impl Weekly {
    fn parse(&self) -> Result<Parsed, InvalidRequest> {
        if self.days.is_empty() {
            return Err(InvalidRequest::new("employee.shift.days", "names no day"));
        }
        let mut days = Vec::new();
        for (i, d) in self.days.iter().enumerate() {
            let day = DAYS
                .iter()
                .find(|(n, _)| *n == d.as_str())
                .map(|(_, w)| *w)
                .ok_or_else(|| {
                    InvalidRequest::new(
                        format!("employee.shift.days[{i}]"),
                        format!("`{d}` is not one of mon, tue, wed, thu, fri, sat, sun"),
                    )
                })?;
            days.push(day);
        }
        // `24:00` ends a shift at midnight, the day's end (ISO 8601); midnight itself is
        // where the wrap below already puts an end not after the start
        let through_midnight = self.end == "24:00";
        let end = if through_midnight {
            NaiveTime::MIN
        } else {
            hhmm("end", &self.end)?
        };
        let start = hhmm("start", &self.start)?;
        if start == end && !through_midnight {
            return Err(InvalidRequest::new(
                "employee.shift.end",
                "equals the start",
            ));
        }
        let tz: Tz = self.tz.parse().map_err(|_| {
            InvalidRequest::new(
                "employee.shift.tz",
                format!(
                    "`{}` is not an IANA time zone such as `Europe/Berlin`",
                    self.tz
                ),
            )
        })?;
        Ok(Parsed {
            days,
            start,
            end,
            tz,
        })
    }
}

/// The instant a local wall-clock time maps to: the earlier one when a DST change repeats
/// it, and the first instant after the gap when a DST change skips it.
fn instant(tz: Tz, date: NaiveDate, t: NaiveTime) -> Option<Timestamp> {
    let local = date.and_time(t);
    let dt = match tz.from_local_datetime(&local) {
        LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => d,
        LocalResult::None => (1..=180).find_map(|m| {
            tz.from_local_datetime(&(local + Duration::minutes(m)))
                .earliest()
        })?,
    };
    Some(Timestamp::from_utc(dt.with_timezone(&chrono::Utc)))
}

impl Shift {
    /// Checks the shape (times, days, zone, order) without resolving.
    pub fn check(&self) -> Result<(), InvalidRequest> {
        match self {
            Shift::Absolute { start, end } if end <= start => Err(InvalidRequest::new(
                "employee.shift.end",
                "must be after the shift's start",
            )),
            Shift::Absolute { .. } => Ok(()),
            Shift::Weekly(w) => w.parse().map(|_| ()),
        }
    }

    /// The absolute shift that contains `at`, if any; for an absolute shift, itself.
    pub fn resolve(&self, at: Timestamp) -> Result<Option<(Timestamp, Timestamp)>, InvalidRequest> {
        let w = match self {
            Shift::Absolute { start, end } => return Ok(Some((*start, *end))),
            Shift::Weekly(w) => w.parse()?,
        };
        let local = at.utc().with_timezone(&w.tz).date_naive();
        // a shift containing `at` started on the local day of `at` or the day before (wrap)
        for date in [local - Duration::days(1), local] {
            if !w.days.contains(&date.weekday()) {
                continue;
            }
            let end_date = if w.end <= w.start {
                date + Duration::days(1)
            } else {
                date
            };
            let (Some(s), Some(e)) = (instant(w.tz, date, w.start), instant(w.tz, end_date, w.end))
            else {
                continue;
            };
            if s <= at && at < e {
                return Ok(Some((s, e)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly(days: &[&str], start: &str, end: &str, tz: &str) -> Shift {
        Shift::Weekly(Weekly {
            days: days.iter().map(|d| (*d).to_owned()).collect(),
            start: start.into(),
            end: end.into(),
            tz: tz.into(),
        })
    }

    fn on(s: &Shift, at: &str) -> bool {
        s.resolve(Timestamp::parse(at).unwrap()).unwrap().is_some()
    }

    #[test]
    fn office_hours_in_berlin() {
        let s = weekly(
            &["mon", "tue", "wed", "thu", "fri"],
            "08:00",
            "16:00",
            "Europe/Berlin",
        );
        // Wednesday 2026-11-25, CET = UTC+1
        assert!(!on(&s, "2026-11-25T06:59:59.999Z"));
        assert!(on(&s, "2026-11-25T07:00:00Z"));
        assert!(on(&s, "2026-11-25T14:59:59.999Z"));
        assert!(!on(&s, "2026-11-25T15:00:00Z"));
        // Saturday
        assert!(!on(&s, "2026-11-28T10:00:00Z"));
    }

    #[test]
    fn a_shift_may_end_at_24_00_and_run_the_whole_day() {
        let evening = weekly(&["mon"], "16:00", "24:00", "UTC");
        assert!(on(&evening, "2026-11-30T23:59:59.999Z"));
        assert!(!on(&evening, "2026-12-01T00:00:00Z"));
        assert!(!on(&evening, "2026-11-30T15:59:59.999Z"));
        let day = weekly(&["mon"], "00:00", "24:00", "UTC");
        assert!(on(&day, "2026-11-30T00:00:00Z"));
        assert!(on(&day, "2026-11-30T23:59:59.999Z"));
        assert!(!on(&day, "2026-12-01T00:00:00Z"));
        assert!(!on(&day, "2026-11-29T23:59:59.999Z"));
        let e = weekly(&["mon"], "24:00", "08:00", "UTC")
            .check()
            .unwrap_err();
        assert_eq!(e.key, "employee.shift.start");
    }

    #[test]
    fn a_night_shift_wraps_past_midnight() {
        let s = weekly(&["fri"], "22:00", "06:00", "UTC");
        assert!(on(&s, "2026-11-27T23:00:00Z")); // Friday night
        assert!(on(&s, "2026-11-28T05:59:00Z")); // Saturday morning, same shift
        assert!(!on(&s, "2026-11-28T06:00:00Z"));
        assert!(!on(&s, "2026-11-28T23:00:00Z")); // Saturday night: no shift starts
    }

    #[test]
    fn dst_is_honoured() {
        let s = weekly(&["sun", "mon"], "08:00", "16:00", "Europe/Berlin");
        // 2026-03-29 is the spring change in the EU: 08:00 local is 06:00 UTC (CEST, UTC+2)
        assert!(on(&s, "2026-03-29T06:00:00Z"));
        assert!(!on(&s, "2026-03-29T05:59:00Z"));
        // the week before, still CET: 08:00 local is 07:00 UTC
        assert!(!on(&s, "2026-03-23T06:30:00Z"));
        assert!(on(&s, "2026-03-23T07:00:00Z"));
        // a night shift across the autumn change is an hour longer
        let n = weekly(&["sat"], "22:00", "06:00", "Europe/Berlin");
        let (a, b) = n
            .resolve(Timestamp::parse("2026-10-24T23:00:00Z").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(b.millis() - a.millis(), 9 * 3_600_000);
    }

    #[test]
    fn bad_schedules_name_the_key() {
        let e = weekly(&["monday"], "08:00", "16:00", "UTC")
            .check()
            .unwrap_err();
        assert_eq!(e.key, "employee.shift.days[0]");
        let e = weekly(&["mon"], "8am", "16:00", "UTC").check().unwrap_err();
        assert_eq!(e.key, "employee.shift.start");
        let e = weekly(&["mon"], "08:00", "16:00", "Mars/Olympus")
            .check()
            .unwrap_err();
        assert_eq!(e.key, "employee.shift.tz");
    }
}
