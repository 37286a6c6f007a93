//! The shared test-vector format (DESIGN.md "Test vectors"): the Rust runner, used by
//! `ticketgate test` and the workspace tests. Python and Node have their own runners
//! over the same files, so all three surfaces are held to the same answers.

use crate::clock::Clock;
use crate::decision::Outcome;
use crate::error::Error;
use crate::gate::Gate;
use crate::model::AccessRequest;
use crate::pack::PolicyPack;
use crate::time::Timestamp;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Name shown in reports.
    pub name: String,
    /// The access request (snake_case).
    pub request: serde_json::Value,
    /// Distinct other customers already revealed to the employee in the window.
    #[serde(default)]
    pub velocity_count: Option<u64>,
    /// Field → expected outcome.
    #[serde(default)]
    pub expect: BTreeMap<String, Outcome>,
    /// Exactly these alert kinds (any order) when present.
    #[serde(default)]
    pub expect_alerts: Option<Vec<String>>,
    /// The error code expected instead of a decision (`InvalidRequest`, ...).
    #[serde(default)]
    pub expect_error: Option<String>,
    /// Runners sign a grant in the request through the public API unless this is false.
    #[serde(default)]
    pub sign_grant: Option<bool>,
    /// Runners revoke the request's grant through the public API before deciding.
    #[serde(default)]
    pub revoke_grant: Option<bool>,
}

/// Reads a vector file.
pub fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The error code a binding reports for an error.
pub fn error_code(e: &Error) -> &'static str {
    e.code()
}

/// Runs one case on a fresh gate over `pack`; `Err` says what differed.
pub fn run_case(pack: &PolicyPack, case: &Case) -> Result<(), String> {
    let gate = Gate::builder()
        .pack(pack.clone())
        .clock(Clock::Replay)
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = case.request.clone();
    if case.sign_grant != Some(false) {
        if let Some(g) = request.get_mut("grant").filter(|g| g.is_object()) {
            let grant = serde_json::from_value(g.clone()).map_err(|e| format!("grant: {e}"))?;
            *g = serde_json::to_value(gate.sign_grant(grant)).map_err(|e| e.to_string())?;
        }
    }
    let result = AccessRequest::from_value(request)
        .map_err(Error::from)
        .and_then(|req| {
            if case.revoke_grant == Some(true) {
                if let Some(g) = &req.grant {
                    gate.revoke_grant(&g.id)?;
                }
            }
            if let Some(n) = case.velocity_count {
                let at = req.at.unwrap_or_else(Timestamp::now);
                let before = Timestamp::from_millis(at.millis() - 60_000).unwrap_or(at);
                for i in 0..n {
                    gate.record_reveal(&req.employee.id, &format!("velocity-seed-{i}"), before)?;
                }
            }
            gate.decide(&req)
        });
    match (&case.expect_error, result) {
        (Some(code), Err(e)) if error_code(&e) == code => Ok(()),
        (Some(code), Err(e)) => Err(format!("expected {code}, got {}: {e}", error_code(&e))),
        (Some(code), Ok(_)) => Err(format!("expected {code}, got a decision")),
        (None, Err(e)) => Err(format!("unexpected {}: {e}", error_code(&e))),
        (None, Ok(d)) => {
            let mut problems = Vec::new();
            for (field, want) in &case.expect {
                let got = d.outcome(field);
                if got != *want {
                    let why = d
                        .fields
                        .get(field)
                        .map(|f| format!(" (policies {:?}, errors {:?})", f.policies, f.errors))
                        .unwrap_or_default();
                    problems.push(format!(
                        "{field}: expected {}, got {}{why}",
                        want.as_str(),
                        got.as_str()
                    ));
                }
            }
            if let Some(want) = &case.expect_alerts {
                let mut want = want.clone();
                want.sort();
                let mut got: Vec<String> = d.alerts.iter().map(|a| a.kind.clone()).collect();
                got.sort();
                if got != want {
                    problems.push(format!("alerts: expected {want:?}, got {got:?}"));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
    }
}
