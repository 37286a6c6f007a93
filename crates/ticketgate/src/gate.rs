//! The gate: takes an access request and decides each field, with velocity, grants,
//! suspensions, alerts and (when configured) the audit log.

use crate::alert::{AlertSink, DeliveryStats, Dispatcher};
use crate::audit::{AuditLog, AuditOptions};
use crate::cedar::{EntityCache, Prepared, VelocityCtx};
use crate::decision::{Alert, Decision, FieldDecision, Mode, Outcome, VelocityInfo};
use crate::error::{InvalidRequest, Result};
use crate::forensics;
use crate::grant::GrantKey;
use crate::mask;
use crate::model::{AccessRequest, Grant, GrantKind, Purpose};
use crate::pack::PolicyPack;
use crate::time::Timestamp;
use crate::velocity::{MemoryStore, Observation, Suspension, VelocityConfig, VelocityStore};
use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, EntityUid, PolicyId, PolicySet, Request,
};
use parking_lot::RwLock;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// Decides, per contact field, what an employee may see. Cheap to clone and share.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    pack: RwLock<PolicyPack>,
    authorizer: Authorizer,
    store: Arc<dyn VelocityStore>,
    velocity: VelocityConfig,
    mode: Mode,
    grant_key: GrantKey,
    alerts: Option<Dispatcher>,
    audit: Option<AuditLog>,
    entities: EntityCache,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("pack", &*self.inner.pack.read())
            .field("store", &self.inner.store)
            .field("velocity", &self.inner.velocity)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Gate`].
#[derive(Default)]
pub struct GateBuilder {
    pack: Option<PolicyPack>,
    store: Option<Arc<dyn VelocityStore>>,
    velocity: VelocityConfig,
    mode: Mode,
    grant_key: Option<GrantKey>,
    sink: Option<Arc<dyn AlertSink>>,
    audit: Option<AuditOptions>,
}

impl fmt::Debug for GateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateBuilder").finish_non_exhaustive()
    }
}

impl GateBuilder {
    /// The policy pack (default: the embedded pack).
    pub fn pack(mut self, pack: PolicyPack) -> Self {
        self.pack = Some(pack);
        self
    }

    /// Where velocity counts and suspensions live (default: in memory).
    pub fn store(mut self, store: Arc<dyn VelocityStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Velocity window and limits (default: 60 min, soft 15, hard 30).
    pub fn velocity(mut self, config: VelocityConfig) -> Self {
        self.velocity = config;
        self
    }

    /// Enforce (default) or shadow: compute, audit and alert, but refuse nothing.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Key that signs and verifies grants (default: random, this process only).
    pub fn grant_key(mut self, key: GrantKey) -> Self {
        self.grant_key = Some(key);
        self
    }

    /// Receives every alert, off the deciding thread.
    pub fn on_alert(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Records every decision in a hash-chained audit log.
    pub fn audit_log(mut self, options: AuditOptions) -> Self {
        self.audit = Some(options);
        self
    }

    /// Builds the gate; fails when the velocity limits or audit log are unusable.
    pub fn build(self) -> Result<Gate> {
        let v = self.velocity;
        if v.window_s == 0 || v.hard == 0 || v.soft > v.hard {
            return Err(InvalidRequest::new(
                "velocity",
                "needs window_s > 0, hard > 0 and soft <= hard",
            )
            .into());
        }
        let audit = self.audit.map(AuditLog::open).transpose()?;
        Ok(Gate {
            inner: Arc::new(Inner {
                pack: RwLock::new(self.pack.unwrap_or_default()),
                authorizer: Authorizer::new(),
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                velocity: v,
                mode: self.mode,
                grant_key: self.grant_key.unwrap_or_else(GrantKey::random),
                alerts: self.sink.map(Dispatcher::new),
                audit,
                entities: EntityCache::default(),
            }),
        })
    }
}

/// A contact record with the decision applied, and the decision itself.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Revealed values as they are, masked values masked, withheld values null,
    /// keys that are not fields of the pack untouched.
    pub record: Map<String, Value>,
    /// The decision that was applied.
    pub decision: Decision,
}

struct FieldEval {
    decision: FieldDecision,
    /// alert kind → policy ids that raised it
    alerts: Vec<(String, String)>,
}

impl Gate {
    /// A builder with the defaults.
    pub fn builder() -> GateBuilder {
        GateBuilder::default()
    }

    /// The pack currently deciding.
    pub fn pack(&self) -> PolicyPack {
        self.inner.pack.read().clone()
    }

    /// Version of the pack currently deciding.
    pub fn policy_version(&self) -> String {
        self.inner.pack.read().version().to_owned()
    }

    /// Enforce or shadow.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The velocity limits in force.
    pub fn velocity_config(&self) -> VelocityConfig {
        self.inner.velocity
    }

    /// Swaps in a new pack atomically. Packs are validated when built, so an invalid
    /// pack never reaches here; use [`Gate::reload_dir`] to load and swap in one step.
    pub fn reload(&self, pack: PolicyPack) -> String {
        let v = pack.version().to_owned();
        *self.inner.pack.write() = pack;
        v
    }

    /// Loads a pack from a directory and swaps it in; on error the old pack keeps serving.
    pub fn reload_dir(&self, dir: impl AsRef<std::path::Path>) -> Result<String> {
        let pack = PolicyPack::from_dir(dir)?;
        Ok(self.reload(pack))
    }

    /// Suspends an employee (the kill switch): every field withheld, grants included.
    pub fn suspend(&self, employee: &str, reason: &str) -> Result<()> {
        if employee.is_empty() {
            return Err(InvalidRequest::new("employee", "must not be empty").into());
        }
        self.inner
            .store
            .suspend(employee, reason, Timestamp::now())?;
        if let Some(a) = &self.inner.audit {
            a.append_event("suspend", employee, reason)?;
        }
        Ok(())
    }

    /// Lifts a suspension; returns whether there was one.
    pub fn reinstate(&self, employee: &str) -> Result<bool> {
        let had = self.inner.store.reinstate(employee)?;
        if let Some(a) = &self.inner.audit {
            a.append_event("reinstate", employee, "")?;
        }
        Ok(had)
    }

    /// Current suspensions.
    pub fn suspended(&self) -> Result<Vec<Suspension>> {
        Ok(self.inner.store.suspended()?)
    }

    /// Records a past reveal of `customer` to `employee` at `at`, so a restarted
    /// service (or a test) starts from the right velocity count.
    pub fn record_reveal(&self, employee: &str, customer: &str, at: Timestamp) -> Result<()> {
        Ok(self
            .inner
            .store
            .record(employee, customer, at, self.inner.velocity.window_ms())?)
    }

    /// Signs a grant so that gates holding the same key honour it.
    pub fn sign_grant(&self, grant: Grant) -> Grant {
        self.inner.grant_key.sign(grant)
    }

    /// Alert deliveries that failed or were dropped.
    pub fn alert_stats(&self) -> Option<&DeliveryStats> {
        self.inner.alerts.as_ref().map(|d| &*d.stats)
    }

    /// The audit log, when configured.
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.inner.audit.as_ref()
    }

    fn audit_read(&self, reader: &str, query: &str) -> Result<Vec<forensics::Record>> {
        let log = self
            .audit_log()
            .ok_or_else(|| InvalidRequest::new("audit_log", "this gate has no audit log"))?;
        Ok(log.read_as(reader, query)?)
    }

    /// Customers with any field revealed to `employee` in `[since, until)`: the
    /// breach-notification list. The read is itself audited as done by `reader`.
    pub fn audit_affected(
        &self,
        reader: &str,
        employee: &str,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Vec<forensics::Affected>> {
        let records = self.audit_read(reader, &format!("affected employee={employee}"))?;
        Ok(forensics::affected(&records, employee, since, until))
    }

    /// Every decision about `customer`. The read is itself audited as done by `reader`.
    pub fn audit_customer(&self, reader: &str, customer: &str) -> Result<Vec<forensics::Access>> {
        let records = self.audit_read(reader, &format!("customer {customer}"))?;
        Ok(forensics::customer_accesses(&records, customer))
    }

    /// Decides every asked field of `req`.
    pub fn decide(&self, req: &AccessRequest) -> Result<Decision> {
        let pack = self.pack();
        let at = req.at.unwrap_or_else(Timestamp::now);
        req.check(at)?;
        let fields = requested_fields(&pack, req)?;
        let mut alerts: Vec<(String, String)> = Vec::new();
        let grant = self.verified_grant(req, &mut alerts);
        if req.purpose == Purpose::Support && req.ticket.is_none() && !fields.is_empty() {
            alerts.push((
                "no_ticket".into(),
                "contact data asked for support without a ticket".into(),
            ));
        }
        let cfg = self.inner.velocity;
        let mut evals: Vec<(String, FieldEval)> = Vec::new();
        let mut failure: Option<String> = None;
        let admitted = self.inner.store.admit(
            &req.employee.id,
            &req.customer.id,
            at,
            cfg.window_ms(),
            &mut |obs: &Observation| {
                evals = self.evaluate(&pack, req, at, grant, &fields, obs, None);
                evals
                    .iter()
                    .any(|(_, e)| e.decision.outcome == Outcome::Reveal)
            },
        );
        let velocity = match admitted {
            Ok(obs) => {
                let revealed = evals
                    .iter()
                    .any(|(_, e)| e.decision.outcome == Outcome::Reveal);
                if let Some(reason) = &obs.suspended {
                    alerts.push((
                        "suspended".into(),
                        format!("suspended through the kill switch: {reason}"),
                    ));
                }
                let count = obs.count + u64::from(obs.counted || revealed);
                Some(VelocityInfo {
                    count,
                    soft: cfg.soft,
                    hard: cfg.hard,
                    window_s: cfg.window_s,
                })
            }
            Err(e) => {
                let msg = e.to_string();
                // Without the store, counts and suspensions are unknown: no reveal, but
                // masks are still served so that support work can go on.
                evals = self.evaluate(
                    &pack,
                    req,
                    at,
                    grant,
                    &fields,
                    &Observation::default(),
                    Some(&msg),
                );
                failure = Some(msg);
                None
            }
        };
        if req.employee.suspended {
            alerts.push((
                "suspended".into(),
                "the employee is marked suspended".into(),
            ));
        }
        if let Some(v) = velocity {
            if v.count >= v.soft {
                alerts.push((
                    "velocity_soft".into(),
                    format!(
                        "{} distinct customers revealed in {} s (soft limit {})",
                        v.count, v.window_s, v.soft
                    ),
                ));
            }
        }
        if let Some(msg) = &failure {
            alerts.push(("store_unavailable".into(), msg.clone()));
        }
        let mut field_map = BTreeMap::new();
        for (f, e) in evals {
            alerts.extend(e.alerts);
            field_map.insert(f, e.decision);
        }
        let mut decision = Decision {
            decision_id: uuid::Uuid::now_v7().to_string(),
            at,
            employee: req.employee.id.clone(),
            customer: req.customer.id.clone(),
            ticket: req.ticket.as_ref().map(|t| t.id.clone()),
            grant: req.grant.as_ref().map(|g| g.id.clone()),
            purpose: req.purpose,
            policy_version: pack.version().to_owned(),
            fields: field_map,
            alerts: merge_alerts(alerts),
            velocity,
            would_enforce: None,
        };
        if self.inner.mode == Mode::Shadow {
            decision.would_enforce = Some(
                decision
                    .fields
                    .iter()
                    .map(|(k, f)| (k.clone(), f.outcome))
                    .collect(),
            );
            for f in decision.fields.values_mut() {
                f.outcome = Outcome::Reveal;
            }
        }
        if let Some(audit) = &self.inner.audit {
            // No record, no reveal: the caller gets an error instead of the data.
            audit.append_decision(&decision, req)?;
        }
        if let Some(d) = &self.inner.alerts {
            d.send(&decision);
        }
        Ok(decision)
    }

    /// Decides many requests; each gets its own result.
    pub fn decide_many(&self, reqs: &[AccessRequest]) -> Vec<Result<Decision>> {
        reqs.iter().map(|r| self.decide(r)).collect()
    }

    /// Decides `req` and applies the outcome to a contact record.
    pub fn view(&self, req: &AccessRequest, record: &Map<String, Value>) -> Result<View> {
        let pack = self.pack();
        check_record(&pack, record)?;
        let decision = self.decide(req)?;
        let record = apply(&pack, &decision, record);
        Ok(View { record, decision })
    }

    /// [`Gate::view`] for many (request, record) pairs.
    pub fn view_many(&self, items: &[(AccessRequest, Map<String, Value>)]) -> Vec<Result<View>> {
        items.iter().map(|(r, rec)| self.view(r, rec)).collect()
    }

    fn verified_grant<'r>(
        &self,
        req: &'r AccessRequest,
        alerts: &mut Vec<(String, String)>,
    ) -> Option<&'r Grant> {
        let g = req.grant.as_ref()?;
        if !self.inner.grant_key.verify(g) {
            alerts.push((
                "grant_invalid".into(),
                format!("grant `{}` has no valid signature and was ignored", g.id),
            ));
            return None;
        }
        if g.kind == GrantKind::BreakGlass {
            alerts.push((
                "break_glass".into(),
                format!(
                    "break-glass grant `{}` (incident {}): {}",
                    g.id,
                    g.incident.as_deref().unwrap_or("none"),
                    g.reason
                ),
            ));
        }
        Some(g)
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate(
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
                    alerts.extend(policy_alerts(pack, &ids, "reveal", field, true));
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
                    alerts.extend(policy_alerts(pack, &ids, "reveal", field, would));
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
                    alerts.extend(policy_alerts(pack, &ids, "mask", field, true));
                    refused_by.extend(ids.iter().map(ToString::to_string));
                    (Outcome::Mask, refused_by)
                }
                Ok((CedarDecision::Deny, ids, _)) => {
                    let would = !ids.is_empty()
                        && self.would_permit(p, &actions.mask, &actions.mask_permits, &ctx);
                    alerts.extend(policy_alerts(pack, &ids, "mask", field, would));
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

fn withheld_on_error(e: String) -> FieldEval {
    FieldEval {
        decision: FieldDecision {
            outcome: Outcome::Withhold,
            policies: Vec::new(),
            errors: vec![e],
        },
        alerts: Vec::new(),
    }
}

/// Alerts named by the policies that decided; `decisive` says whether the outcome they
/// caused differs from what the permits alone would give (always true for permits).
fn policy_alerts(
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
                .map(|rule| (rule.kind.clone(), format!("{id}: {verb} {field}")))
        })
        .collect()
}

/// One alert per kind, its message listing what raised it.
fn merge_alerts(raw: Vec<(String, String)>) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for (kind, message) in raw {
        match out.iter_mut().find(|a| a.kind == kind) {
            Some(a) => {
                if !a.message.contains(&message) {
                    a.message.push_str("; ");
                    a.message.push_str(&message);
                }
            }
            None => out.push(Alert { kind, message }),
        }
    }
    out
}

fn requested_fields(pack: &PolicyPack, req: &AccessRequest) -> Result<Vec<String>, InvalidRequest> {
    let known = pack.fields();
    let unknown = |key: String, f: &str| {
        InvalidRequest::new(
            key,
            format!("unknown field `{f}`; the pack decides {}", known.join(", ")),
        )
    };
    if let Some(g) = &req.grant {
        for (i, f) in g.fields.iter().enumerate() {
            if !known.contains(f) {
                return Err(unknown(format!("grant.fields[{i}]"), f));
            }
        }
    }
    match &req.fields {
        None => Ok(known.to_vec()),
        Some(asked) => {
            let mut out: Vec<String> = Vec::with_capacity(asked.len());
            for (i, f) in asked.iter().enumerate() {
                if !known.contains(f) {
                    return Err(unknown(format!("fields[{i}]"), f));
                }
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
            Ok(out)
        }
    }
}

fn check_record(pack: &PolicyPack, record: &Map<String, Value>) -> Result<(), InvalidRequest> {
    for f in pack.fields() {
        match record.get(f) {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
            Some(_) => {
                return Err(InvalidRequest::new(
                    format!("record.{f}"),
                    "must be a string, a list of strings or null",
                ))
            }
        }
    }
    Ok(())
}

fn apply(pack: &PolicyPack, d: &Decision, record: &Map<String, Value>) -> Map<String, Value> {
    let mut out = record.clone();
    for f in pack.fields() {
        let Some(v) = out.get_mut(f) else { continue };
        match d.outcome(f) {
            Outcome::Reveal => {}
            Outcome::Withhold => *v = Value::Null,
            Outcome::Mask => {
                *v = match v.take() {
                    Value::String(s) => Value::String(mask::mask_str(f, &s)),
                    Value::Array(items) => Value::Array(
                        items
                            .into_iter()
                            .map(|i| match i {
                                Value::String(s) => Value::String(mask::mask_str(f, &s)),
                                _ => Value::Null,
                            })
                            .collect(),
                    ),
                    _ => Value::Null,
                }
            }
        }
    }
    out
}
