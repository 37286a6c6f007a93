//! Alerts raised by policies (`@alert`, `@alert_always`) and merged to one per kind.

use crate::decision::Alert;
use crate::detect::Severity;
use crate::pack::PolicyPack;
use cedar_policy::PolicyId;

/// Alerts named by the policies that decided; `decisive` says whether the outcome they
/// caused differs from what the permits alone would give (always true for permits).
pub(super) fn policy_alerts(
    pack: &PolicyPack,
    ids: &[PolicyId],
    verb: &str,
    field: &str,
    decisive: bool,
) -> Vec<(String, String)> {
    ids.iter()
        .filter_map(|id| {
            pack.alert_of(id)
                .filter(|rule| rule.always || decisive)
                .map(|rule| {
                    (
                        rule.kind.clone(),
                        format!("{}: {verb} {field}", AsRef::<str>::as_ref(id)),
                    )
                })
        })
        .collect()
}

/// One alert per kind, its message listing what raised it.
pub(super) fn merge_alerts(raw: Vec<(String, String)>) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for (kind, message) in raw {
        match out.iter_mut().find(|a| a.kind == kind) {
            Some(a) => {
                if !a.message.contains(&message) {
                    a.message.push_str("; ");
                    a.message.push_str(&message);
                }
            }
            None => out.push(Alert {
                kind,
                message,
                severity: Severity::default(),
                occurrence: 0,
            }),
        }
    }
    out
}
