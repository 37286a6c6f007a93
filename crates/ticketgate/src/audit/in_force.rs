//! What a trail leaves in force: the suspensions not lifted since, the grants revoked, and
//! each employee's recent reveals. A velocity store that forgot them (the memory store, on
//! every restart) gets them back from here, so a deploy neither lifts a kill switch nor
//! hands anyone a fresh velocity window.

use super::query::{for_each_record_present, whole, Numbered};
use super::record::{self, kind, ChainKey};
use crate::decision::Outcome;
use crate::error::AuditError;
use crate::time::Timestamp;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// The keys of a record that decide what it leaves in force. A restart reads the whole
/// trail, and reading every decision whole (its policies, errors, alerts, velocity) was
/// most of that time; the rest of a line is passed over (still checked as JSON).
#[derive(Deserialize)]
struct Brief {
    seq: u64,
    kind: String,
    #[serde(default)]
    decision: Option<BriefDecision>,
    #[serde(default)]
    at: Option<Timestamp>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// Of a decision: who saw whom, when, and whether any field was revealed.
#[derive(Deserialize)]
struct BriefDecision {
    at: Timestamp,
    employee: String,
    customer: String,
    #[serde(rename = "fields", deserialize_with = "any_revealed")]
    revealed: bool,
}

/// A line as a restart reads it.
enum Line {
    /// A decision older than the window: only its number and time are read, from the
    /// opening of its line ([`record::decision_seq_and_at`]); the rest cannot matter.
    Old { seq: u64, at: Timestamp },
    /// Anything else, read as far as [`Brief`] goes.
    Read(Brief),
}

impl Numbered for Line {
    fn seq(&self) -> u64 {
        match self {
            Line::Old { seq, .. } => *seq,
            Line::Read(b) => b.seq,
        }
    }
}

/// Whether any field's `outcome` is `reveal`, read without keeping the fields.
fn any_revealed<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    struct Field {
        outcome: Outcome,
    }
    struct Fields;
    impl<'de> Visitor<'de> for Fields {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of field decisions")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut any = false;
            while let Some((IgnoredAny, field)) = map.next_entry::<IgnoredAny, Field>()? {
                any |= field.outcome == Outcome::Reveal;
            }
            Ok(any)
        }
    }
    d.deserialize_map(Fields)
}

/// What the trail leaves in force.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct InForce {
    /// Employees suspended and not reinstated since: when, and why.
    pub suspended: BTreeMap<String, (Timestamp, String)>,
    /// Grants revoked, and when (the latest revocation of each).
    pub revoked: BTreeMap<String, Timestamp>,
    /// The last reveal of each `(employee, customer)` within the window before the
    /// reference instant.
    pub reveals: HashMap<(String, String), Timestamp>,
    /// The latest decision's `at`.
    pub latest: Option<Timestamp>,
    /// What was passed over: a gap in a segment's numbering (a file archived away, records
    /// cut out), a line that is not a record, a file that cannot be read, and a
    /// reinstatement whose hash does not verify under the key (it would lift a suspension:
    /// one written by whoever can write the file but lacks the key).
    pub skipped: Vec<String>,
}

/// Reads what the trail `paths` (files or directories, every segment) leaves in force;
/// reveals are kept from `window_ms` before `now`, or before the latest decision when
/// `now` is `None` (a replay trail keeps its own time). Events count in time order across
/// segments (each segment is in order already; a tie goes to the later-read record). Unlike
/// a forensic query, a gap, a damaged line or an unreadable file does not stop the read:
/// what is present is still in force.
/// Records that restrict count as read; a reinstatement only if it verifies under `key`.
pub fn in_force(
    paths: &[PathBuf],
    key: &ChainKey,
    window_ms: i64,
    now: Option<Timestamp>,
) -> Result<InForce, AuditError> {
    let mut out = InForce::default();
    let mut suspensions: BTreeMap<String, (Timestamp, Option<String>)> = BTreeMap::new();
    let mut read = 0usize;
    let mut skipped = Vec::new();
    // a replay trail's window is known only at its end: every decision is read
    let before = now.map(|n| n.millis().saturating_sub(window_ms));
    let skim = |line: &str| match (before, record::decision_seq_and_at(line)) {
        (Some(before), Some((seq, at))) if at.millis() < before => Ok(Line::Old { seq, at }),
        _ => whole(line).map(Line::Read),
    };
    let mut each = |l: Line, line: &str| {
        let r = match l {
            Line::Old { at, .. } => {
                out.latest = out.latest.max(Some(at));
                return;
            }
            Line::Read(r) => r,
        };
        let at = r.decision.as_ref().map(|d| d.at).or(r.at);
        match (r.kind.as_str(), r.decision, r.subject, at) {
            (kind::DECISION, Some(d), _, _) => {
                out.latest = out.latest.max(Some(d.at));
                if !d.revealed {
                    return;
                }
                let last = out.reveals.entry((d.employee, d.customer)).or_insert(d.at);
                *last = (*last).max(d.at);
                read += 1;
                // a replay trail's window is known at its end: what is already older than
                // the window before the latest decision so far can only be older still
                if now.is_none() && read.is_multiple_of(1 << 16) {
                    keep_within(&mut out.reveals, out.latest, window_ms);
                }
            }
            (kind::REINSTATE, _, Some(employee), Some(_))
                if !record::parse(line).is_ok_and(|p| p.hash_ok(key)) =>
            {
                let why = "does not verify under the audit key: not honoured";
                skipped.push(format!(
                    "record {}: a reinstatement of `{employee}` {why}",
                    r.seq
                ));
            }
            (kind::SUSPEND | kind::REINSTATE, _, Some(employee), Some(at)) => {
                let reason = (r.kind == kind::SUSPEND).then(|| r.detail.unwrap_or_default());
                let e = suspensions.entry(employee).or_insert((at, None));
                if at >= e.0 {
                    *e = (at, reason);
                }
            }
            (kind::GRANT_REVOKED, _, Some(grant), Some(at)) => {
                let e = out.revoked.entry(grant).or_insert(at);
                *e = (*e).max(at);
            }
            _ => {}
        }
    };
    let mut gaps = Vec::new();
    for_each_record_present(paths, skim, &mut each, |g| gaps.push(g))?;
    gaps.append(&mut skipped);
    out.skipped = gaps;
    keep_within(&mut out.reveals, now.or(out.latest), window_ms);
    out.suspended = suspensions
        .into_iter()
        .filter_map(|(employee, (at, reason))| Some((employee, (at, reason?))))
        .collect();
    Ok(out)
}

fn keep_within(
    reveals: &mut HashMap<(String, String), Timestamp>,
    now: Option<Timestamp>,
    window_ms: i64,
) {
    if let Some(now) = now {
        let since = now.millis().saturating_sub(window_ms);
        reveals.retain(|_, at| at.millis() >= since);
    }
}
