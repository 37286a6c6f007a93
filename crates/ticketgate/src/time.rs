//! Instants as the contract wants them: RFC 3339 with an explicit offset, never naive.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An instant that was given with an explicit UTC offset.
///
/// Policies see it at millisecond precision (Cedar's `datetime`), so sub-millisecond
/// digits are truncated on the way in; every comparison then agrees with the policies.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(type = "string"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current instant.
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    /// Parses an RFC 3339 string; a missing offset is an error.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(t) = canonical(s.as_bytes()) {
            return Ok(t);
        }
        DateTime::<FixedOffset>::parse_from_rfc3339(s)
            .map(|t| Self::from_utc(t.with_timezone(&Utc)))
            .map_err(|e| {
                if looks_naive(s) {
                    format!("time `{s}` has no UTC offset (add `Z` or e.g. `+02:00`)")
                } else {
                    format!("`{s}` is not an RFC 3339 time: {e}")
                }
            })
    }

    /// Builds from a UTC instant, truncating to milliseconds.
    pub fn from_utc(t: DateTime<Utc>) -> Self {
        let ms = t.timestamp_millis();
        Self(DateTime::from_timestamp_millis(ms).unwrap_or(t))
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    /// From milliseconds since the Unix epoch.
    pub fn from_millis(ms: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(ms).map(Self)
    }

    /// The form Cedar's `datetime()` accepts.
    pub(crate) fn cedar(&self) -> String {
        self.0.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// The underlying UTC instant.
    pub fn utc(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The common form `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` read without chrono's general
/// parser (a request carries up to six times, and chrono took a tenth of reading one);
/// anything else, including every invalid time, is left to chrono, which has the last word.
fn canonical(b: &[u8]) -> Option<Timestamp> {
    let num = |at: usize, len: usize| -> Option<u32> {
        b.get(at..at + len)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut i = 19;
    let mut ms = 0;
    if at(i, b'.') {
        let digits = b
            .get(i + 1..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        for k in 0..3 {
            ms = ms * 10 + if k < digits { num(i + 1 + k, 1)? } else { 0 };
        }
        i += 1 + digits;
    }
    let offset_s = match b.get(i..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let s = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' {
                -s
            } else {
                s
            }
        }
        _ => return None,
    };
    // a leap second (`:60`) and every out-of-range part go to chrono
    let local = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, mo, d)?
        .and_hms_milli_opt(h, mi, sec, ms)?;
    let millis = local.and_utc().timestamp_millis() - offset_s * 1000;
    Timestamp::from_millis(millis)
}

/// A date and time that only lacks its offset (`2026-11-28T10:00:00`, also with a space):
/// worth its own message. Anything else (`yesterday`) is simply not a time.
fn looks_naive(s: &str) -> bool {
    s.replacen(' ', "T", 1)
        .parse::<chrono::NaiveDateTime>()
        .is_ok()
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time string with an offset")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_required() {
        assert!(Timestamp::parse("2026-11-28T10:00:00Z").is_ok());
        assert!(Timestamp::parse("2026-11-28T10:00:00+02:00").is_ok());
        let e = Timestamp::parse("2026-11-28T10:00:00").unwrap_err();
        assert!(e.contains("no UTC offset"), "{e}");
        let e = Timestamp::parse("2026-11-28 10:00:00.5").unwrap_err();
        assert!(e.contains("no UTC offset"), "{e}");
        // not a time at all: not told to add an offset
        let e = Timestamp::parse("yesterday").unwrap_err();
        assert!(e.contains("not an RFC 3339 time"), "{e}");
    }

    /// A time string near the canonical form: each part drawn from valid values and from
    /// values just out of range, with other separators and fraction lengths.
    fn near_canonical() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let two = |valid: u32| prop_oneof![0..valid, valid..100u32].prop_map(|n| format!("{n:02}"));
        (
            (prop_oneof![0..10000u32, 1999..2001u32], 0..14u32, 0..33u32),
            (
                two(24),
                two(60),
                prop_oneof![0..61u32, 59..61u32, 61..100u32],
            ),
            "[0-9]{0,11}",
            prop_oneof![
                Just("Z".to_string()),
                Just("z".to_string()),
                Just(String::new()),
                (prop_oneof![Just('+'), Just('-')], 0..26u32, 0..61u32)
                    .prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
                "[+-][0-9]{1,4}",
            ],
            prop_oneof![Just('T'), Just('t'), Just(' ')],
        )
            .prop_map(|((y, mo, d), (h, mi, s), frac, tz, sep)| {
                let frac = if frac.is_empty() {
                    frac
                } else {
                    format!(".{frac}")
                };
                format!("{y:04}-{mo:02}-{d:02}{sep}{h}:{mi}:{s:02}{frac}{tz}")
            })
    }

    proptest::proptest! {
        /// The fast path reads what chrono reads, to the millisecond, and never accepts
        /// what chrono refuses.
        #[test]
        fn the_canonical_fast_path_agrees_with_chrono(s in near_canonical()) {
            let by_chrono = DateTime::<FixedOffset>::parse_from_rfc3339(&s)
                .ok()
                .map(|t| Timestamp::from_utc(t.with_timezone(&Utc)));
            if let Some(fast) = canonical(s.as_bytes()) {
                proptest::prop_assert_eq!(Some(fast), by_chrono, "{}", s);
            }
            proptest::prop_assert_eq!(Timestamp::parse(&s).ok(), by_chrono, "{}", s);
        }
    }

    #[test]
    fn the_fast_path_takes_the_common_forms() {
        for s in [
            "2026-11-28T10:00:00Z",
            "2026-11-28T10:00:00.5+02:00",
            "0000-01-01T00:00:00-23:59",
        ] {
            assert!(canonical(s.as_bytes()).is_some(), "{s}");
        }
        // chrono decides these: a leap second, a lowercase separator, a missing offset
        for s in [
            "2016-12-31T23:59:60Z",
            "2026-11-28t10:00:00Z",
            "2026-11-28T10:00:00",
        ] {
            assert!(canonical(s.as_bytes()).is_none(), "{s}");
        }
    }

    #[test]
    fn offsets_normalise_to_utc_millis() {
        let t = Timestamp::parse("2026-11-28T12:00:00.123456+02:00").unwrap();
        assert_eq!(t.cedar(), "2026-11-28T10:00:00.123Z");
        assert_eq!(t.to_string(), "2026-11-28T10:00:00.123Z");
    }
}
