//! Per-field evaluation: one Cedar check for the reveal action of a field and, if refused,
//! one for its mask action; any evaluation error withholds the field (fail closed).

use super::{alerts, Gate};
use crate::cedar::{Prepared, VelocityCtx};
use crate::decision::{FieldDecision, Outcome};
use crate::model::{AccessRequest, Grant};
use crate::pack::PolicyPack;
use crate::time::Timestamp;
use crate::velocity::Observation;
use cedar_policy::{Context, Decision as CedarDecision, EntityUid, PolicyId, PolicySet, Request};
use std::collections::BTreeSet;

pub(super) struct FieldEval {
    pub(super) decision: FieldDecision,
    /// (alert kind, message)
    pub(super) alerts: Vec<(String, String)>,
}

impl Gate {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn evaluate(
        &self,
        pack: &PolicyPack,
        req: &AccessRequest,
        at: Timestamp,
        grant: Option<&Grant>,
        fields: &[String],
        obs: &Observation,
        store_error: Option<&str>,
    ) -> Vec<(String, FieldEval)> {
        let cfg = self.inner.velocity;
        let vctx = VelocityCtx {
            count: obs.count,
            soft: cfg.soft,
            hard: cfg.hard,
            window_s: cfg.window_s,
            new_customer: !obs.counted,
        };
        let suspended = req.employee.suspended || obs.suspended.is_some();
        // (the gate withholds from suspended employees itself as well: see `decide`)
        let prepared =
            match Prepared::new(pack, &self.inner.entities, req, at, grant, suspended, vctx) {
                Ok(p) => p,
                Err(e) => {
                    return fields
                        .iter()
                        .map(|f| {
                            (
                                f.clone(),
                                withheld_on_error(format!("building the request: {e}")),
                            )
                        })
                        .collect()
                }
            };
        fields
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    self.evaluate_field(pack, &prepared, f, store_error),
                )
            })
            .collect()
    }

    fn evaluate_field(
        &self,
        pack: &PolicyPack,
        p: &Prepared,
        field: &str,
        store_error: Option<&str>,
    ) -> FieldEval {
        let Some(actions) = pack.field_actions(field) else {
            return withheld_on_error(format!("field `{field}` is not in the pack"));
        };
        let mut alerts = Vec::new();
        let mut refused_by: BTreeSet<String> = BTreeSet::new();
        let mut errors = Vec::new();
        let ctx = match p.context(field) {
            Ok(c) => c,
            Err(e) => return withheld_on_error(e),
        };
        match store_error {
            Some(e) => errors.push(e.to_owned()),
            None => match self.check(p, &actions.reveal, &actions.reveal_policies, ctx.clone()) {
                Err(e) => return withheld_on_error(e),
                Ok((CedarDecision::Allow, ids, _)) => {
                    alerts.extend(alerts::policy_alerts(pack, &ids, "reveal", field, true));
                    return FieldEval {
                        decision: FieldDecision {
                            outcome: Outcome::Reveal,
                            policies: ids.iter().map(ToString::to_string).collect(),
                            errors: Vec::new(),
                        },
                        alerts,
                    };
                }
                Ok((CedarDecision::Deny, ids, errs)) if !errs.is_empty() => {
                    return FieldEval {
                        decision: FieldDecision {
                            outcome: Outcome::Withhold,
                            policies: ids.iter().map(ToString::to_string).collect(),
                            errors: errs,
                        },
                        alerts,
                    };
                }
                Ok((CedarDecision::Deny, ids, _)) => {
                    let would = !ids.is_empty()
                        && self.would_permit(p, &actions.reveal, &actions.reveal_permits, &ctx);
                    alerts.extend(alerts::policy_alerts(pack, &ids, "reveal", field, would));
                    refused_by.extend(ids.iter().map(ToString::to_string));
                }
            },
        }
        let (outcome, policies) =
            match self.check(p, &actions.mask, &actions.mask_policies, ctx.clone()) {
                Err(e) => {
                    errors.push(e);
                    (Outcome::Withhold, refused_by)
                }
                Ok((_, ids, errs)) if !errs.is_empty() => {
                    errors.extend(errs);
                    refused_by.extend(ids.iter().map(ToString::to_string));
                    (Outcome::Withhold, refused_by)
                }
                Ok((CedarDecision::Allow, ids, _)) => {
                    // a mask is determined by what refused the reveal and what permits the mask
                    alerts.extend(alerts::policy_alerts(pack, &ids, "mask", field, true));
                    refused_by.extend(ids.iter().map(ToString::to_string));
                    (Outcome::Mask, refused_by)
                }
                Ok((CedarDecision::Deny, ids, _)) => {
                    let would = !ids.is_empty()
                        && self.would_permit(p, &actions.mask, &actions.mask_permits, &ctx);
                    alerts.extend(alerts::policy_alerts(pack, &ids, "mask", field, would));
                    refused_by.extend(ids.iter().map(ToString::to_string));
                    (Outcome::Withhold, refused_by)
                }
            };
        FieldEval {
            decision: FieldDecision {
                outcome,
                policies: policies.into_iter().collect(),
                errors,
            },
            alerts,
        }
    }

    /// Whether the permits alone would have allowed `action`: a forbid's `@alert` is for
    /// refusing what would otherwise have been shown.
    fn would_permit(
        &self,
        p: &Prepared,
        action: &EntityUid,
        permits: &PolicySet,
        ctx: &Context,
    ) -> bool {
        matches!(
            self.check(p, action, permits, ctx.clone()),
            Ok((CedarDecision::Allow, _, _))
        )
    }

    /// One Cedar check. Any evaluation error is returned alongside the decision so the
    /// caller can refuse: Cedar skips an erroring forbid, which would otherwise fail open.
    fn check(
        &self,
        p: &Prepared,
        action: &EntityUid,
        policies: &PolicySet,
        ctx: Context,
    ) -> std::result::Result<(CedarDecision, Vec<PolicyId>, Vec<String>), String> {
        let request = Request::new(
            p.principal.clone(),
            action.clone(),
            p.resource.clone(),
            ctx,
            None,
        )
        .map_err(|e| e.to_string())?;
        let resp = self
            .inner
            .authorizer
            .is_authorized(&request, policies, &p.entities);
        let diag = resp.diagnostics();
        let ids: Vec<PolicyId> = diag.reason().cloned().collect();
        let errors: Vec<String> = diag.errors().map(|e| e.to_string()).collect();
        let decision = if errors.is_empty() {
            resp.decision()
        } else {
            CedarDecision::Deny
        };
        Ok((decision, ids, errors))
    }
}

pub(super) fn withheld_on_error(e: String) -> FieldEval {
    FieldEval {
        decision: FieldDecision {
            outcome: Outcome::Withhold,
            policies: Vec::new(),
            errors: vec![e],
        },
        alerts: Vec::new(),
    }
}
