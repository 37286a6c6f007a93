//! R8 velocity counting and the kill switch, behind one store seam so that a fleet can
//! share counts and suspensions (Redis) while a single process needs nothing (memory).
//!
//! Stores never read a clock: the gate passes the instant to count and prune by (its own
//! clock when live), so no request can move anybody's window.

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{redis_store, RedisOptions, RedisStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::error::StoreError;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A store from a URL: `memory`, `sqlite:///path/to/file.db` (the processes of one host)
/// or `redis://host:port/db` (a fleet).
pub fn store_from_url(url: &str) -> Result<std::sync::Arc<dyn VelocityStore>, crate::error::Error> {
    use crate::error::InvalidRequest;
    if url == "memory" {
        return Ok(std::sync::Arc::new(MemoryStore::new()));
    }
    if let Some(path) = url.strip_prefix("sqlite://") {
        #[cfg(feature = "sqlite")]
        {
            if path.is_empty() {
                return Err(InvalidRequest::new(
                    "velocity_store",
                    "`sqlite://` needs a path, e.g. sqlite:///var/lib/app/velocity.db",
                )
                .into());
            }
            return Ok(std::sync::Arc::new(SqliteStore::open(path)?));
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = path;
            return Err(
                InvalidRequest::new("velocity_store", "this build has no SQLite support").into(),
            );
        }
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        return redis_from_url(url);
    }
    Err(InvalidRequest::new(
        "velocity_store",
        format!("`{url}` is not `memory`, `sqlite:///path` or `redis://host:port`"),
    )
    .into())
}

/// A Redis store from its URL (a malformed URL is a `StoreError`, as Redis reports it).
pub fn redis_from_url(url: &str) -> Result<std::sync::Arc<dyn VelocityStore>, crate::error::Error> {
    #[cfg(feature = "redis")]
    {
        Ok(redis_store(url)?)
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        Err(
            crate::error::InvalidRequest::new("velocity_store", "this build has no Redis support")
                .into(),
        )
    }
}

/// Limits of R8. They reach the policies through the context, so a pack can be stricter.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VelocityConfig {
    /// Sliding window in seconds (default 3600).
    pub window_s: u64,
    /// Soft limit (default 15).
    pub soft: u64,
    /// Hard limit (default 30).
    pub hard: u64,
    /// The long window, for harvesting spread over a day.
    #[cfg_attr(feature = "typescript", ts(type = "Partial<DayLimits>"))]
    pub day: DayLimits,
}

/// The long window of R8 (default 24 h, soft 120, hard 240: the busiest agents of the demo
/// reveal about 95 customers on their busiest day).
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DayLimits {
    /// Sliding window in seconds (default 86400); at least the short window.
    pub window_s: u64,
    /// Soft limit (default 120).
    pub soft: u64,
    /// Hard limit (default 240).
    pub hard: u64,
}

impl Default for DayLimits {
    fn default() -> Self {
        Self {
            window_s: 86_400,
            soft: 120,
            hard: 240,
        }
    }
}

impl Default for VelocityConfig {
    fn default() -> Self {
        Self {
            window_s: 3600,
            soft: 15,
            hard: 30,
            day: DayLimits::default(),
        }
    }
}

fn ms(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)
}

impl VelocityConfig {
    pub(crate) fn windows(&self) -> Windows {
        Windows {
            short_ms: ms(self.window_s),
            long_ms: ms(self.day.window_s.max(self.window_s)),
        }
    }

    /// Why the limits are unusable, if they are: the option at fault, and why.
    pub(crate) fn problem(&self) -> Option<(&'static str, String)> {
        let d = self.day;
        let found = if self.window_s == 0 {
            ("velocity.window_s", "must be more than 0".into())
        } else if self.hard == 0 {
            ("velocity.hard", "must be more than 0".into())
        } else if self.soft > self.hard {
            let why = format!("{} is above the hard limit {}", self.soft, self.hard);
            ("velocity.soft", why)
        } else if d.window_s < self.window_s {
            let why = format!(
                "{} s is shorter than the short window's {} s",
                d.window_s, self.window_s
            );
            ("velocity.day.window_s", why)
        } else if d.soft > d.hard {
            let why = format!("{} is above the day's hard limit {}", d.soft, d.hard);
            ("velocity.day.soft", why)
        } else if d.hard < self.hard {
            let why = format!(
                "{} is below the hard limit {}, so it would bind first",
                d.hard, self.hard
            );
            ("velocity.day.hard", why)
        } else if d.soft < self.soft {
            let why = format!(
                "{} is below the soft limit {}, so it would bind first",
                d.soft, self.soft
            );
            ("velocity.day.soft", why)
        } else {
            return None;
        };
        Some(found)
    }
}

/// The two sliding windows a store counts over; the long one bounds what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The R8 window (default 1 h).
    pub short_ms: i64,
    /// The long window (default 24 h).
    pub long_ms: i64,
}

impl From<i64> for Windows {
    /// One window for both counts.
    fn from(ms: i64) -> Self {
        Self {
            short_ms: ms,
            long_ms: ms,
        }
    }
}

/// What the store knew about one employee when a decision was made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observation {
    /// Distinct customers revealed in the short window, not counting this one.
    pub count: u64,
    /// This customer is already counted in the short window.
    pub counted: bool,
    /// The same over the long window.
    pub day_count: u64,
    /// This customer is already counted in the long window.
    pub day_counted: bool,
    /// The reason, when the employee is suspended through the kill switch.
    pub suspended: Option<String>,
}

/// A suspension through the kill switch.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// Employee id.
    pub employee: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// Where velocity counts and suspensions live.
///
/// `admit` is the heart of R8: it must be atomic per employee, so that two concurrent
/// decisions can never both take a count past the hard limit.
pub trait VelocityStore: Send + Sync + fmt::Debug {
    /// Observes the employee's windows at `at`, asks `decide` whether `customer` is being
    /// revealed given that observation, and if so records it, all atomically for this
    /// employee. `decide` may be called more than once (optimistic stores retry); the
    /// observation it was last called with is returned.
    fn admit(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        windows: Windows,
        decide: &mut dyn FnMut(&Observation) -> bool,
    ) -> Result<Observation, StoreError>;

    /// Records a past reveal (warming counts after a restart, test seeding).
    fn record(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        window_ms: i64,
    ) -> Result<(), StoreError>;

    /// Suspends an employee everywhere this store is shared.
    fn suspend(&self, employee: &str, reason: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Lifts a suspension; returns whether there was one.
    fn reinstate(&self, employee: &str) -> Result<bool, StoreError>;

    /// All current suspensions.
    fn suspended(&self) -> Result<Vec<Suspension>, StoreError>;

    /// Revokes a grant on every gate sharing this store, until `until` (the store may
    /// forget it after that instant, when the grant can no longer be used anyway).
    fn revoke(&self, _grant: &str, _until: Timestamp) -> Result<(), StoreError> {
        Err(StoreError {
            message: "this store cannot hold revocations".into(),
        })
    }

    /// Whether a grant is revoked. A store that cannot tell makes the grant unusable.
    fn is_revoked(&self, _grant: &str, _now: Timestamp) -> Result<bool, StoreError> {
        Err(StoreError {
            message: "this store cannot hold revocations".into(),
        })
    }

    /// Whether the store lives in this process only (a process forked from the one that
    /// made it counts and suspends on its own copy).
    fn per_process(&self) -> bool {
        false
    }

    /// Forgets employees with nothing left in their window at `now` (the gate's clock), so
    /// memory follows recently active employees. Stores that expire by themselves ignore it.
    fn sweep(&self, _now: Timestamp, _window_ms: i64) {}
}
