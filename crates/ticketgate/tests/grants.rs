//! The grant lifecycle: issuing with checks, narrow to its fields, revocable across gates
//! sharing a store, keys that rotate; and a property test that a grant never reveals
//! outside itself.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use proptest::prelude::*;
use serde_json::json;
use std::sync::Arc;
use ticketgate::*;

fn ts(offset_min: i64) -> Timestamp {
    Timestamp::from_millis(Timestamp::now().millis() + offset_min * 60_000).unwrap()
}

fn key(b: u8) -> GrantKey {
    GrantKey::new([b; 32]).unwrap()
}

fn employee(id: &str, roles: &[&str]) -> Employee {
    serde_json::from_value(
        json!({"id": id, "roles": roles, "teams": ["billing"], "segments": ["consumer"],
        "shift": {"start": ts(-240).to_string(), "end": ts(240).to_string()}}),
    )
    .unwrap()
}

fn grant(kind: &str, fields: &[&str], life_min: i64) -> Grant {
    serde_json::from_value(
        json!({"id": "g-1", "kind": kind, "grantee": "alice", "customer": "vip-1",
        "fields": fields, "purpose": "support", "reason": "customer called about fraud",
        "incident": if kind == "break_glass" { Some("INC-7") } else { None },
        "issued_at": ts(-1).to_string(), "expires_at": ts(life_min - 1).to_string()}),
    )
    .unwrap()
}

/// Alice, an agent without a ticket, asks for a VIP customer: nothing without a grant.
fn request(grant: Option<Grant>) -> AccessRequest {
    AccessRequest {
        employee: employee("alice", &["agent"]),
        customer: serde_json::from_value(
            json!({"id": "vip-1", "segment": "consumer", "vip": true, "employee": false}),
        )
        .unwrap(),
        ticket: None,
        grant,
        fields: None,
        purpose: Purpose::Support,
        justification: None,
        at: None,
        client: None,
        source_ip: None,
        intent: None,
    }
}

fn gate_with(store: Arc<dyn VelocityStore>, keys: Vec<GrantKey>) -> Gate {
    Gate::builder()
        .store(store)
        .grant_keys(GrantKeys::new(keys).unwrap())
        .build()
        .unwrap()
}

#[test]
fn request_approve_present_revoke_across_two_gates() {
    let store: Arc<dyn VelocityStore> = Arc::new(MemoryStore::new());
    let a = gate_with(store.clone(), vec![key(1)]);
    let b = gate_with(store, vec![key(1)]);
    let pending = a.request_grant(grant("approved", &["phone"], 60)).unwrap();
    // a pending request reveals nothing
    assert_eq!(
        a.decide(&request(Some(pending.clone())))
            .unwrap()
            .outcome("phone"),
        Outcome::Withhold
    );
    let e = a
        .approve_grant(pending.clone(), &employee("alice", &["supervisor"]))
        .unwrap_err();
    assert_eq!(e.key(), Some("approver.id"), "self-approval");
    let e = a
        .approve_grant(pending.clone(), &employee("bob", &["agent"]))
        .unwrap_err();
    assert_eq!(e.key(), Some("approver.roles"));
    let approved = a
        .approve_grant(pending, &employee("sam", &["supervisor"]))
        .unwrap();
    // approved on gate a, honoured on gate b, for its own field only
    let d = b.decide(&request(Some(approved.clone()))).unwrap();
    assert_eq!(d.outcome("phone"), Outcome::Reveal);
    assert_eq!(d.outcome("email"), Outcome::Withhold);
    assert!(
        a.approve_grant(approved.clone(), &employee("sam", &["supervisor"]))
            .is_err(),
        "not pending"
    );
    a.revoke_grant(&approved.id).unwrap();
    let d = b.decide(&request(Some(approved))).unwrap();
    assert_eq!(d.outcome("phone"), Outcome::Withhold);
    assert!(d.has_alert("grant_revoked"));
}

/// The kill switch reaches grants: a supervisor suspended on the fleet (whatever the facts
/// passed in say) cannot approve, nobody gets a grant while suspended, and an id once revoked
/// cannot be approved or issued again (a grant under it could never be used).
#[test]
fn the_kill_switch_and_revocations_reach_grant_issuing() {
    let store: Arc<dyn VelocityStore> = Arc::new(MemoryStore::new());
    let a = gate_with(store.clone(), vec![key(1)]);
    let b = gate_with(store, vec![key(1)]);
    let pending = a.request_grant(grant("approved", &["phone"], 60)).unwrap();
    b.suspend("sam", "sold data").unwrap();
    let e = a
        .approve_grant(pending.clone(), &employee("sam", &["supervisor"]))
        .unwrap_err();
    assert_eq!(e.key(), Some("approver.id"), "{e}");
    b.suspend("alice", "under review").unwrap();
    let e = a
        .approve_grant(pending.clone(), &employee("pat", &["supervisor"]))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.grantee"), "{e}");
    let e = a
        .issue_break_glass(grant("break_glass", &["name"], 30))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.grantee"), "{e}");
    b.reinstate("alice").unwrap();
    // a pending request revoked is withdrawn: approving it is refused
    a.revoke_grant(&pending.id).unwrap();
    let e = a
        .approve_grant(pending, &employee("pat", &["supervisor"]))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.id"), "{e}");
    let e = a
        .issue_break_glass(grant("break_glass", &["name"], 30))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.id"), "{e}");
    let mut fresh = grant("break_glass", &["name"], 30);
    fresh.id = "g-2".into();
    assert!(a.issue_break_glass(fresh).is_ok());
}

#[test]
fn issuing_refuses_what_the_rules_refuse() {
    let g = gate_with(Arc::new(MemoryStore::new()), vec![key(1)]);
    let e = g
        .request_grant(grant("approved", &["phone"], 9 * 60))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.expires_at"), "past 8 h");
    let e = g
        .issue_break_glass(grant("break_glass", &["phone"], 61))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.expires_at"), "past 1 h");
    let mut no_incident = grant("break_glass", &["phone"], 30);
    no_incident.incident = None;
    assert_eq!(
        g.issue_break_glass(no_incident).unwrap_err().key(),
        Some("grant.incident")
    );
    let e = g
        .request_grant(grant("approved", &["ssn"], 60))
        .unwrap_err();
    assert_eq!(e.key(), Some("grant.fields[0]"));
    let bg = g
        .issue_break_glass(grant("break_glass", &["name"], 30))
        .unwrap();
    let d = g.decide(&request(Some(bg))).unwrap();
    assert_eq!(d.outcome("name"), Outcome::Reveal);
    assert_eq!(d.outcome("phone"), Outcome::Withhold);
    assert!(d.has_alert("break_glass"));
}

#[test]
fn keys_rotate_and_unknown_keys_are_refused() {
    let old = gate_with(Arc::new(MemoryStore::new()), vec![key(1)]);
    let issued = old
        .issue_break_glass(grant("break_glass", &["name"], 30))
        .unwrap();
    let rotated = gate_with(Arc::new(MemoryStore::new()), vec![key(2), key(1)]);
    assert_eq!(
        rotated
            .decide(&request(Some(issued.clone())))
            .unwrap()
            .outcome("name"),
        Outcome::Reveal
    );
    let retired = gate_with(Arc::new(MemoryStore::new()), vec![key(2)]);
    let d = retired.decide(&request(Some(issued))).unwrap();
    assert_eq!(d.outcome("name"), Outcome::Withhold);
    assert!(d.has_alert("grant_invalid"));
}

#[test]
fn a_suspended_grantee_gets_nothing_from_a_grant() {
    let g = gate_with(Arc::new(MemoryStore::new()), vec![key(1)]);
    let bg = g
        .issue_break_glass(grant("break_glass", &["name"], 30))
        .unwrap();
    g.suspend("alice", "investigation").unwrap();
    assert_eq!(
        g.decide(&request(Some(bg))).unwrap().outcome("name"),
        Outcome::Withhold
    );
}

const FIELDS: [&str; 4] = ["email", "name", "phone", "ticket_numbers"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A decision with a grant never reveals a field, customer, employee or purpose outside
    /// the grant (beyond what the request earns without it), and removing the grant never
    /// reveals more.
    #[test]
    fn a_grant_never_reveals_outside_itself(
        granted in proptest::sample::subsequence(FIELDS.to_vec(), 1..=4),
        other_customer in any::<bool>(),
        other_employee in any::<bool>(),
        other_purpose in any::<bool>(),
        offset_min in -120i64..120,
        break_glass in any::<bool>(),
    ) {
        let g = Gate::builder().clock(Clock::Replay).grant_key(key(1)).build().unwrap();
        let mut gr = grant(if break_glass { "break_glass" } else { "approved" }, &granted, 30);
        if !break_glass {
            gr.approver = Some("sam".into());
            gr.approver_roles = vec!["supervisor".into()];
        }
        let gr = g.sign_grant(gr);
        let mut req = request(Some(gr.clone()));
        req.at = Some(ts(offset_min));
        if other_customer { req.customer.id = "vip-2".into(); req.grant.as_mut().unwrap().customer = "vip-2".into(); }
        if other_employee { req.employee.id = "mallory".into(); }
        if other_purpose { req.purpose = Purpose::SecurityReview; }
        let with = match g.decide(&req) { Ok(d) => d, Err(_) => return Ok(()) };
        let mut without_req = req.clone();
        without_req.grant = None;
        let without = g.decide(&without_req).unwrap();
        let in_window = (-1..29).contains(&offset_min);
        for f in FIELDS {
            if with.outcome(f) == Outcome::Reveal && without.outcome(f) != Outcome::Reveal {
                prop_assert!(granted.contains(&f), "{f} revealed outside the grant");
                prop_assert!(!other_customer && !other_employee && !other_purpose && in_window,
                    "{f} revealed for the wrong customer, employee, purpose or instant");
            }
            prop_assert!(!(without.outcome(f) == Outcome::Reveal && with.outcome(f) != Outcome::Reveal)
                || with.has_alert("grant_invalid"), "a grant took away a reveal");
        }
    }
}
