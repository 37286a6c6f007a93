//! `anomalies`: who is out of line with their peers, and why, from the trail alone.
//!
//! Two kinds of findings, one row per employee, signal and UTC day (an *episode*):
//!
//! - **Alerts folded into episodes.** Every alert the gate raised is counted under its kind
//!   for that employee and day, with the severity [`crate::detect::severity`] gives it
//!   (`canary`, `break_glass`, `suspended`, `velocity_hard`: high; a refusal such as
//!   `off_shift`: low, medium once repeated; `velocity_soft`: info).
//! - **Peer baselines.** Per employee and day: distinct customers revealed
//!   (`reveal_volume`) and, of those, customers of tickets the employee had assigned to
//!   themselves (`self_assigned`). Peers are the other employees of the same first team
//!   active that day, across every segment of the trail (so across the fleet, where the
//!   gate's live signals see only their own process). A value is out of line when it is at
//!   least `ratio` times the peers' median (a median below 1 counts as 1) and at least
//!   `min_excess` above it; severity grows with the ratio (medium from `ratio`, high from
//!   twice `ratio`).
//!
//! A security team reads the rows of severity medium and high; `info` and `low` rows are
//! there for the investigator. Rows come sorted most severe first, then by excess.

use super::query::for_each_record;
use crate::decision::Outcome;
use crate::detect::{severity, signals, PeerSignals, Severity, Verdict};
use crate::error::AuditError;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// One finding: an employee, a signal and a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// Employee id.
    pub employee: String,
    /// Their first team (the peer group), if the trail names one.
    pub team: Option<String>,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// `reveal_volume`, `self_assigned`, or an alert kind.
    pub signal: String,
    /// The employee's value that day (for an alert kind: decisions that raised it).
    pub value: u64,
    /// The peers' median that day (peer signals only).
    pub peer_median: Option<f64>,
    /// How many peers were active that day (peer signals only).
    pub peers: Option<u64>,
    /// See [`Severity`].
    pub severity: Severity,
    /// The first time that day the signal was seen.
    pub first_at: Timestamp,
    /// One sentence a security analyst can act on.
    pub why: String,
}

/// The period read and the thresholds of the peer signals (the gate's live ones by default).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnomalyOptions {
    /// Only records at or after this instant.
    pub since: Option<Timestamp>,
    /// Only records before this instant.
    pub until: Option<Timestamp>,
    /// Ratio to the peers' median, excess over it and peers needed.
    pub peers: PeerSignals,
}

#[derive(Default)]
struct Day {
    team: Option<String>,
    revealed: HashSet<String>,
    self_assigned: HashSet<String>,
    first_reveal: Option<Timestamp>,
    first_self_assigned: Option<Timestamp>,
    /// alert kind → (decisions, first time)
    alerts: BTreeMap<String, (u64, Timestamp)>,
}

/// Reads the trail over the period and returns its findings, most severe first.
pub fn anomalies(paths: &[PathBuf], opts: &AnomalyOptions) -> Result<Vec<Anomaly>, AuditError> {
    let mut days: HashMap<(String, String), Day> = HashMap::new();
    for_each_record(paths, |r| {
        let Some(d) = r.decision else { return };
        if opts.since.is_some_and(|s| d.at < s) || opts.until.is_some_and(|u| d.at >= u) {
            return;
        }
        let day = d.at.to_string().get(..10).unwrap_or_default().to_owned();
        let e = days.entry((d.employee.clone(), day)).or_default();
        if e.team.is_none() {
            e.team = r.teams.first().cloned();
        }
        if d.fields.values().any(|f| f.outcome == Outcome::Reveal) {
            e.first_reveal.get_or_insert(d.at);
            e.revealed.insert(d.customer.clone());
            if r.self_assigned {
                e.first_self_assigned.get_or_insert(d.at);
                e.self_assigned.insert(d.customer.clone());
            }
        }
        for a in &d.alerts {
            let slot = e.alerts.entry(a.kind.clone()).or_insert((0, d.at));
            slot.0 += 1;
        }
    })?;
    let mut out = Vec::new();
    for ((employee, day), d) in &days {
        for (kind, (count, first)) in &d.alerts {
            // the live peer signals are recomputed below, over the whole trail
            if kind == signals::REVEAL_VOLUME || kind == signals::SELF_ASSIGNED {
                continue;
            }
            out.push(Anomaly {
                employee: employee.clone(),
                team: d.team.clone(),
                day: day.clone(),
                signal: kind.clone(),
                value: *count,
                peer_median: None,
                peers: None,
                severity: severity(kind, *count),
                first_at: *first,
                why: format!("{count} decision(s) raised `{kind}`"),
            });
        }
    }
    // peer baselines: per (team, day), the values of every active member
    let mut groups: HashMap<(&str, &str), Vec<(&str, &Day)>> = HashMap::new();
    for ((employee, day), d) in &days {
        if let Some(team) = &d.team {
            groups
                .entry((team.as_str(), day.as_str()))
                .or_default()
                .push((employee.as_str(), d));
        }
    }
    type Metric = fn(&Day) -> (u64, Option<Timestamp>);
    let metrics: [(&str, Metric); 2] = [
        (signals::REVEAL_VOLUME, |d| {
            (d.revealed.len() as u64, d.first_reveal)
        }),
        (signals::SELF_ASSIGNED, |d| {
            (d.self_assigned.len() as u64, d.first_self_assigned)
        }),
    ];
    for ((team, day), members) in &groups {
        for (signal, metric) in metrics {
            for (employee, d) in members {
                let (value, first) = metric(d);
                let Some(first_at) = first else { continue };
                let mut peers: Vec<u64> = members
                    .iter()
                    .filter(|(e, _)| e != employee)
                    .map(|(_, p)| metric(p).0)
                    .collect();
                let Verdict::OutOfLine(o) = opts.peers.judge(value, &mut peers) else {
                    continue;
                };
                out.push(Anomaly {
                    employee: (*employee).to_owned(),
                    team: Some((*team).to_owned()),
                    day: (*day).to_owned(),
                    signal: signal.to_owned(),
                    value,
                    peer_median: Some(o.median),
                    peers: Some(o.peers as u64),
                    severity: if o.ratio >= 2.0 * opts.peers.ratio {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    first_at,
                    why: o.explain(signal, value, team),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| {
                let excess = |x: &Anomaly| x.value as f64 - x.peer_median.unwrap_or(0.0);
                excess(b).total_cmp(&excess(a))
            })
            .then_with(|| a.day.cmp(&b.day))
            .then_with(|| a.employee.cmp(&b.employee))
            .then_with(|| a.signal.cmp(&b.signal))
    });
    Ok(out)
}
