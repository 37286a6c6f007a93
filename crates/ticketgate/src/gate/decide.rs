//! The decide pipeline: clock and consistency checks, grant verification, velocity
//! admission, the gate's own guards (suspension, preview, shadow), alerts, audit.

use super::evaluate::FieldEval;
use super::{alerts, Gate};
use crate::alert::kinds;
use crate::clock::Clock;
use crate::decision::{DayCount, Decision, FieldDecision, Mode, Outcome, VelocityInfo};
use crate::error::{Error, InvalidRequest, Result};
use crate::model::{AccessRequest, Grant, GrantKind, Intent, Purpose};
use crate::pack::PolicyPack;
use crate::velocity::Observation;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the gate itself puts in `policies` when it withholds from a suspended employee,
/// whatever the pack says.
pub const SUSPENDED_GUARD: &str = "ticketgate:suspended";

const SWEEP_EVERY: u64 = 4096;

/// A decision whose audit record is written but maybe not yet durable.
pub(crate) struct Pending {
    pub(crate) decision: Decision,
    seq: Option<u64>,
}

impl Gate {
    /// Decides every asked field of `req`.
    pub fn decide(&self, req: &AccessRequest) -> Result<Decision> {
        let pack = self.pack();
        let mut out = self.commit(vec![self.decide_unsynced(&pack, req)]);
        out.pop()
            .unwrap_or_else(|| Err(InvalidRequest::new("", "no decision").into()))
    }

    /// Decides many requests, on all cores; each gets its own result, in order, and the
    /// audit records of the whole batch share one fsync.
    pub fn decide_many(&self, reqs: &[AccessRequest]) -> Vec<Result<Decision>> {
        let pack = self.pack();
        self.commit(parallel_map(
            reqs,
            |r| r.employee.id.as_str(),
            |r| self.decide_unsynced(&pack, r),
        ))
    }

    /// Waits for the batch's audit records to be durable, then hands out the decisions and
    /// their alerts. If the records cannot be made durable, no decision of the batch is
    /// handed out: no record, no reveal.
    pub(crate) fn commit(&self, batch: Vec<Result<Pending>>) -> Vec<Result<Decision>> {
        let last = batch
            .iter()
            .filter_map(|p| p.as_ref().ok().and_then(|p| p.seq))
            .max();
        let failure = match (&self.inner.audit, last) {
            (Some(log), Some(seq)) => log.wait_durable(seq).err(),
            _ => None,
        };
        batch
            .into_iter()
            .map(|p| {
                let p = p?;
                if let (Some(e), Some(_)) = (&failure, p.seq) {
                    return Err(Error::Audit(e.clone()));
                }
                if let Some(d) = &self.inner.alerts {
                    d.send(&p.decision);
                }
                Ok(p.decision)
            })
            .collect()
    }

    pub(crate) fn decide_unsynced(
        &self,
        pack: &PolicyPack,
        req: &AccessRequest,
    ) -> Result<Pending> {
        self.warn_if_forked();
        let clock = self.inner.clock;
        let (at, now) = clock.instants(req.at)?;
        req.check(at, clock.max_skew_ms())?;
        let fields = requested_fields(pack, req)?;
        let preview = req.intent == Some(Intent::Preview);
        let mut raw: Vec<(String, String)> = Vec::new();
        let grant = self.verified_grant(req, &mut raw);
        if req.purpose == Purpose::Support && req.ticket.is_none() && !fields.is_empty() {
            raw.push((
                kinds::NO_TICKET.into(),
                "contact data asked for support without a ticket".into(),
            ));
        }
        let cfg = self.inner.velocity;
        let mut evals: Vec<(String, FieldEval)> = Vec::new();
        let admitted = self.inner.store.admit(
            &req.employee.id,
            &req.customer.id,
            now,
            cfg.windows(),
            &mut |obs: &Observation| {
                evals = self.evaluate(pack, req, at, grant, &fields, obs, None);
                counted(preview, &evals)
            },
        );
        let mut suspended: Option<String> = req
            .employee
            .suspended
            .then(|| "the employee is marked suspended".to_owned());
        let velocity = match admitted {
            Ok(obs) => {
                self.note_suspension(&req.employee.id, obs.suspended.as_deref());
                let revealed = counted(preview, &evals);
                Some(VelocityInfo {
                    count: obs.count + u64::from(obs.counted || revealed),
                    soft: cfg.soft,
                    hard: cfg.hard,
                    window_s: cfg.window_s,
                    day: DayCount {
                        count: obs.day_count + u64::from(obs.day_counted || revealed),
                        soft: cfg.day.soft,
                        hard: cfg.day.hard,
                        window_s: cfg.day.window_s,
                    },
                })
            }
            Err(e) => {
                let msg = e.to_string();
                // Without the store counts are unknown: no reveal, but masks are still
                // served so that support work goes on (suspensions: see below).
                evals = self.evaluate(
                    pack,
                    req,
                    at,
                    grant,
                    &fields,
                    &Observation::default(),
                    Some(&msg),
                );
                raw.push((kinds::STORE_UNAVAILABLE.into(), msg));
                None
            }
        };
        if let Some(reason) = self.inner.known_suspended.read().get(&req.employee.id) {
            suspended.get_or_insert_with(|| format!("suspended through the kill switch: {reason}"));
        }
        if let Some(v) = velocity.filter(|_| !preview) {
            for (count, soft, window_s) in [
                (v.count, v.soft, v.window_s),
                (v.day.count, v.day.soft, v.day.window_s),
            ] {
                if count >= soft {
                    raw.push((
                        kinds::VELOCITY_SOFT.into(),
                        format!("{count} distinct customers revealed in {window_s} s (soft limit {soft})"),
                    ));
                }
            }
        }
        let mut field_map = BTreeMap::new();
        for (f, e) in evals {
            raw.extend(e.alerts);
            field_map.insert(f, e.decision);
        }
        if let Some(why) = &suspended {
            raw.push((kinds::SUSPENDED.into(), why.clone()));
            // The gate's own guard: no pack, mode or store state gives a suspended employee anything.
            for f in field_map.values_mut() {
                *f = FieldDecision {
                    outcome: Outcome::Withhold,
                    policies: vec![SUSPENDED_GUARD.to_owned()],
                    errors: f.errors.clone(),
                };
            }
        }
        if self.inner.canaries.contains(&req.customer.id)
            && field_map.values().any(|f| f.outcome != Outcome::Withhold)
        {
            raw.push((
                kinds::CANARY.into(),
                format!(
                    "canary customer `{}` shown to `{}`",
                    req.customer.id, req.employee.id
                ),
            ));
        }
        if preview {
            for f in field_map.values_mut() {
                if f.outcome == Outcome::Reveal {
                    f.outcome = Outcome::Mask;
                }
            }
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
            alerts: alerts::merge_alerts(raw),
            velocity: velocity.filter(|_| !preview),
            would_enforce: None,
        };
        if self.inner.mode == Mode::Shadow && suspended.is_none() {
            decision.would_enforce = Some(
                decision
                    .fields
                    .iter()
                    .map(|(k, f)| (k.clone(), f.outcome))
                    .collect(),
            );
            let shown = if preview {
                Outcome::Mask
            } else {
                Outcome::Reveal
            };
            for f in decision.fields.values_mut() {
                f.outcome = shown;
            }
        }
        self.inner.detector.observe(req, &mut decision);
        self.maybe_sweep(now);
        let seq = match &self.inner.audit {
            // No record, no reveal: the caller gets an error instead of the data.
            Some(log) => Some(log.append_decision_nowait(&decision, req)?),
            None => None,
        };
        Ok(Pending { decision, seq })
    }

    fn note_suspension(&self, employee: &str, reason: Option<&str>) {
        let known = self.inner.known_suspended.read().get(employee).cloned();
        if known.as_deref() != reason {
            let mut k = self.inner.known_suspended.write();
            match reason {
                Some(r) => k.insert(employee.to_owned(), r.to_owned()),
                None => k.remove(employee),
            };
        }
    }

    fn maybe_sweep(&self, now: crate::Timestamp) {
        let n = self.inner.decisions.fetch_add(1, Ordering::Relaxed);
        if self.inner.clock.clock == Clock::Live && n % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let keep = self.inner.velocity.windows().long_ms;
            self.inner.store.sweep(now, keep);
        }
    }

    fn verified_grant<'r>(
        &self,
        req: &'r AccessRequest,
        alerts: &mut Vec<(String, String)>,
    ) -> Option<&'r Grant> {
        let g = req.grant.as_ref()?;
        if !self.inner.grant_keys.verify(g) {
            alerts.push((
                kinds::GRANT_INVALID.into(),
                format!("grant `{}` has no valid signature and was ignored", g.id),
            ));
            return None;
        }
        match self.inner.store.is_revoked(&g.id, crate::Timestamp::now()) {
            Ok(false) => {}
            Ok(true) => {
                alerts.push((
                    kinds::GRANT_REVOKED.into(),
                    format!("grant `{}` was revoked and was ignored", g.id),
                ));
                return None;
            }
            Err(e) => {
                // a revocation that cannot be checked cannot be ruled out
                alerts.push((
                    kinds::GRANT_INVALID.into(),
                    format!(
                        "grant `{}` ignored: its revocation cannot be checked ({e})",
                        g.id
                    ),
                ));
                return None;
            }
        }
        if g.kind == GrantKind::BreakGlass {
            alerts.push((
                kinds::BREAK_GLASS.into(),
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
}

/// Whether this decision counts toward velocity: it reveals something, and is not a preview
/// (which shows at most masks).
fn counted(preview: bool, evals: &[(String, FieldEval)]) -> bool {
    !preview
        && evals
            .iter()
            .any(|(_, e)| e.decision.outcome == Outcome::Reveal)
}

/// Maps `f` over `items` on all cores, keeping the order. Each employee's items go to one
/// thread, in their order, so a batch counts velocity exactly as a loop of single calls
/// would (which of an employee's reveals reach the hard limit never depends on thread
/// timing). Threads take the next employee's items as they finish the last, so a core
/// that runs slower (a busy neighbour on a shared machine) takes fewer. Small batches,
/// and batches for one employee, stay on the caller's thread.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    employee: impl Fn(&T) -> &str,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    // a single view or a list page stays here without grouping anything (one map per call)
    let threads = super::batch::cores().min(items.len() / 32);
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    // each employee's items, in order, employees in order of first appearance
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let g = *group_of.entry(employee(item)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        if let Some(g) = groups.get_mut(g) {
            g.push(i);
        }
    }
    let threads = threads.min(groups.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    // the largest first, so that no long one is left for the end while the other cores idle
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (f, next, groups) = (&f, &next, &groups);
                s.spawn(move || {
                    let mut done = Vec::new();
                    while let Some(group) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.extend(
                            group
                                .iter()
                                .filter_map(|&i| items.get(i).map(|item| (i, f(item)))),
                        );
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
    });
    out.into_iter().flatten().collect()
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

#[cfg(test)]
mod tests {
    use super::parallel_map;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Results come back in the items' order, and each employee's items run in their order,
    /// one employee on one thread, however unevenly the items are spread.
    #[test]
    fn parallel_map_keeps_the_order_and_each_employees_sequence() {
        let items: Vec<(String, usize)> = (0..2_000)
            .map(|i| {
                let who = if i % 3 == 0 {
                    "big".into()
                } else {
                    format!("e{}", i % 41)
                };
                (who, i)
            })
            .collect();
        let seen: Mutex<HashMap<String, Vec<(usize, std::thread::ThreadId)>>> = Mutex::default();
        let out = parallel_map(
            &items,
            |(who, _)| who.as_str(),
            |(who, i)| {
                let mut seen = seen.lock().unwrap();
                let me = std::thread::current().id();
                seen.entry(who.clone()).or_default().push((*i, me));
                i * 2
            },
        );
        assert_eq!(out, (0..2_000).map(|i| i * 2).collect::<Vec<_>>());
        for (who, runs) in seen.into_inner().unwrap() {
            assert!(
                runs.windows(2).all(|w| w[0].0 < w[1].0),
                "{who} out of order"
            );
            assert!(
                runs.iter().all(|r| r.1 == runs[0].1),
                "{who} on two threads"
            );
        }
    }
}
