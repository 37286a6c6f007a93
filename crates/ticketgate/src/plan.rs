//! The evaluation plan of a pack: one Cedar call per decision instead of up to four per
//! field.
//!
//! Asked directly, a decision puts up to four questions to Cedar per field (`reveal_f`,
//! `mask_f`, and the permits of each again, to tell a decisive forbid from an idle one),
//! each evaluating that action's slice of the pack with a context built for the field.
//! But a policy's action scope is settled by slicing the pack at load, and most conditions
//! never read `context.field` or `action`: their result is the same for every field. The
//! plan evaluates every policy once, each rewritten as a permit with an open action scope
//! so that "its condition held" reads straight from the response's reasons, and answers
//! each slice from those results the way Cedar's authorizer does (a satisfied forbid
//! denies, else a satisfied permit allows; an erroring policy is skipped and reported).
//!
//! A condition that reads `context.field` goes in as a probe that fails if evaluation
//! reaches the field; only then are its per-field copies (`context.field` replaced by each
//! field's name) evaluated, in a second call. For the default pack that happens only when a
//! grant is presented. A condition that tests `context has field` is always evaluated per
//! field. A pack with a condition that reads `action`, or `context` as a whole, has no plan
//! and is asked directly. `tests/plan.rs` checks the plan against asking directly.

use crate::pack::FieldActions;
use cedar_policy::{
    AuthorizationError, Authorizer, Context, Decision, Effect, Entities, EntityUid,
    EvaluationError, Policy, PolicyId, PolicySet, Request,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// The answer to one Cedar question: its decision, the policies that determined it and the
/// evaluation errors, the last two sorted so that output does not depend on hash order.
pub(crate) type Answer = (Decision, Vec<PolicyId>, Vec<String>);

pub(crate) struct Plan {
    /// Every policy once: field-independent ones as they are, probes (below) for those
    /// that read `context.field`, and per-field copies of those that test
    /// `context has field` (a test that cannot be probed: it would just be false).
    set: PolicySet,
    /// Per-field copies of the probed policies, evaluated only when a probe reached the
    /// field, which for the default pack means only when a grant is presented.
    copies: PolicySet,
    fields: BTreeMap<String, FieldPlan>,
    /// The place of each policy of `set` and `copies` in [`Results`]: a decision looks up
    /// only the ids Cedar reports, and each slice then reads its results by place (hashing
    /// an id for every entry of every slice was 5% of a decision). The ids are the pack's,
    /// not a caller's, so a fast unkeyed hash is safe here.
    places: foldhash::HashMap<PolicyId, usize>,
}

/// A probe is the policy with `context.field` renamed to an attribute the context never
/// has: if evaluation never reaches it, the result holds for every field; if it does, the
/// evaluation fails on that attribute, and the per-field copies answer instead.
const PROBE_ATTR: &str = "__ticketgate_field_probe__";

/// One field's slices: for each policy that can apply to the action, where its result is.
pub(crate) struct FieldPlan {
    reveal: Vec<Entry>,
    mask: Vec<Entry>,
}

struct Entry {
    key: Key,
    id: PolicyId,
    forbid: bool,
}

/// Where an entry's result is: places in [`Results`].
enum Key {
    Once(usize),
    Probe { probe: usize, copy: usize },
    Copy(usize),
}

const SATISFIED: u8 = 1;
/// A probe whose evaluation reached the field.
const REACHED: u8 = 2;

/// What each policy's condition did for one request, by place (see [`Plan::places`]).
pub(crate) struct Results {
    flags: Vec<u8>,
    /// Evaluation errors by place; at no place if Cedar named a policy the plan does not
    /// hold (it cannot), and then every answer has it: an error fails closed.
    errors: Vec<(Option<usize>, String)>,
}

impl Results {
    fn flag(&self, place: usize, flag: u8) -> bool {
        self.flags.get(place).is_some_and(|f| f & flag != 0)
    }

    fn place(&self, k: &Key) -> usize {
        match *k {
            Key::Once(p) | Key::Copy(p) => p,
            Key::Probe { probe, copy } if self.flag(probe, REACHED) => copy,
            Key::Probe { probe, .. } => probe,
        }
    }

    fn error(&self, place: usize) -> Option<&String> {
        self.errors
            .iter()
            .find(|(p, _)| p.is_none_or(|p| p == place))
            .map(|(_, m)| m)
    }
}

impl Plan {
    pub(crate) fn analyse(
        policies: &PolicySet,
        actions: &BTreeMap<String, FieldActions>,
    ) -> Option<Self> {
        let mut set = PolicySet::new();
        let mut copies = PolicySet::new();
        let mut keys: HashMap<PolicyId, (Option<PolicyId>, HashMap<String, PolicyId>)> =
            HashMap::new();
        for p in policies.policies() {
            let json = p.to_json().ok()?;
            let mut reads = Reads::default();
            if let Some(conditions) = json.get("conditions") {
                reads.scan(conditions);
            }
            if reads.action || reads.whole_context {
                return None;
            }
            if !reads.field && !reads.has_field {
                set.add(open_permit(p.id(), json)?).ok()?;
                keys.insert(p.id().clone(), (Some(p.id().clone()), HashMap::new()));
                continue;
            }
            let mut per_field = HashMap::new();
            for field in actions.keys() {
                let key = PolicyId::new(format!("{}\u{0}{field}", p.id()));
                let mut copy = json.clone();
                if let Some(c) = copy.get_mut("conditions") {
                    substitute_field(c, &json!({ "Value": field }));
                }
                let target = if reads.has_field {
                    &mut set
                } else {
                    &mut copies
                };
                target.add(open_permit(&key, copy)?).ok()?;
                per_field.insert(field.clone(), key);
            }
            let probe = if reads.has_field {
                None
            } else {
                let mut probe = json;
                if let Some(c) = probe.get_mut("conditions") {
                    substitute_field(
                        c,
                        &json!({ ".": { "left": { "Var": "context" }, "attr": PROBE_ATTR } }),
                    );
                }
                set.add(open_permit(p.id(), probe)?).ok()?;
                Some(p.id().clone())
            };
            keys.insert(p.id().clone(), (probe, per_field));
        }
        let places: foldhash::HashMap<PolicyId, usize> = set
            .policies()
            .chain(copies.policies())
            .enumerate()
            .map(|(i, p)| (p.id().clone(), i))
            .collect();
        let place = |id: &PolicyId| places.get(id).copied();
        let entries = |slice: &PolicySet, field: &str| -> Option<Vec<Entry>> {
            slice
                .policies()
                .map(|p| {
                    let key = match keys.get(p.id())? {
                        (Some(once), copies) if copies.is_empty() => Key::Once(place(once)?),
                        (Some(probe), copies) => Key::Probe {
                            probe: place(probe)?,
                            copy: place(copies.get(field)?)?,
                        },
                        (None, copies) => Key::Copy(place(copies.get(field)?)?),
                    };
                    Some(Entry {
                        key,
                        id: p.id().clone(),
                        forbid: p.effect() == Effect::Forbid,
                    })
                })
                .collect()
        };
        let mut fields = BTreeMap::new();
        for (field, a) in actions {
            fields.insert(
                field.clone(),
                FieldPlan {
                    reveal: entries(&a.reveal_policies, field)?,
                    mask: entries(&a.mask_policies, field)?,
                },
            );
        }
        Some(Self {
            set,
            copies,
            fields,
            places,
        })
    }

    pub(crate) fn field(&self, field: &str) -> Option<&FieldPlan> {
        self.fields.get(field)
    }

    /// The Cedar call of a decision, and a second one when a probe reached the field.
    pub(crate) fn evaluate(
        &self,
        authorizer: &Authorizer,
        target: Target<'_>,
        ctx: Context,
    ) -> Result<Results, String> {
        let request = target.request(ctx)?;
        let mut results = Results {
            flags: vec![0; self.places.len()],
            errors: Vec::new(),
        };
        let reached = self.run(authorizer, &request, &self.set, target, &mut results);
        if reached {
            self.run(authorizer, &request, &self.copies, target, &mut results);
        }
        Ok(results)
    }

    /// One Cedar call of `set`, its results put in place; whether a probe reached the field.
    fn run(
        &self,
        authorizer: &Authorizer,
        request: &Request,
        set: &PolicySet,
        target: Target<'_>,
        into: &mut Results,
    ) -> bool {
        let resp = authorizer.is_authorized(request, set, target.entities);
        let diag = resp.diagnostics();
        let mut reached = false;
        for e in diag.errors() {
            let AuthorizationError::PolicyEvaluationError(pe) = e;
            let key = pe.policy_id();
            let place = self.places.get(key).copied();
            if matches!(pe.inner(), EvaluationError::RecordAttrDoesNotExist(_))
                && pe.inner().to_string().contains(PROBE_ATTR)
            {
                if let Some(f) = place.and_then(|p| into.flags.get_mut(p)) {
                    *f |= REACHED;
                    reached = true;
                    continue;
                }
            }
            // the message names the policy as the pack does, not its per-field copy
            let id = AsRef::<str>::as_ref(key)
                .split('\u{0}')
                .next()
                .unwrap_or_default();
            let message = format!("error while evaluating policy `{id}`: {}", pe.inner());
            into.errors.push((place, message));
        }
        // every policy here is a permit, so the reasons are exactly the satisfied ones
        for id in diag.reason() {
            match self.places.get(id).and_then(|&p| into.flags.get_mut(p)) {
                Some(f) => *f |= SATISFIED,
                None => into
                    .errors
                    .push((None, format!("policy `{id}` is not in the plan"))),
            }
        }
        reached
    }
}

impl FieldPlan {
    /// What Cedar would answer for the reveal (or mask) action of this field, asked of the
    /// whole slice or of its permits alone.
    pub(crate) fn answer(&self, reveal: bool, permits_only: bool, r: &Results) -> Answer {
        let slice = if reveal { &self.reveal } else { &self.mask };
        let (mut permits, mut forbids, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for e in slice.iter().filter(|e| !(permits_only && e.forbid)) {
            let place = r.place(&e.key);
            if let Some(message) = r.error(place) {
                errors.push(message.clone());
            } else if r.flag(place, SATISFIED) {
                if e.forbid {
                    forbids.push(e.id.clone());
                } else {
                    permits.push(e.id.clone());
                }
            }
        }
        let (decision, ids) = if !forbids.is_empty() {
            (Decision::Deny, forbids)
        } else if !permits.is_empty() {
            (Decision::Allow, permits)
        } else {
            (Decision::Deny, Vec::new())
        };
        normalise(decision, ids, errors)
    }
}

/// Principal, action, resource and entities of one request.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub principal: &'a EntityUid,
    pub action: &'a EntityUid,
    pub resource: &'a EntityUid,
    pub entities: &'a Entities,
}

impl Target<'_> {
    fn request(&self, ctx: Context) -> Result<Request, String> {
        Request::new(
            self.principal.clone(),
            self.action.clone(),
            self.resource.clone(),
            ctx,
            None,
        )
        .map_err(|e| e.to_string())
    }
}

/// One Cedar call, its answer normalised (see [`Answer`]).
pub(crate) fn ask(
    authorizer: &Authorizer,
    policies: &PolicySet,
    t: Target<'_>,
    ctx: Context,
) -> Result<Answer, String> {
    let resp = authorizer.is_authorized(&t.request(ctx)?, policies, t.entities);
    let diag = resp.diagnostics();
    Ok(normalise(
        resp.decision(),
        diag.reason().cloned().collect(),
        diag.errors().map(ToString::to_string).collect(),
    ))
}

/// Sorted reasons and errors; any error denies, because Cedar skips an erroring forbid
/// and that would otherwise fail open.
fn normalise(decision: Decision, mut ids: Vec<PolicyId>, mut errors: Vec<String>) -> Answer {
    ids.sort_unstable_by(|a, b| AsRef::<str>::as_ref(a).cmp(b.as_ref()));
    errors.sort_unstable();
    let decision = if errors.is_empty() {
        decision
    } else {
        Decision::Deny
    };
    (decision, ids, errors)
}

/// The policy as a permit whose action scope matches anything: the slice decides the
/// action, the effect is put back by [`FieldPlan::answer`].
fn open_permit(id: &PolicyId, mut json: Value) -> Option<Policy> {
    let obj = json.as_object_mut()?;
    obj.insert("effect".to_owned(), Value::from("permit"));
    obj.insert("action".to_owned(), json!({ "op": "All" }));
    Policy::from_json(Some(id.clone()), json).ok()
}

fn is_context_field(access: &serde_json::Map<String, Value>) -> bool {
    access.get("left") == Some(&json!({"Var": "context"}))
        && access.get("attr").and_then(Value::as_str) == Some("field")
}

/// `context.field` becomes `replacement` and `context has field` becomes `true`.
fn substitute_field(v: &mut Value, replacement: &Value) {
    match v {
        Value::Object(o) => {
            let found = match o.iter().next() {
                Some((op, Value::Object(access))) if o.len() == 1 && is_context_field(access) => {
                    match op.as_str() {
                        "." => Some(replacement.clone()),
                        "has" => Some(json!({ "Value": true })),
                        _ => None,
                    }
                }
                _ => None,
            };
            match found {
                Some(r) => *v = r,
                None => o
                    .values_mut()
                    .for_each(|x| substitute_field(x, replacement)),
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute_field(x, replacement)),
        _ => {}
    }
}

/// What a condition reads that can change between the fields of one decision.
#[derive(Default)]
struct Reads {
    field: bool,
    has_field: bool,
    whole_context: bool,
    action: bool,
}

impl Reads {
    fn scan(&mut self, v: &Value) {
        match v {
            Value::Object(o) => {
                for (k, inner) in o {
                    match (k.as_str(), inner) {
                        ("Var", Value::String(var)) => match var.as_str() {
                            "action" => self.action = true,
                            "context" => self.whole_context = true,
                            _ => {}
                        },
                        (op @ ("." | "has"), Value::Object(access))
                            if access.get("left") == Some(&json!({"Var": "context"}))
                                && access.len() == 2 =>
                        {
                            if is_context_field(access) {
                                if op == "has" {
                                    self.has_field = true;
                                } else {
                                    self.field = true;
                                }
                            }
                        }
                        _ => self.scan(inner),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.scan(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    /// (reads or tests the field, reads all of `context`, reads `action`)
    fn reads(src: &str) -> (bool, bool, bool) {
        let p = Policy::from_str(src).unwrap();
        let mut r = Reads::default();
        r.scan(p.to_json().unwrap().get("conditions").unwrap());
        (r.field || r.has_field, r.whole_context, r.action)
    }

    #[test]
    fn classifies_what_a_condition_reads() {
        let independent = "permit(principal, action, resource) when { context.purpose == \"support\" && context has ticket && context.ticket.queue == \"x\" };";
        assert_eq!(reads(independent), (false, false, false));
        let field = "permit(principal, action, resource) when { context.grant.fields.contains(context.field) };";
        assert_eq!(reads(field), (true, false, false));
        let has_field = "permit(principal, action, resource) when { context has field };";
        assert_eq!(reads(has_field), (true, false, false));
        let whole = "permit(principal, action, resource) when { context == {} };";
        assert_eq!(reads(whole), (false, true, false));
        let indexed =
            "permit(principal, action, resource) when { context[\"field\"] == \"phone\" };";
        assert_eq!(reads(indexed), (true, false, false));
        let action =
            "permit(principal, action, resource) when { action == Action::\"reveal_phone\" };";
        assert_eq!(reads(action), (false, false, true));
    }

    #[test]
    fn specialising_replaces_only_the_field() {
        let p = Policy::from_str("permit(principal, action, resource) when { context has field && context.field == \"phone\" && context.purpose == \"field\" };").unwrap();
        let mut json = p.to_json().unwrap();
        substitute_field(
            json.get_mut("conditions").unwrap(),
            &json!({"Value": "phone"}),
        );
        let text = Policy::from_json(None, json).unwrap().to_string();
        assert!(
            text.contains("true && (\"phone\" == \"phone\")")
                || text.contains("true && \"phone\" == \"phone\""),
            "{text}"
        );
        assert!(text.contains("context.purpose"), "{text}");
    }
}
