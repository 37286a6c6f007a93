//! Which instant a request is decided for, and which instant velocity counts by.
//!
//! Live (production): `at` defaults to now and may lie only a little ahead (`max_skew`) or
//! behind (`max_age`); velocity windows count and prune by the gate's own clock, so a
//! request dated in the future cannot empty anybody's window. Replay (demo, replay, tests):
//! `at` is required and taken as given, for history that happened at its own times.

use crate::error::InvalidRequest;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The gate's clock.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// The wall clock: `at` within `[now - max_age, now + max_skew]`.
    #[default]
    Live,
    /// Requests carry their own `at`, taken as given.
    Replay,
}

impl std::str::FromStr for Clock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "live" => Ok(Self::Live),
            "replay" => Ok(Self::Replay),
            _ => Err(format!("unknown clock `{s}`; expected live or replay")),
        }
    }
}

/// A clock with its tolerances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockPolicy {
    pub(crate) clock: Clock,
    pub(crate) max_skew: Duration,
    pub(crate) max_age: Duration,
}

impl Default for ClockPolicy {
    fn default() -> Self {
        Self {
            clock: Clock::Live,
            max_skew: Duration::from_secs(30),
            max_age: Duration::from_secs(600),
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl ClockPolicy {
    /// A tolerance so wide it stops being one, as the option it is set by and why: an `at`
    /// hours ahead is not clock skew, and history older than a day belongs on a replay gate
    /// (a live gate that takes any past `at` lets the caller pick the moment its rules see).
    pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
        const SKEW: Duration = Duration::from_secs(3600);
        const AGE: Duration = Duration::from_secs(86_400);
        if self.max_skew > SKEW {
            return Some((
                "max_skew_s",
                format!(
                    "at most {} s: a request dated further ahead is not clock skew",
                    SKEW.as_secs()
                ),
            ));
        }
        if self.max_age > AGE {
            return Some((
                "max_age_s",
                format!(
                    "at most {} s: decide older history on a replay gate",
                    AGE.as_secs()
                ),
            ));
        }
        None
    }

    pub(crate) fn max_skew_ms(&self) -> i64 {
        ms(self.max_skew)
    }

    /// The instant to decide for, and the instant velocity counts and prunes by.
    pub(crate) fn instants(
        &self,
        at: Option<Timestamp>,
    ) -> Result<(Timestamp, Timestamp), InvalidRequest> {
        match self.clock {
            Clock::Replay => {
                let at = at.ok_or_else(|| {
                    InvalidRequest::new(
                        "at",
                        "is required on a replay clock (history is decided at its own times)",
                    )
                })?;
                Ok((at, at))
            }
            Clock::Live => {
                let now = Timestamp::now();
                let Some(at) = at else { return Ok((now, now)) };
                let ahead = at.millis().saturating_sub(now.millis());
                if ahead > self.max_skew_ms() {
                    return Err(InvalidRequest::new(
                        "at",
                        format!(
                            "is {:.3} s ahead of the gate's clock (at most {} s of skew is accepted)",
                            ahead as f64 / 1000.0,
                            self.max_skew.as_secs()
                        ),
                    ));
                }
                if -ahead > ms(self.max_age) {
                    return Err(InvalidRequest::new(
                        "at",
                        format!(
                            "is {:.3} s behind the gate's clock (at most {} s; decide history on a replay gate)",
                            -ahead as f64 / 1000.0,
                            self.max_age.as_secs()
                        ),
                    ));
                }
                Ok((at, now))
            }
        }
    }
}
