//! Translation of a request into Cedar's terms: entities built once per request,
//! a context per field. Everything here is typed by construction against the pack's
//! schema, so no per-request schema validation is needed.

use crate::model::{AccessRequest, Customer, Employee, Grant, Shift, Ticket};
use crate::pack::PolicyPack;
use crate::plan::Target;
use crate::time::Timestamp;
use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression as Rx,
};
use once_cell::sync::Lazy;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::str::FromStr;

fn type_name(name: &str) -> EntityTypeName {
    #[expect(clippy::expect_used, reason = "the names are fixed identifiers")]
    EntityTypeName::from_str(name).expect("valid entity type name")
}

static EMPLOYEE: Lazy<EntityTypeName> = Lazy::new(|| type_name("Employee"));
static CUSTOMER: Lazy<EntityTypeName> = Lazy::new(|| type_name("Customer"));
static TICKET: Lazy<EntityTypeName> = Lazy::new(|| type_name("Ticket"));
static GRANT: Lazy<EntityTypeName> = Lazy::new(|| type_name("Grant"));

fn uid(t: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
}

fn s(v: &str) -> Rx {
    Rx::new_string(v.to_owned())
}

fn set(v: &[String]) -> Rx {
    Rx::new_set(v.iter().map(|x| s(x)))
}

/// `Rx::new_datetime` parses the name `datetime` with the full policy grammar on every
/// call, which cost more than the rest of building a request; the name is parsed once.
static DATETIME: Lazy<cedar_policy_core::ast::Name> = Lazy::new(|| {
    #[expect(clippy::expect_used, reason = "a fixed identifier")]
    cedar_policy_core::ast::Name::parse_unqualified_name("datetime").expect("valid name")
});

fn dt(t: Timestamp) -> Rx {
    use cedar_policy_core::ast::RestrictedExpr;
    Rx::from(RestrictedExpr::call_extension_fn(
        DATETIME.clone(),
        [RestrictedExpr::val(t.cedar())],
    ))
}

/// The velocity facts the policies see (R8).
#[derive(Debug, Clone, Copy)]
pub(crate) struct VelocityCtx {
    pub count: u64,
    pub soft: u64,
    pub hard: u64,
    pub window_s: u64,
    pub new_customer: bool,
    pub day_count: u64,
    pub day_soft: u64,
    pub day_hard: u64,
    pub day_window_s: u64,
    pub day_new_customer: bool,
}

fn long(v: u64) -> Rx {
    Rx::new_long(i64::try_from(v).unwrap_or(i64::MAX))
}

/// Built entities by the exact facts they were built from. Building one costs more than
/// the policy evaluation (every `datetime` is parsed), and support tools ask about the same
/// employee, customer and ticket again and again. Keys are the full values, so a hit is
/// always the entity those facts produce, whichever gate asks.
///
/// One cache per thread: a batch of distinct customers misses on every request, and when
/// the threads of a batch wrote their misses into one shared cache (sharded by key, behind
/// locks) its cache lines and allocations went back and forth between the cores: each
/// decision of a 2-thread batch cost about 8% more than with a cache per thread.
#[derive(Default)]
struct EntityCache {
    /// Keyed by the employee with its shift resolved and `suspended` as decided.
    employees: HashMap<Employee, Entity>,
    customers: HashMap<Customer, Entity>,
    tickets: HashMap<Ticket, Entity>,
}

/// Entries per kind, per thread, before that kind is emptied. An entity takes about 3.5 KB
/// (200 of each kind grew a process by 2.1 MB), so a thread's cache stays near 3 MB, and 32
/// threads hold what the one shared cache it replaced could (8,192 of each kind, 86 MB).
const CACHE_CAP: usize = 256;

thread_local! {
    static CACHE: RefCell<EntityCache> = RefCell::default();
}

fn cached<K: Eq + Hash + Clone>(
    kind: impl Fn(&mut EntityCache) -> &mut HashMap<K, Entity>,
    key: &K,
    build: impl FnOnce() -> Result<Entity, String>,
) -> Result<Entity, String> {
    // a thread whose cache is already gone (a decision made while the thread exits) builds
    // its entities as if every lookup missed
    let hit = CACHE.try_with(|c| kind(&mut c.borrow_mut()).get(key).cloned());
    if let Ok(Some(e)) = hit {
        return Ok(e);
    }
    let e = build()?;
    let _ = CACHE.try_with(|c| {
        let mut c = c.borrow_mut();
        let m = kind(&mut c);
        if m.len() >= CACHE_CAP {
            m.clear();
        }
        m.insert(key.clone(), e.clone());
    });
    Ok(e)
}

/// A request ready for evaluation, field by field.
pub(crate) struct Prepared {
    pub entities: Entities,
    pub principal: EntityUid,
    pub resource: EntityUid,
    base: Vec<(String, Rx)>,
}

impl Prepared {
    pub(crate) fn new(
        pack: &PolicyPack,
        req: &AccessRequest,
        at: Timestamp,
        grant: Option<&Grant>,
        suspended: bool,
        velocity: VelocityCtx,
    ) -> Result<Self, String> {
        let principal = uid(&EMPLOYEE, &req.employee.id);
        let resource = uid(&CUSTOMER, &req.customer.id);
        let mut entities = Vec::with_capacity(4 + pack.action_entities().len());
        // A weekly schedule becomes the absolute shift containing `at` (or none), so the
        // cache key is what the entity is built from.
        let mut emp = req.employee.clone();
        emp.shift = match &emp.shift {
            Some(s) => s
                .resolve(at)
                .map_err(|e| e.to_string())?
                .map(|(start, end)| Shift::Absolute { start, end }),
            None => None,
        };
        emp.suspended = suspended;
        entities.push(cached(
            |c| &mut c.employees,
            &emp,
            || employee(&emp, principal.clone()),
        )?);
        let c = &req.customer;
        entities.push(cached(
            |c| &mut c.customers,
            c,
            || {
                entity(
                    resource.clone(),
                    [
                        ("segment", s(c.segment.as_str())),
                        ("vip", Rx::new_bool(c.vip)),
                        ("employee", Rx::new_bool(c.employee)),
                    ],
                )
            },
        )?);
        let mut base = vec![
            ("at".to_owned(), dt(at)),
            ("purpose".to_owned(), s(req.purpose.as_str())),
            (
                "velocity".to_owned(),
                Rx::new_record([
                    ("count".to_owned(), long(velocity.count)),
                    ("soft".to_owned(), long(velocity.soft)),
                    ("hard".to_owned(), long(velocity.hard)),
                    ("window_s".to_owned(), long(velocity.window_s)),
                    (
                        "new_customer".to_owned(),
                        Rx::new_bool(velocity.new_customer),
                    ),
                    ("day_count".to_owned(), long(velocity.day_count)),
                    ("day_soft".to_owned(), long(velocity.day_soft)),
                    ("day_hard".to_owned(), long(velocity.day_hard)),
                    ("day_window_s".to_owned(), long(velocity.day_window_s)),
                    (
                        "day_new_customer".to_owned(),
                        Rx::new_bool(velocity.day_new_customer),
                    ),
                ])
                .map_err(|e| e.to_string())?,
            ),
        ];
        if let Some(client) = &req.client {
            base.push(("client".to_owned(), s(client)));
        }
        if let Some(t) = &req.ticket {
            let tuid = uid(&TICKET, &t.id);
            entities.push(cached(|c| &mut c.tickets, t, || ticket(t, tuid.clone()))?);
            base.push(("ticket".to_owned(), Rx::new_entity_uid(tuid)));
        }
        if let Some(g) = grant {
            let guid = uid(&GRANT, &g.id);
            entities.push(grant_entity(g, guid.clone())?);
            base.push(("grant".to_owned(), Rx::new_entity_uid(guid)));
        }
        // The plan's policies have an open action scope, so only asking Cedar directly
        // needs the action hierarchy (whose transitive closure is most of building this).
        if pack.plan().is_none() {
            entities.extend(pack.action_entities().iter().cloned());
        }
        let entities = assemble(entities)?;
        Ok(Self {
            entities,
            principal,
            resource,
            base,
        })
    }

    pub(crate) fn context(&self, field: &str) -> Result<Context, String> {
        let pairs = self
            .base
            .iter()
            .cloned()
            .chain(std::iter::once(("field".to_owned(), s(field))));
        Context::from_pairs(pairs).map_err(|e| e.to_string())
    }

    pub(crate) fn target<'a>(&'a self, action: &'a EntityUid) -> Target<'a> {
        Target {
            principal: &self.principal,
            action,
            resource: &self.resource,
            entities: &self.entities,
        }
    }

    /// The context without `field`, for the policies that never read it.
    pub(crate) fn shared_context(&self) -> Result<Context, String> {
        Context::from_pairs(self.base.iter().cloned()).map_err(|e| e.to_string())
    }
}

/// The request's entities have no parents and the schema's action entities come with
/// their ancestors already closed, so the transitive closure that `Entities::from_entities`
/// computes on every call (a tenth of a decision) is skipped.
fn assemble(entities: Vec<Entity>) -> Result<Entities, String> {
    use cedar_policy_core::entities::{Entities as Core, NoEntitiesSchema, TCComputation};
    debug_assert!(entities
        .iter()
        .filter(|e| !e.uid().type_name().to_string().starts_with("Action"))
        .all(|e| e.as_ref().ancestors().next().is_none()));
    Core::from_entities(
        entities.into_iter().map(|e| e.as_ref().clone()),
        None::<&NoEntitiesSchema>,
        TCComputation::AssumeAlreadyComputed,
        cedar_policy_core::extensions::Extensions::all_available(),
    )
    .map(Entities::from)
    .map_err(|e| e.to_string())
}

fn entity<const N: usize>(uid: EntityUid, attrs: [(&str, Rx); N]) -> Result<Entity, String> {
    let attrs: HashMap<String, Rx> = attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Entity::new(uid, attrs, HashSet::new()).map_err(|e| e.to_string())
}

fn with_optional(
    mut attrs: HashMap<String, Rx>,
    optional: impl IntoIterator<Item = (&'static str, Option<Rx>)>,
) -> HashMap<String, Rx> {
    for (k, v) in optional {
        if let Some(v) = v {
            attrs.insert(k.to_owned(), v);
        }
    }
    attrs
}

fn employee(e: &Employee, uid: EntityUid) -> Result<Entity, String> {
    let attrs = HashMap::from([
        ("roles".to_owned(), set(&e.roles)),
        ("teams".to_owned(), set(&e.teams)),
        ("segments".to_owned(), set(&e.segments)),
        ("suspended".to_owned(), Rx::new_bool(e.suspended)),
    ]);
    let shift = match &e.shift {
        Some(Shift::Absolute { start, end }) => Some(
            Rx::new_record([
                ("start".to_owned(), dt(*start)),
                ("end".to_owned(), dt(*end)),
            ])
            .map_err(|e| e.to_string())?,
        ),
        // resolved by `Prepared::new` before this is called
        Some(Shift::Weekly(_)) | None => None,
    };
    let attrs = with_optional(
        attrs,
        [
            ("office_country", e.office_country.as_deref().map(s)),
            ("shift", shift),
        ],
    );
    Entity::new(uid, attrs, HashSet::new()).map_err(|e| e.to_string())
}

fn ticket(t: &Ticket, tuid: EntityUid) -> Result<Entity, String> {
    let attrs = HashMap::from([
        (
            "customer".to_owned(),
            Rx::new_entity_uid(uid(&CUSTOMER, &t.customer)),
        ),
        ("queue".to_owned(), s(&t.queue)),
        ("status".to_owned(), s(t.status.as_str())),
        ("opened_at".to_owned(), dt(t.opened_at)),
    ]);
    let attrs = with_optional(
        attrs,
        [
            (
                "assignee",
                t.assignee
                    .as_deref()
                    .map(|a| Rx::new_entity_uid(uid(&EMPLOYEE, a))),
            ),
            ("closed_at", t.closed_at.map(dt)),
            ("callback_at", t.callback_at.map(dt)),
        ],
    );
    Entity::new(tuid, attrs, HashSet::new()).map_err(|e| e.to_string())
}

fn grant_entity(g: &Grant, guid: EntityUid) -> Result<Entity, String> {
    let attrs = HashMap::from([
        ("kind".to_owned(), s(g.kind.as_str())),
        (
            "grantee".to_owned(),
            Rx::new_entity_uid(uid(&EMPLOYEE, &g.grantee)),
        ),
        (
            "customer".to_owned(),
            Rx::new_entity_uid(uid(&CUSTOMER, &g.customer)),
        ),
        ("fields".to_owned(), set(&g.fields)),
        ("purpose".to_owned(), s(g.purpose.as_str())),
        ("reason".to_owned(), s(&g.reason)),
        ("approver_roles".to_owned(), set(&g.approver_roles)),
        ("issued_at".to_owned(), dt(g.issued_at)),
        ("expires_at".to_owned(), dt(g.expires_at)),
    ]);
    let attrs = with_optional(
        attrs,
        [
            ("incident", g.incident.as_deref().map(s)),
            (
                "approver",
                g.approver
                    .as_deref()
                    .map(|a| Rx::new_entity_uid(uid(&EMPLOYEE, a))),
            ),
        ],
    );
    Entity::new(guid, attrs, HashSet::new()).map_err(|e| e.to_string())
}
