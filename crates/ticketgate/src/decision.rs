//! What a gate answers: per field an outcome and the policies behind it.

use crate::model::Purpose;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What may be shown of one field.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The full value.
    Reveal,
    /// A partly hidden value.
    Mask,
    /// Nothing.
    Withhold,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Reveal => "reveal",
            Outcome::Mask => "mask",
            Outcome::Withhold => "withhold",
        }
    }
}

/// The decision on one field.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDecision {
    /// The outcome.
    pub outcome: Outcome,
    /// `@id`s of the policies that determined it: for reveal, the permits; for mask, the
    /// forbids that refused the reveal (if any) and the permits of the mask; for withhold,
    /// the forbids that refused it (empty when simply nothing permitted it).
    pub policies: Vec<String>,
    /// Evaluation or store errors; any error means withhold (fail closed).
    pub errors: Vec<String>,
}

/// Something a security team should look at.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable kind, e.g. `velocity_hard`, `off_shift`, `break_glass`.
    pub kind: String,
    /// Human-readable detail.
    pub message: String,
    /// How much it deserves a security team's attention; grows with repetition (see
    /// [`crate::detect`]).
    #[serde(default)]
    pub severity: crate::detect::Severity,
    /// Its place in its episode (this employee, this kind, this UTC day): 1 opens it. 0
    /// for an alert raised outside a decision.
    #[serde(default)]
    pub occurrence: u64,
}

/// The velocity count seen by this decision (R8).
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename = "Velocity", rename_all = "camelCase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VelocityInfo {
    /// Distinct customers revealed to the employee in the window, this one included
    /// when it was revealed now or earlier in the window.
    pub count: u64,
    /// Soft limit: decisions at or above it carry `velocity_soft`.
    pub soft: u64,
    /// Hard limit: no reveal takes the count past it.
    pub hard: u64,
    /// Window length in seconds.
    pub window_s: u64,
    /// The same over the long window.
    #[serde(default)]
    pub day: DayCount,
}

/// The long window's count and limits (see [`crate::velocity::DayLimits`]).
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayCount {
    /// Distinct customers revealed in the long window, as `count` above.
    pub count: u64,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
    /// Window length in seconds.
    pub window_s: u64,
}

/// Whether a gate enforces its decisions or only reports them (for gradual rollout).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Outcomes are what the policies decided.
    #[default]
    Enforce,
    /// Every field is revealed; `would_enforce` says what enforcement would have done.
    /// Velocity, alerts and the audit log behave as under enforcement.
    Shadow,
}

/// The answer to one access request.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Unique and time-sortable (UUID v7).
    pub decision_id: String,
    /// The instant decided for.
    pub at: Timestamp,
    /// Employee id.
    pub employee: String,
    /// Customer id.
    pub customer: String,
    /// Ticket id, if one was presented.
    pub ticket: Option<String>,
    /// Grant id, if one was presented.
    pub grant: Option<String>,
    /// The purpose asked for.
    pub purpose: Purpose,
    /// Version of the pack that decided.
    pub policy_version: String,
    /// Per field.
    pub fields: BTreeMap<String, FieldDecision>,
    /// Alerts raised.
    pub alerts: Vec<Alert>,
    /// Velocity count, when the store answered.
    pub velocity: Option<VelocityInfo>,
    /// Shadow mode only: the outcomes enforcement would have given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would_enforce: Option<BTreeMap<String, Outcome>>,
}

/// One line for logs and a REPL: `dec-… employee="e1" customer="c1" name=reveal … alerts=…`.
impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} employee={:?} customer={:?}",
            self.decision_id, self.employee, self.customer
        )?;
        for (field, d) in &self.fields {
            write!(f, " {field}={}", d.outcome.as_str())?;
        }
        let alerts: Vec<&str> = self.alerts.iter().map(|a| a.kind.as_str()).collect();
        if !alerts.is_empty() {
            write!(f, " alerts={}", alerts.join(","))?;
        }
        Ok(())
    }
}

impl Decision {
    /// The outcome for `field`; a field not decided is withheld.
    pub fn outcome(&self, field: &str) -> Outcome {
        self.fields
            .get(field)
            .map_or(Outcome::Withhold, |f| f.outcome)
    }

    /// Fields revealed in full.
    pub fn revealed(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(_, f)| f.outcome == Outcome::Reveal)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// The outcome enforcement gives (or, in shadow mode, would have given) for `field`.
    pub fn enforced(&self, field: &str) -> Outcome {
        match &self.would_enforce {
            Some(m) => m.get(field).copied().unwrap_or(Outcome::Withhold),
            None => self.outcome(field),
        }
    }

    /// Whether an alert of this kind was raised.
    pub fn has_alert(&self, kind: &str) -> bool {
        self.alerts.iter().any(|a| a.kind == kind)
    }
}
