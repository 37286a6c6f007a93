//! Live detection: alerts folded into episodes, and the peer signals for slow harvesting.
//!
//! An *episode* is one employee, one alert kind, one UTC day. Every alert carries its
//! [`Severity`] and its `occurrence` within the episode; `on_alert` gets an alert when it
//! opens an episode, or when repetition raises its severity (a refusal seen
//! [`REPEATED`] times in a day), not once per decision. The trail keeps every alert.
//!
//! Two signals compare an employee with the peers of their first team active the same day,
//! as this gate has seen them: distinct customers revealed (`reveal_volume`) and, of those,
//! customers of tickets the employee assigned to themselves (`self_assigned`, from the
//! ticket's `assigned_by`). A signal fires once a day, when the value reaches `ratio` times
//! the peers' median (a median below 1 counts as 1) and `min_excess` above it, with at least
//! `min_peers` peers. Each gate process sees its own share of the traffic; `ticketgate audit
//! anomalies` computes the same signals over the whole fleet's trail.

use crate::decision::{Alert, Decision, Outcome};
use crate::model::AccessRequest;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// How much an alert deserves a security team's attention.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only (`velocity_soft`, `security_review`).
    Info,
    /// Worth a look by an investigator (a single refusal).
    #[default]
    Low,
    /// Worth a security team's look today (a repeated refusal, a peer signal).
    Medium,
    /// Look now (`canary`, `break_glass`, `suspended`, `velocity_hard`, a peer signal far
    /// out of line).
    High,
}

impl Severity {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// A `low` alert seen this often in one episode becomes `medium`.
pub const REPEATED: u64 = 10;

/// Alert kinds of the peer signals.
pub mod signals {
    /// Distinct customers revealed today, against the team's median.
    pub const REVEAL_VOLUME: &str = "reveal_volume";
    /// Customers revealed through self-assigned tickets today, against the team's median.
    pub const SELF_ASSIGNED: &str = "self_assigned";

    /// What a peer signal counts, for messages.
    pub(crate) fn counts(signal: &str) -> &'static str {
        if signal == SELF_ASSIGNED {
            "customers revealed through tickets they assigned to themselves"
        } else {
            "customers revealed"
        }
    }
}

/// The severity of an alert of `kind` at its `occurrence`-th decision in the episode.
pub fn severity(kind: &str, occurrence: u64) -> Severity {
    use crate::alert::kinds;
    // `velocity_hard` and `security_review` are named by the default pack's `@alert`s
    let base = match kind {
        kinds::CANARY | kinds::BREAK_GLASS | kinds::SUSPENDED | "velocity_hard" => Severity::High,
        kinds::VELOCITY_SOFT | "security_review" => Severity::Info,
        signals::REVEAL_VOLUME | signals::SELF_ASSIGNED | kinds::STORE_PER_PROCESS => {
            Severity::Medium
        }
        _ => Severity::Low,
    };
    if base == Severity::Low && occurrence >= REPEATED {
        Severity::Medium
    } else {
        base
    }
}

impl Alert {
    /// Whether `on_alert` hears of this alert: it opens its episode or raises its severity.
    pub fn is_news(&self) -> bool {
        self.occurrence <= 1
            || (self.occurrence == REPEATED && severity(&self.kind, REPEATED - 1) < self.severity)
    }
}

/// Thresholds of the peer signals.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeerSignals {
    /// Times the peers' median (default 3).
    pub ratio: f64,
    /// And at least this many customers above it (default 10).
    pub min_excess: u64,
    /// Peers needed before comparing (default 3).
    pub min_peers: u64,
}

/// How one employee's value compares with their peers' (see [`PeerSignals::judge`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Fewer peers than `min_peers`.
    TooFewPeers,
    /// In line; `needed` is the smallest value that would be out of line against this median.
    Within { needed: f64 },
    /// Out of line: at least `ratio` times the median and `min_excess` above it.
    OutOfLine(OutOfLine),
}

/// An out-of-line value: the peers' median, the value's ratio to it, how many peers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OutOfLine {
    pub median: f64,
    pub ratio: f64,
    pub peers: usize,
}

impl OutOfLine {
    /// The sentence that explains it.
    pub(crate) fn explain(&self, signal: &str, value: u64, team: &str) -> String {
        format!(
            "{value} {}, {:.1}x the median of {} peers in {team} ({})",
            signals::counts(signal),
            self.ratio,
            self.peers,
            self.median
        )
    }
}

impl PeerSignals {
    /// Why these thresholds cannot judge anyone (a ratio below 1 calls the median itself
    /// out of line), as the reason for the `ratio` option; `None` when they can.
    pub fn problem(&self) -> Option<&'static str> {
        (!(self.ratio >= 1.0 && self.ratio.is_finite())).then_some("needs a finite ratio >= 1")
    }

    /// Judges `value` against the values of the peers (the employee's own not among them);
    /// the one rule of the live signals and of `audit anomalies`.
    pub(crate) fn judge(&self, value: u64, peers: &mut [u64]) -> Verdict {
        if (peers.len() as u64) < self.min_peers {
            return Verdict::TooFewPeers;
        }
        let median = median(peers);
        // a median below 1 counts as 1, so a first few customers are never "infinitely" many
        let base = median.max(1.0);
        let ratio = value as f64 / base;
        let needed = (self.ratio * base).max(median + self.min_excess as f64);
        if value as f64 >= needed {
            Verdict::OutOfLine(OutOfLine {
                median,
                ratio,
                peers: peers.len(),
            })
        } else {
            Verdict::Within { needed }
        }
    }
}

impl Default for PeerSignals {
    fn default() -> Self {
        Self {
            ratio: 3.0,
            min_excess: 10,
            min_peers: 3,
        }
    }
}

#[derive(Default)]
struct EmployeeDay {
    team: Option<String>,
    revealed: HashSet<String>,
    self_assigned: HashSet<String>,
    /// alert kind → decisions that raised it today
    episodes: HashMap<String, u64>,
    /// Per peer signal, the value at which to compare with the peers again: the median of
    /// a team only moves slowly, and comparing costs a pass over the team.
    recheck_at: [u64; 2],
}

/// Compare with the peers at least this often (new peers can lower the median).
const RECHECK_EVERY: u64 = 8;

#[derive(Default)]
struct State {
    /// (day, employee) → today
    days: HashMap<(i64, String), EmployeeDay>,
    /// (day, team) → employees active
    teams: HashMap<(i64, String), Vec<String>>,
    latest_day: i64,
}

pub(crate) struct Detector {
    state: Mutex<State>,
    peers: PeerSignals,
}

impl Detector {
    pub(crate) fn new(peers: PeerSignals) -> Self {
        Self {
            state: Mutex::new(State::default()),
            peers,
        }
    }

    /// Adds the peer signals to `d`'s alerts and numbers every alert within its episode.
    pub(crate) fn observe(&self, req: &AccessRequest, d: &mut Decision) {
        let day = d.at.millis().div_euclid(86_400_000);
        let revealed = d.fields.keys().any(|f| d.enforced(f) == Outcome::Reveal);
        let mut s = self.state.lock();
        if day > s.latest_day {
            // two days are kept: yesterday's late decisions still land in theirs
            s.latest_day = day;
            s.days.retain(|(d, _), _| *d >= day - 1);
            s.teams.retain(|(d, _), _| *d >= day - 1);
        }
        let key = (day, d.employee.clone());
        if !s.days.contains_key(&key) {
            let team = req.employee.teams.first().cloned();
            if let Some(t) = &team {
                s.teams
                    .entry((day, t.clone()))
                    .or_default()
                    .push(d.employee.clone());
            }
            s.days.insert(
                key.clone(),
                EmployeeDay {
                    team,
                    ..EmployeeDay::default()
                },
            );
        }
        if revealed {
            if let Some(me) = s.days.get_mut(&key) {
                me.revealed.insert(d.customer.clone());
                if req.self_assigned() {
                    me.self_assigned.insert(d.customer.clone());
                }
            }
            for (i, signal) in [(0, signals::REVEAL_VOLUME), (1, signals::SELF_ASSIGNED)] {
                let (fired, recheck) = self.peer_check(&s, &key, signal);
                if let (Some(me), Some(at)) = (s.days.get_mut(&key), recheck) {
                    if let Some(slot) = me.recheck_at.get_mut(i) {
                        *slot = at;
                    }
                }
                if let Some(message) = fired {
                    d.alerts.push(Alert {
                        kind: signal.to_owned(),
                        message,
                        severity: Severity::Medium,
                        occurrence: 0,
                    });
                }
            }
        }
        let Some(me) = s.days.get_mut(&key) else {
            return;
        };
        for a in &mut d.alerts {
            let n = me.episodes.entry(a.kind.clone()).or_default();
            *n += 1;
            a.occurrence = *n;
            a.severity = a.severity.max(severity(&a.kind, *n));
        }
    }

    /// The message of a peer signal that fires now (once a day), if it does, and the value
    /// at which to compare again when it was compared and did not.
    fn peer_check(
        &self,
        s: &State,
        key: &(i64, String),
        signal: &str,
    ) -> (Option<String>, Option<u64>) {
        let Some(me) = s.days.get(key) else {
            return (None, None);
        };
        let value_of = |d: &EmployeeDay| match signal {
            signals::REVEAL_VOLUME => d.revealed.len() as u64,
            _ => d.self_assigned.len() as u64,
        };
        let value = value_of(me);
        let slot = usize::from(signal == signals::SELF_ASSIGNED);
        if me.episodes.contains_key(signal)
            || value < self.peers.min_excess
            || value < me.recheck_at.get(slot).copied().unwrap_or(0)
        {
            return (None, None);
        }
        let Some(team) = me.team.as_ref() else {
            return (None, None);
        };
        let mut peers: Vec<u64> = s
            .teams
            .get(&(key.0, team.clone()))
            .into_iter()
            .flatten()
            .filter(|e| **e != key.1)
            .filter_map(|e| s.days.get(&(key.0, e.clone())).map(value_of))
            .collect();
        let recheck = value + RECHECK_EVERY;
        match self.peers.judge(value, &mut peers) {
            Verdict::TooFewPeers => (None, Some(recheck)),
            Verdict::Within { needed } => (None, Some(recheck.min(needed.ceil() as u64))),
            Verdict::OutOfLine(o) => (Some(o.explain(signal, value, team)), None),
        }
    }
}

/// The median of `v` (0 for none).
pub fn median(v: &mut [u64]) -> f64 {
    v.sort_unstable();
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(0) as f64,
        n => {
            let a = v.get(n / 2 - 1).copied().unwrap_or(0);
            let b = v.get(n / 2).copied().unwrap_or(0);
            (a + b) as f64 / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_and_news() {
        assert_eq!(median(&mut [5, 1, 3]), 3.0);
        assert_eq!(median(&mut [4, 1, 3, 2]), 2.5);
        assert_eq!(median(&mut []), 0.0);
        assert_eq!(severity("canary", 1), Severity::High);
        assert_eq!(severity("velocity_soft", 50), Severity::Info);
        assert_eq!(severity("off_shift", 1), Severity::Low);
        assert_eq!(severity("off_shift", REPEATED), Severity::Medium);
        let alert = |kind: &str, occurrence: u64| Alert {
            kind: kind.into(),
            message: String::new(),
            severity: severity(kind, occurrence),
            occurrence,
        };
        assert!(alert("off_shift", 1).is_news());
        assert!(!alert("off_shift", 2).is_news());
        assert!(alert("off_shift", REPEATED).is_news());
        assert!(!alert("canary", REPEATED).is_news());
    }
}
