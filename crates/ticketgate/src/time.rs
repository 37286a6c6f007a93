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

fn looks_naive(s: &str) -> bool {
    let after_date = s.get(10..).unwrap_or("");
    !(after_date.ends_with('Z')
        || after_date.ends_with('z')
        || after_date.contains('+')
        || after_date.get(1..).is_some_and(|t| t.contains('-')))
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
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn offsets_normalise_to_utc_millis() {
        let t = Timestamp::parse("2026-11-28T12:00:00.123456+02:00").unwrap();
        assert_eq!(t.cedar(), "2026-11-28T10:00:00.123Z");
        assert_eq!(t.to_string(), "2026-11-28T10:00:00.123Z");
    }
}
