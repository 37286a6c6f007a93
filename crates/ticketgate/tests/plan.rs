//! Differential test of the field-independent fast path (`plan.rs`): generated requests are
//! decided by a gate on the pack's plan and by a gate that asks Cedar for every field and
//! action; outcomes, reported policies, errors, alerts and velocity must be identical.
//!
//! `TICKETGATE_PLAN_CASES` sets the number of requests per pack (default 3,000; the
//! closing measurement of issue 16 ran 100,000).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use serde_json::{json, Value};
use ticketgate::*;

/// xorshift64*: reproducible without a dependency; the seed is printed on failure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap()]
    }
    fn subset(&mut self, items: &[&str]) -> Vec<String> {
        items
            .iter()
            .filter(|_| self.chance(50))
            .map(|s| (*s).to_owned())
            .collect()
    }
}

const BASE_MS: i64 = 1_780_000_000_000;
const MIN: i64 = 60_000;
const FIELDS: [&str; 4] = ["name", "email", "phone", "ticket_numbers"];

fn t(ms: i64) -> String {
    Timestamp::from_millis(ms).unwrap().to_string()
}

/// Minutes around `at`, mostly near the edges the rules care about.
fn offset(r: &mut Rng) -> i64 {
    let edges = [
        -24 * 60 - 1,
        -24 * 60,
        -61,
        -60,
        -15,
        -1,
        0,
        1,
        15,
        16,
        60,
        61,
    ];
    if r.chance(50) {
        edges[usize::try_from(r.below(edges.len() as u64)).unwrap()]
    } else {
        i64::try_from(r.below(3000)).unwrap() - 1500
    }
}

fn request(r: &mut Rng, step: i64, gate: &Gate) -> Value {
    let at = BASE_MS + step * MIN;
    let employee = r.pick(&["e1", "e2", "e3"]);
    let customer = format!("c{}", r.below(40));
    let shift = match r.below(3) {
        0 => Value::Null,
        1 => json!({"start": t(at + offset(r) * MIN), "end": t(at + offset(r).abs() * MIN)}),
        _ => {
            json!({"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00", "tz": "Europe/Berlin"})
        }
    };
    let mut req = json!({
        "employee": {
            "id": employee,
            "roles": r.subset(&["agent", "senior_agent", "supervisor", "security_reviewer"]),
            "teams": r.subset(&["billing", "tech"]),
            "segments": r.subset(&["consumer", "business", "government"]),
            "shift": shift,
            "suspended": r.chance(3),
        },
        "customer": {
            "id": customer,
            "segment": r.pick(&["consumer", "business", "government"]),
            "vip": r.chance(15),
            "employee": r.chance(10),
        },
        "purpose": r.pick(&["support", "support", "support", "security_review", "legal_request", "incident"]),
        "at": t(at),
    });
    if r.chance(80) {
        let status = r.pick(&["open", "pending", "solved", "closed"]);
        let done = status == "solved" || status == "closed";
        req["ticket"] = json!({
            "id": format!("t{}", r.below(1000)),
            "customer": customer,
            "assignee": if r.chance(70) { Some(employee) } else if r.chance(50) { Some("e9") } else { None },
            "queue": r.pick(&["billing", "tech"]),
            "status": status,
            "opened_at": t(at - 3000 * MIN),
            "closed_at": if done { Some(t(at - offset(r).abs() * MIN)) } else { None },
            "callback_at": if r.chance(50) { Some(t(at + offset(r) * MIN)) } else { None },
        });
    }
    if r.chance(35) {
        let kind = r.pick(&["approved", "break_glass"]);
        let issued = at + offset(r) * MIN;
        let life = r
            .pick(&["30", "59", "60", "61", "480", "481"])
            .parse::<i64>()
            .unwrap();
        let grant = json!({
            "id": format!("g{}", r.below(1000)),
            "kind": kind,
            "grantee": if r.chance(85) { employee } else { "e2" },
            "customer": customer,
            "fields": r.subset(&FIELDS),
            "purpose": if r.chance(80) { req["purpose"].clone() } else { json!("support") },
            "reason": r.pick(&["", "fraud call"]),
            "incident": if r.chance(70) { Some("INC-1") } else { None },
            "approver": if kind == "approved" && r.chance(85) { Some(r.pick(&["sam", employee])) } else { None },
            "approver_roles": r.subset(&["supervisor", "agent"]),
            "issued_at": t(issued),
            "expires_at": t(issued + life * MIN),
        });
        let grant: Grant = serde_json::from_value(grant).unwrap();
        req["grant"] = serde_json::to_value(gate.sign_grant(grant)).unwrap();
    }
    if r.chance(30) {
        req["fields"] = json!(r.subset(&FIELDS));
    }
    if r.chance(10) {
        req["intent"] = json!("preview");
    }
    req
}

fn comparable(d: Result<Decision, Error>) -> Value {
    match d {
        Ok(d) => {
            let mut v = serde_json::to_value(d).unwrap();
            v.as_object_mut().unwrap().remove("decision_id");
            v
        }
        Err(e) => json!({"error": e.to_string()}),
    }
}

fn gate(pack: PolicyPack) -> Gate {
    Gate::builder()
        .pack(pack)
        .clock(Clock::Replay)
        .velocity(VelocityConfig {
            window_s: 3600,
            soft: 3,
            hard: 6,
            ..VelocityConfig::default()
        })
        .grant_key(GrantKey::new([7; 32]).unwrap())
        .build()
        .unwrap()
}

fn differential(pack: &PolicyPack, seed: u64) {
    let cases: i64 = std::env::var("TICKETGATE_PLAN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let fast = gate(pack.clone());
    let reference = gate(pack.without_plan());
    let mut r = Rng(seed);
    let mut outcomes = std::collections::BTreeMap::<String, u64>::new();
    let mut decided = 0;
    for step in 0..cases {
        let req = request(&mut r, step, &fast);
        let parsed = AccessRequest::from_value(req.clone());
        let (a, b) = match parsed {
            Ok(req) => (fast.decide(&req), reference.decide(&req)),
            Err(_) => continue,
        };
        decided += 1;
        let (a, b) = (comparable(a), comparable(b));
        assert_eq!(a, b, "seed {seed}, step {step}, request {req}");
        if let Some(fields) = a["fields"].as_object() {
            for f in fields.values() {
                *outcomes.entry(f["outcome"].to_string()).or_default() += 1;
                if !f["errors"].as_array().unwrap().is_empty() {
                    *outcomes.entry("with errors".into()).or_default() += 1;
                }
            }
        }
    }
    assert!(
        decided * 10 > cases * 9,
        "only {decided} of {cases} requests were valid"
    );
    // the generator reaches every outcome, or the comparison proves little
    for o in ["\"reveal\"", "\"mask\"", "\"withhold\""] {
        assert!(
            outcomes.get(o).copied().unwrap_or(0) > 0,
            "{o} never decided: {outcomes:?}"
        );
    }
    eprintln!("{cases} requests, field outcomes {outcomes:?}");
}

#[test]
fn the_plan_decides_as_cedar_does_on_the_default_pack() {
    differential(&PolicyPack::default(), 0x9E37_79B9_7F4A_7C15);
}

/// Policies that can fail at run time (overflow) before or after reading the field, one
/// that tests `context has field`, and a field-dependent forbid with an alert: errors must
/// be reported alike and withhold alike.
#[test]
fn the_plan_decides_as_cedar_does_when_policies_error() {
    let mut sources = PolicyPack::default().sources().to_vec();
    sources.push(SourceFile {
        name: "erring.cedar".into(),
        text: r#"
@id("X-overflow-forbid")
forbid (principal, action in Action::"reveal", resource)
when { context.velocity.count * 4611686018427387904 > 0 && resource.vip };

@id("X-field-permit")
permit (principal, action == Action::"mask_phone", resource)
when { context.field == "phone" && context.velocity.count * 3074457345618258602 >= 0 };

@id("X-has-field")
permit (principal, action == Action::"mask_email", resource)
when { context has field && context.field == "email" && context.velocity.count < 3 };

@id("X-error-before-field")
forbid (principal, action in Action::"reveal", resource)
when { context.velocity.count * 4611686018427387904 > 1 && context.field == "name" };

@id("X-field-forbid")
@alert("field_probe")
forbid (principal, action in Action::"reveal", resource)
when { context.field == "email" && resource.employee };
"#
        .into(),
    });
    let pack = PolicyPack::from_sources(sources).unwrap();
    differential(&pack, 0xD1B5_4A32_D192_ED03);
}
