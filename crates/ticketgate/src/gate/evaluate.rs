//! Per-field evaluation: the reveal action of a field and, if refused, its mask action;
//! any evaluation error withholds the field (fail closed). The questions are answered by
//! the pack's plan where it has one (field-independent policies evaluated once per
//! decision), else by asking Cedar each time.

use super::{alerts, Gate};
use crate::cedar::{Prepared, VelocityCtx};
use crate::decision::{FieldDecision, Outcome};
use crate::model::{AccessRequest, Grant, Intent};
use crate::pack::FieldActions;
use crate::pack::PolicyPack;
use crate::plan::{ask, Answer, FieldPlan, Results};
use crate::time::Timestamp;
use crate::velocity::Observation;
use cedar_policy::{Authorizer, Context, Decision as CedarDecision, PolicyId};
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
        // A preview shows at most masks and is never counted: it can add no customer to a
        // count, so a limit on reveals that would (R8) does not refuse it (nor alert on it).
        let counts = req.intent != Some(Intent::Preview);
        let vctx = VelocityCtx {
            count: obs.count,
            soft: cfg.soft,
            hard: cfg.hard,
            window_s: cfg.window_s,
            new_customer: counts && !obs.counted,
            day_count: obs.day_count,
            day_soft: cfg.day.soft,
            day_hard: cfg.day.hard,
            day_window_s: cfg.day.window_s,
            day_new_customer: counts && !obs.day_counted,
        };
        let suspended = req.employee.suspended || obs.suspended.is_some();
        // (the gate withholds from suspended employees itself as well: see `decide`)
        let prepared = match Prepared::new(pack, req, at, grant, suspended, vctx) {
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
        let authorizer = &self.inner.authorizer;
        let Some(plan) = pack.plan() else {
            return fields
                .iter()
                .map(|f| {
                    let eval = match (pack.field_actions(f), prepared.context(f)) {
                        (Some(actions), Ok(ctx)) => self.evaluate_field(
                            pack,
                            &Checks::Direct {
                                authorizer,
                                p: &prepared,
                                actions,
                                ctx,
                            },
                            f,
                            store_error,
                        ),
                        (None, _) => withheld_on_error(format!("field `{f}` is not in the pack")),
                        (_, Err(e)) => withheld_on_error(e),
                    };
                    (f.clone(), eval)
                })
                .collect();
        };
        let results = prepared
            .shared_context()
            .and_then(|ctx| plan.evaluate(authorizer, prepared.target(pack.any_action()), ctx));
        fields
            .iter()
            .map(|f| {
                let eval = match (plan.field(f), &results) {
                    (Some(field), Ok(results)) => self.evaluate_field(
                        pack,
                        &Checks::Planned { field, results },
                        f,
                        store_error,
                    ),
                    (None, _) => withheld_on_error(format!("field `{f}` is not in the pack")),
                    (_, Err(e)) => withheld_on_error(e.clone()),
                };
                (f.clone(), eval)
            })
            .collect()
    }

    fn evaluate_field(
        &self,
        pack: &PolicyPack,
        checks: &Checks<'_>,
        field: &str,
        store_error: Option<&str>,
    ) -> FieldEval {
        let mut alerts = Vec::new();
        let mut refused_by: BTreeSet<String> = BTreeSet::new();
        let mut errors = Vec::new();
        match store_error {
            Some(e) => errors.push(e.to_owned()),
            None => match checks.check(true, false) {
                (CedarDecision::Allow, ids, _) => {
                    alerts.extend(alerts::policy_alerts(pack, &ids, "reveal", field, true));
                    return FieldEval {
                        decision: FieldDecision {
                            outcome: Outcome::Reveal,
                            policies: ids.iter().map(id_str).collect(),
                            errors: Vec::new(),
                        },
                        alerts,
                    };
                }
                (CedarDecision::Deny, ids, errs) if !errs.is_empty() => {
                    return FieldEval {
                        decision: FieldDecision {
                            outcome: Outcome::Withhold,
                            policies: ids.iter().map(id_str).collect(),
                            errors: errs,
                        },
                        alerts,
                    };
                }
                (CedarDecision::Deny, ids, _) => {
                    let would =
                        !ids.is_empty() && checks.check(true, true).0 == CedarDecision::Allow;
                    alerts.extend(alerts::policy_alerts(pack, &ids, "reveal", field, would));
                    refused_by.extend(ids.iter().map(id_str));
                }
            },
        }
        let (outcome, policies) = match checks.check(false, false) {
            (_, ids, errs) if !errs.is_empty() => {
                errors.extend(errs);
                refused_by.extend(ids.iter().map(id_str));
                (Outcome::Withhold, refused_by)
            }
            (CedarDecision::Allow, ids, _) => {
                // a mask is determined by what refused the reveal and what permits the mask
                alerts.extend(alerts::policy_alerts(pack, &ids, "mask", field, true));
                refused_by.extend(ids.iter().map(id_str));
                (Outcome::Mask, refused_by)
            }
            (CedarDecision::Deny, ids, _) => {
                let would = !ids.is_empty() && checks.check(false, true).0 == CedarDecision::Allow;
                alerts.extend(alerts::policy_alerts(pack, &ids, "mask", field, would));
                refused_by.extend(ids.iter().map(id_str));
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
}

/// How a field's Cedar questions are answered: asked directly, or read from the plan's
/// one evaluation (see [`crate::plan`]); both give the same answers.
enum Checks<'a> {
    Direct {
        authorizer: &'a Authorizer,
        p: &'a Prepared,
        actions: &'a FieldActions,
        ctx: Context,
    },
    Planned {
        field: &'a FieldPlan,
        results: &'a Results,
    },
}

impl Checks<'_> {
    /// Cedar's answer for the field's reveal (or mask) action, from its slice of the pack
    /// or, to tell whether a forbid was decisive, from the permits of that slice alone.
    fn check(&self, reveal: bool, permits_only: bool) -> Answer {
        match self {
            Self::Direct {
                authorizer,
                p,
                actions,
                ctx,
            } => {
                let (action, set) = match (reveal, permits_only) {
                    (true, false) => (&actions.reveal, &actions.reveal_policies),
                    (true, true) => (&actions.reveal, &actions.reveal_permits),
                    (false, false) => (&actions.mask, &actions.mask_policies),
                    (false, true) => (&actions.mask, &actions.mask_permits),
                };
                ask(authorizer, set, p.target(action), ctx.clone())
                    .unwrap_or_else(|e| (CedarDecision::Deny, Vec::new(), vec![e]))
            }
            Self::Planned { field, results } => field.answer(reveal, permits_only, results),
        }
    }
}

/// The `@id` as written (`PolicyId`'s `Display` escapes it, and costs more).
fn id_str(id: &PolicyId) -> String {
    AsRef::<str>::as_ref(id).to_owned()
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
