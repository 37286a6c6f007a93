//! Gate behaviour beyond the vectors: fail-closed evaluation, pack-defined fields,
//! reload, view, kill switch, alert isolation and the audit hook.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use ticketgate::*;

fn request(extra: serde_json::Value) -> AccessRequest {
    let mut v = json!({
        "employee": {"id": "alice", "roles": ["agent"], "teams": ["billing"], "segments": ["consumer"],
            "shift": {"start": "2026-11-28T08:00:00Z", "end": "2026-11-28T16:00:00Z"}},
        "customer": {"id": "c1", "segment": "consumer", "vip": false, "employee": false},
        "ticket": {"id": "T-1", "customer": "c1", "assignee": "alice", "queue": "billing",
            "status": "open", "opened_at": "2026-11-28T07:00:00Z"},
        "purpose": "support",
        "at": "2026-11-28T10:00:00Z"
    });
    if let (Some(base), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in extra {
            base.insert(k.clone(), x.clone());
        }
    }
    AccessRequest::from_value(v).unwrap()
}

/// `n` requests, each on its own ticket, spread over `employees` employees and `customers`
/// customers in turn.
fn spread(n: usize, employees: usize, customers: usize) -> Vec<AccessRequest> {
    (0..n)
        .map(|i| {
            let mut r = request(json!({}));
            let (emp, cust) = (format!("e{}", i % employees), format!("c{}", i % customers));
            r.employee.id = emp.clone();
            r.customer.id = cust.clone();
            let t = r.ticket.as_mut().unwrap();
            t.assignee = Some(emp);
            t.customer = cust;
            r
        })
        .collect()
}

/// Alice asks about a ticket of her queue that Bob holds: masks (R3), no reveal.
fn colleague() -> AccessRequest {
    request(
        json!({"ticket": {"id": "T-1", "customer": "c1", "assignee": "bob", "queue": "billing",
        "status": "open", "opened_at": "2026-11-28T07:00:00Z"}}),
    )
}

fn pack_with(
    extra: &[(&str, &str)],
    schema_edit: impl Fn(&str) -> String,
) -> Result<PolicyPack, PolicyError> {
    let mut sources: Vec<SourceFile> = PolicyPack::default()
        .sources()
        .iter()
        .map(|s| SourceFile {
            name: s.name.clone(),
            text: if s.name == "schema.cedarschema" {
                schema_edit(&s.text)
            } else {
                s.text.clone()
            },
        })
        .collect();
    for (n, t) in extra {
        sources.push(SourceFile {
            name: (*n).into(),
            text: (*t).into(),
        });
    }
    PolicyPack::from_sources(sources)
}

#[test]
fn gate_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Gate>();
}

#[test]
fn an_erroring_forbid_never_becomes_a_reveal() {
    // Passes strict validation, but overflows at evaluation: Cedar skips an erroring
    // forbid, so without the gate's own check R1 would reveal.
    let pack = pack_with(
        &[(
            "overflow.cedar",
            "@id(\"overflowing-forbid\")\nforbid (principal, action in Action::\"reveal\", resource)\nwhen { context.velocity.hard * 9223372036854775807 > 1 };",
        )],
        str::to_owned,
    )
    .unwrap();
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .pack(pack)
        .build()
        .unwrap();
    let d = gate.decide(&request(json!({}))).unwrap();
    for f in ["name", "email", "ticket_numbers", "phone"] {
        let fd = &d.fields[f];
        assert_eq!(fd.outcome, Outcome::Withhold, "{f}: {fd:?}");
        assert!(!fd.errors.is_empty(), "{f} lists the error");
    }
    // and the same request on the default pack does reveal: the test can fail
    let d = Gate::builder()
        .clock(Clock::Replay)
        .build()
        .unwrap()
        .decide(&request(json!({})))
        .unwrap();
    assert_eq!(d.outcome("name"), Outcome::Reveal);
}

#[test]
fn a_field_added_to_the_pack_is_decided_without_code() {
    let pack = pack_with(
        &[(
            "postal.cedar",
            r#"@id("postal-own-ticket")
permit (principal, action == Action::"reveal_postal_address", resource)
when { context.purpose == "support" && context has ticket && context.ticket has assignee && context.ticket.assignee == principal };"#,
        )],
        |s| {
            s.replace("reveal_ticket_numbers in [reveal]", "reveal_ticket_numbers, reveal_postal_address in [reveal]")
                .replace("mask_ticket_numbers in [mask]", "mask_ticket_numbers, mask_postal_address in [mask]")
        },
    )
    .unwrap();
    assert!(pack.fields().contains(&"postal_address".to_owned()));
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .pack(pack)
        .build()
        .unwrap();
    let d = gate.decide(&request(json!({}))).unwrap();
    assert_eq!(d.outcome("postal_address"), Outcome::Reveal);
    assert_eq!(d.fields["postal_address"].policies, ["postal-own-ticket"]);
    // the group forbids cover the new field too
    let d = gate
        .decide(&request(json!({"at": "2026-11-28T17:00:00Z"})))
        .unwrap();
    assert_eq!(d.outcome("postal_address"), Outcome::Withhold);
    assert_eq!(d.fields["postal_address"].policies, ["R4-shift"]);
}

#[test]
fn a_field_action_outside_its_group_is_refused_at_load() {
    let e = pack_with(&[], |s| format!("{s}\naction reveal_fax, mask_fax in [mask] appliesTo {{ principal: Employee, resource: Customer, context: Ctx }};"))
        .unwrap_err();
    assert!(e.to_string().contains("reveal_fax"), "{e}");
}

#[test]
fn reload_is_atomic_and_refuses_a_bad_pack() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let before = gate.policy_version();
    let dir = tempfile::tempdir().unwrap();
    for s in PolicyPack::default().sources() {
        std::fs::write(dir.path().join(&s.name), &s.text).unwrap();
    }
    std::fs::write(dir.path().join("broken.cedar"), "permit (principal,").unwrap();
    assert!(matches!(gate.reload_dir(dir.path()), Err(Error::Policy(_))));
    assert_eq!(gate.policy_version(), before);
    std::fs::remove_file(dir.path().join("broken.cedar")).unwrap();
    std::fs::write(
        dir.path().join("extra.cedar"),
        "@id(\"nothing\")\nforbid (principal, action, resource) when { false };",
    )
    .unwrap();
    let after = gate.reload_dir(dir.path()).unwrap();
    assert_ne!(after, before);
    assert_eq!(
        gate.decide(&request(json!({}))).unwrap().policy_version,
        after
    );
}

#[test]
fn view_applies_outcomes_to_a_record() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let record = json!({"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "+1 555-555-1234",
        "ticket_numbers": ["TCK-004512"], "plan": "gold"});
    let v = gate
        .view(&request(json!({})), record.as_object().unwrap())
        .unwrap();
    assert_eq!(v.record["name"], "Jane Doe");
    assert_eq!(v.record["phone"], "+1 ***-***-1234");
    assert_eq!(v.record["plan"], "gold");
    let colleague = colleague();
    let v = gate.view(&colleague, record.as_object().unwrap()).unwrap();
    assert_eq!(v.record["name"], "J*** D**");
    assert_eq!(v.record["email"], "j***@example.com");
    assert_eq!(v.record["ticket_numbers"], json!(null));
    let bad = json!({"phone": 5551234});
    let e = gate.view(&colleague, bad.as_object().unwrap()).unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(ref i) if i.key == "record.phone"),
        "{e}"
    );
}

/// A record keyed as its language writes keys (`ticketNumbers` in JavaScript) or as a
/// database column is cased is the same contact data: each such key gets its field's outcome.
#[test]
fn view_takes_a_field_however_its_key_is_cased_or_separated() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let colleague = colleague();
    let record = json!({"ticketNumbers": ["TCK-004512"], "TICKET-NUMBERS": "TCK-004512",
        "Phone": "+1 555-555-1234", "E_Mail": "jane.doe@example.com", "fullName": "Jane Doe",
        "ticket_numbers_count": 1, "Ticket Numbers": "TCK-004512", " name ": "Jane Doe"});
    let v = gate.view(&colleague, record.as_object().unwrap()).unwrap();
    assert_eq!(v.record["ticketNumbers"], json!(null));
    assert_eq!(v.record["Ticket Numbers"], json!(null));
    assert_eq!(v.record[" name "], "J*** D**");
    assert_eq!(v.record["TICKET-NUMBERS"], json!(null));
    assert_eq!(v.record["Phone"], "+1 ***-***-1234");
    assert_eq!(v.record["E_Mail"], "j***@example.com");
    // not a field's name, however spelled: untouched
    assert_eq!(v.record["fullName"], "Jane Doe");
    assert_eq!(v.record["ticket_numbers_count"], 1);
    let bad = json!({"PHONE": 5551234});
    let e = gate.view(&colleague, bad.as_object().unwrap()).unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(ref i) if i.key == "record.PHONE"),
        "{e}"
    );
}

/// `mask` of the bindings masks as `view` does: a list item by item, null where the rules
/// cannot mask, and names what it cannot take.
#[test]
fn mask_takes_a_value_as_a_record_holds_it() {
    let mask = |field: &str, value: serde_json::Value| {
        let m: ticketgate::ffi::Mask =
            serde_json::from_value(json!({"field": field, "value": value})).unwrap();
        m.run()
    };
    let numbers = mask(
        "ticket_numbers",
        json!(["billing-42", "TCK-004512", "T-10442, T-10443"]),
    );
    assert_eq!(
        numbers.unwrap(),
        json!(["billing-**", "TCK-****12", "T-***42, T-***43"])
    );
    assert_eq!(
        mask("email", json!(["a@x.org", "nope"])).unwrap(),
        json!(["a***@x.org", null])
    );
    assert_eq!(
        mask("phone", json!("+1 555-555-1234")).unwrap(),
        "+1 ***-***-1234"
    );
    assert_eq!(mask("name", json!(null)).unwrap(), json!(null));
    for (bad, key) in [
        (json!(5), "value"),
        (json!({"a": "b"}), "value"),
        (json!(["a", 5]), "value[1]"),
    ] {
        let e = mask("name", bad).unwrap_err();
        assert!(
            matches!(e, Error::InvalidRequest(ref i) if i.key == key),
            "{e}"
        );
    }
    let colleague = colleague();
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let bad = json!({"email": ["a@x.org", null]});
    let e = gate.view(&colleague, bad.as_object().unwrap()).unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(ref i) if i.key == "record.email[1]"),
        "{e}"
    );
}

/// Built entities are kept per thread, keyed by the facts they were built from: the same
/// ids with other facts, asked right after on the same thread (of the same gate or another),
/// are decided on the new facts.
#[test]
fn an_entity_is_never_reused_for_other_facts() {
    let gate = || Gate::builder().clock(Clock::Replay).build().unwrap();
    let (a, b) = (gate(), gate());
    let outcome = |g: &Gate, r: &AccessRequest| g.decide(r).unwrap().fields["name"].outcome;
    let plain = request(json!({}));
    let vip = {
        let mut r = plain.clone();
        r.customer.vip = true;
        r
    };
    let senior = {
        let mut r = vip.clone();
        r.employee.roles.push("senior_agent".into());
        r
    };
    let closed_long_ago = {
        let mut r = plain.clone();
        let t = r.ticket.as_mut().unwrap();
        t.status = Status::Closed;
        t.opened_at = Timestamp::parse("2026-11-25T09:00:00Z").unwrap();
        t.closed_at = Some(Timestamp::parse("2026-11-26T09:00:00Z").unwrap());
        r
    };
    for g in [&a, &b, &a] {
        assert_eq!(outcome(g, &plain), Outcome::Reveal);
        assert_eq!(
            outcome(g, &vip),
            Outcome::Mask,
            "R6: the customer's new facts"
        );
        assert_eq!(
            outcome(g, &senior),
            Outcome::Reveal,
            "R6: the employee's new facts"
        );
        assert_ne!(
            outcome(g, &closed_long_ago),
            Outcome::Reveal,
            "R1: the ticket's"
        );
        assert_eq!(outcome(g, &plain), Outcome::Reveal);
    }
}

#[test]
fn kill_switch_withholds_everything_until_reinstated() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    gate.suspend("alice", "selling data").unwrap();
    let d = gate.decide(&request(json!({}))).unwrap();
    assert!(d.fields.values().all(|f| f.outcome == Outcome::Withhold));
    assert!(d.has_alert("suspended"));
    assert_eq!(gate.suspended().unwrap()[0].employee, "alice");
    assert!(gate.reinstate("alice").unwrap());
    assert_eq!(
        gate.decide(&request(json!({}))).unwrap().outcome("name"),
        Outcome::Reveal
    );
}

#[test]
fn a_panicking_alert_callback_cannot_break_decisions() {
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .on_alert(Arc::new(move |_d: &Decision, a: &Alert| {
            s.fetch_add(1, Ordering::SeqCst);
            if a.kind == "no_ticket" {
                panic!("callback bug");
            }
            Ok(())
        }))
        .build()
        .unwrap();
    // three employees: three episodes, so three deliveries
    for who in ["alice", "bob", "carol"] {
        let mut r = request(json!({"ticket": null}));
        r.employee.id = who.into();
        let d = gate.decide(&r).unwrap();
        assert!(d.has_alert("no_ticket"));
    }
    // the delivery thread counts a failure after the callback's panic unwinds, a moment
    // after the callback counted its call: wait for both
    let failed = || gate.alert_stats().unwrap().failed.load(Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (seen.load(Ordering::SeqCst) < 3 || failed() < 3) && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    assert_eq!(failed(), 3);
}

#[test]
fn decisions_are_audited_and_forensics_find_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(&path))
        .build()
        .unwrap();
    let d = gate
        .decide(&request(
            json!({"client": "helpdesk", "source_ip": "10.1.2.3"}),
        ))
        .unwrap();
    gate.decide(&request(json!({"ticket": null}))).unwrap();
    gate.suspend("alice", "investigation").unwrap();
    let log = gate.audit_log().unwrap();
    let affected = gate.audit_affected("sec-1", "alice", None, None).unwrap();
    assert_eq!(affected.len(), 1);
    assert_eq!(affected[0].customer, "c1");
    assert_eq!(
        affected[0].fields.iter().collect::<Vec<_>>(),
        ["email", "name", "ticket_numbers"]
    );
    let rows = gate.audit_customer("sec-1", "c1").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].decision_id.len() + rows[1].decision_id.len(),
        2 * d.decision_id.len()
    );
    let mut kinds = Vec::new();
    audit::for_each_record(std::slice::from_ref(&path), |r| kinds.push(r.kind)).unwrap();
    assert_eq!(kinds.last().unwrap(), "audit_read");
    let report = audit::verify(
        &[path],
        &audit::VerifyOptions {
            expect_head: Some(log.head()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.records, 5);
}

#[test]
fn an_unusable_audit_log_is_a_typed_error_at_build() {
    let e = Gate::builder()
        .audit_log(AuditOptions::new("/dev/full"))
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Audit(_)), "{e}");
    assert_eq!(e.code(), "AuditError");
}

#[test]
fn velocity_limits_are_configurable_and_checked() {
    let cfg = VelocityConfig {
        window_s: 60,
        soft: 1,
        hard: 2,
        ..VelocityConfig::default()
    };
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .velocity(cfg)
        .build()
        .unwrap();
    for (i, want) in [
        (1, Outcome::Reveal),
        (2, Outcome::Reveal),
        (3, Outcome::Mask),
    ] {
        let c = format!("c{i}");
        let r = request(
            json!({"customer": {"id": c, "segment": "consumer", "vip": false, "employee": false}, "ticket": {"id": format!("T-{i}"), "customer": c,
            "assignee": "alice", "queue": "billing", "status": "open", "opened_at": "2026-11-28T07:00:00Z"}}),
        );
        let d = gate.decide(&r).unwrap();
        assert_eq!(d.outcome("name"), want, "customer {i}");
        assert_eq!(d.velocity.unwrap().count, i.min(2));
    }
    let bad = Gate::builder()
        .clock(Clock::Replay)
        .velocity(VelocityConfig {
            window_s: 60,
            soft: 5,
            hard: 2,
            ..VelocityConfig::default()
        })
        .build();
    assert!(matches!(bad, Err(Error::InvalidRequest(_))));
}

#[test]
fn policy_dir_in_repo_matches_the_embedded_pack() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    assert_eq!(
        PolicyPack::from_dir(dir).unwrap().version(),
        PolicyPack::default().version()
    );
}

#[test]
fn shadow_mode_refuses_nothing_but_reports_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .mode(Mode::Shadow)
        .audit_log(AuditOptions::new(&path))
        .build()
        .unwrap();
    let d = gate.decide(&request(json!({"ticket": null}))).unwrap();
    assert!(d.fields.values().all(|f| f.outcome == Outcome::Reveal));
    assert_eq!(d.enforced("name"), Outcome::Withhold);
    assert!(d.has_alert("no_ticket"));
    // velocity counts what enforcement would have revealed: nothing here
    assert_eq!(d.velocity.unwrap().count, 0);
    let mut records = Vec::new();
    audit::for_each_record(&[path], |r| records.push(r)).unwrap();
    assert_eq!(
        records[0]
            .decision
            .as_ref()
            .unwrap()
            .would_enforce
            .as_ref()
            .unwrap()["name"],
        Outcome::Withhold
    );
}

#[test]
fn a_hanging_alert_callback_cannot_slow_decisions() {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(wait);
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .on_alert(Arc::new(move |_d: &Decision, _a: &Alert| {
            // hangs until the test ends
            let _ = wait.lock().unwrap().recv();
            Ok(())
        }))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    for _ in 0..200 {
        assert!(gate
            .decide(&request(json!({"ticket": null})))
            .unwrap()
            .has_alert("no_ticket"));
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    drop(release);
}

/// The Rust side of docs/bad-input.md: each row Rust can express.
#[test]
fn the_bad_input_catalogue_in_rust() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/bad-input.md"),
    )
    .unwrap();
    let base = || serde_json::to_value(request(json!({}))).unwrap();
    let decide = |v: serde_json::Value, clock: Clock| {
        let gate = Gate::builder().clock(clock).build().unwrap();
        AccessRequest::from_value(v)
            .map_err(Error::from)
            .and_then(|r| gate.decide(&r))
    };
    let mut nested = json!("x");
    for _ in 0..100 {
        nested = json!([nested]);
    }
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = base();
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Result<Decision>, &str)> = vec![
        (
            "malformed-json",
            AccessRequest::from_json(r#"{"employee":"#)
                .map(|_| unreachable!())
                .map_err(Error::from),
            "",
        ),
        (
            "wrong-type",
            decide(
                with(&|v| v["customer"]["vip"] = json!("yes")),
                Clock::Replay,
            ),
            "customer.vip",
        ),
        (
            "huge-string",
            decide(
                with(&|v| v["client"] = json!("x".repeat(2000))),
                Clock::Replay,
            ),
            "client",
        ),
        (
            "huge-list",
            decide(
                with(&|v| v["employee"]["teams"] = json!(vec!["t"; 1000])),
                Clock::Replay,
            ),
            "employee.teams",
        ),
        (
            "deep-nesting",
            decide(
                with(&|v| v["justification"] = nested.clone()),
                Clock::Replay,
            ),
            "justification",
        ),
        (
            "naive-time",
            decide(
                with(&|v| v["at"] = json!("2026-11-28T10:00:00")),
                Clock::Replay,
            ),
            "at",
        ),
        (
            "unknown-key",
            decide(
                with(&|v| v["employee"]["nickname"] = json!("x")),
                Clock::Replay,
            ),
            "employee.nickname",
        ),
        (
            "unknown-purpose",
            decide(with(&|v| v["purpose"] = json!("curiosity")), Clock::Replay),
            "purpose",
        ),
        (
            "missing-fact",
            decide(
                with(&|v| {
                    v["customer"].as_object_mut().unwrap().remove("vip");
                }),
                Clock::Replay,
            ),
            "customer",
        ),
        ("at-out-of-window", decide(base(), Clock::Live), "at"),
        (
            "blank-id",
            decide(
                with(&|v| {
                    v["customer"]["id"] = json!("  ");
                    v["ticket"]["customer"] = json!("  ");
                }),
                Clock::Replay,
            ),
            "customer.id",
        ),
        (
            "ticket-mismatch",
            decide(
                with(&|v| v["ticket"]["customer"] = json!("c2")),
                Clock::Replay,
            ),
            "ticket.customer",
        ),
        (
            "empty-grant-key",
            GrantKey::new(Vec::new())
                .map(|_| unreachable!())
                .map_err(Error::from),
            "grant_key",
        ),
    ];
    for (row, result, key) in cases {
        assert!(
            doc.contains(&format!("| `{row}` |")),
            "{row} is not in the catalogue"
        );
        let e = result.unwrap_err();
        assert_eq!(e.code(), "InvalidRequest", "{row}: {e}");
        let got = e.key().unwrap();
        assert!(
            got == key || got.starts_with(&format!("{key}[")),
            "{row}: key {got}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for s in PolicyPack::default().sources() {
        std::fs::write(dir.path().join(&s.name), &s.text).unwrap();
    }
    std::fs::write(
        dir.path().join("broken.cedar"),
        "@id(\"x\")\npermit (principal, action, resource)\nwhen { principal.nope };\n",
    )
    .unwrap();
    assert!(matches!(
        PolicyPack::from_dir(dir.path()),
        Err(PolicyError { .. })
    ));
}

fn live_request(customer: &str, at: Timestamp) -> AccessRequest {
    let h = 3_600_000;
    let t = |ms: i64| {
        Timestamp::from_millis(at.millis() + ms)
            .unwrap()
            .to_string()
    };
    AccessRequest::from_value(json!({
        "employee": {"id": "alice", "roles": ["agent"], "teams": ["billing"], "segments": ["consumer"],
            "shift": {"start": t(-4 * h), "end": t(4 * h)}},
        "customer": {"id": customer, "segment": "consumer", "vip": false, "employee": false},
        "ticket": {"id": format!("T-{customer}"), "customer": customer, "assignee": "alice",
            "queue": "billing", "status": "open", "opened_at": t(-5 * h)},
        "purpose": "support",
        "at": at.to_string()
    }))
    .unwrap()
}

#[test]
fn no_request_can_move_a_live_velocity_window() {
    let gate = Gate::builder()
        .velocity(VelocityConfig {
            window_s: 3600,
            soft: 2,
            hard: 3,
            ..VelocityConfig::default()
        })
        .build()
        .unwrap();
    let now = Timestamp::now();
    for i in 0..3 {
        let d = gate.decide(&live_request(&format!("c{i}"), now)).unwrap();
        assert_eq!(d.outcome("name"), Outcome::Reveal);
    }
    let later = Timestamp::from_millis(now.millis() + 70 * 60_000).unwrap();
    let e = gate.decide(&live_request("c3", later)).unwrap_err();
    assert_eq!(e.key(), Some("at"));
    // within the accepted skew and age, the window is still counted by the gate's clock
    let near = Timestamp::from_millis(now.millis() + 20_000).unwrap();
    let d = gate.decide(&live_request("c4", near)).unwrap();
    assert_ne!(d.outcome("name"), Outcome::Reveal);
    assert!(d.has_alert("velocity_hard"));
}

#[test]
fn suspension_is_enforced_by_the_gate_in_every_mode_and_pack() {
    let without_r7: Vec<SourceFile> = PolicyPack::default()
        .sources()
        .iter()
        .map(|s| {
            let mut text = s.text.clone();
            if let Some(start) = text.find("@id(\"R7-suspended\")") {
                let end = start + text[start..].find(';').unwrap() + 1;
                text.replace_range(start..end, "");
            }
            SourceFile {
                name: s.name.clone(),
                text,
            }
        })
        .collect();
    let pack = PolicyPack::from_sources(without_r7).unwrap();
    assert!(!pack.policy_ids().contains(&"R7-suspended".to_owned()));
    for mode in [Mode::Enforce, Mode::Shadow] {
        let gate = Gate::builder()
            .clock(Clock::Replay)
            .pack(pack.clone())
            .mode(mode)
            .build()
            .unwrap();
        assert_eq!(
            gate.decide(&request(json!({}))).unwrap().outcome("name"),
            Outcome::Reveal
        );
        gate.suspend("alice", "sold data").unwrap();
        let d = gate.decide(&request(json!({}))).unwrap();
        assert!(
            d.fields.values().all(|f| f.outcome == Outcome::Withhold),
            "{mode:?}: {d:?}"
        );
        assert_eq!(d.fields["name"].policies, [SUSPENDED_GUARD]);
        assert!(d.has_alert("suspended"));
    }
}

#[derive(Debug)]
struct DownStore;

impl VelocityStore for DownStore {
    fn admit(
        &self,
        _: &str,
        _: &str,
        _: Timestamp,
        _: Windows,
        _: &mut dyn FnMut(&Observation) -> bool,
    ) -> Result<Observation, StoreError> {
        Err(StoreError {
            message: "down".into(),
        })
    }
    fn record(&self, _: &str, _: &str, _: Timestamp, _: i64) -> Result<(), StoreError> {
        Err(StoreError {
            message: "down".into(),
        })
    }
    fn suspend(&self, _: &str, _: &str, _: Timestamp) -> Result<(), StoreError> {
        Err(StoreError {
            message: "down".into(),
        })
    }
    fn reinstate(&self, _: &str) -> Result<bool, StoreError> {
        Err(StoreError {
            message: "down".into(),
        })
    }
    fn suspended(&self) -> Result<Vec<Suspension>, StoreError> {
        Err(StoreError {
            message: "down".into(),
        })
    }
}

#[test]
fn a_known_suspension_holds_while_the_store_is_down() {
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .store(Arc::new(DownStore))
        .build()
        .unwrap();
    let mut bob = request(json!({}));
    bob.employee.id = "bob".into();
    bob.ticket.as_mut().unwrap().assignee = Some("alice".into());
    assert_eq!(gate.decide(&bob).unwrap().outcome("name"), Outcome::Mask);
    assert!(gate.suspend("bob", "investigation").is_err());
    let d = gate.decide(&bob).unwrap();
    assert!(
        d.fields.values().all(|f| f.outcome == Outcome::Withhold),
        "{d:?}"
    );
}

#[test]
fn batches_give_one_result_per_item_and_previews_are_not_counted() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let good = request(json!({}));
    let mut bad = request(json!({}));
    bad.ticket.as_mut().unwrap().customer = "c2".into();
    let out = gate.decide_many(&[good.clone(), bad, good.clone()]);
    assert_eq!(out.len(), 3);
    assert!(out[0].is_ok() && out[1].is_err() && out[2].is_ok());
    let mut preview = request(json!({"intent": "preview"}));
    preview.customer.id = "c1".into();
    let d = gate.decide(&preview).unwrap();
    assert_eq!(d.outcome("name"), Outcome::Mask);
    assert!(d.velocity.is_none());
}

/// A replay gate whose hard velocity limit (5 customers an hour) a batch of [`spread`]
/// requests reaches, so that the order each employee's requests are decided in shows.
fn tight_gate() -> Gate {
    let cfg = VelocityConfig {
        window_s: 3600,
        soft: 3,
        hard: 5,
        ..VelocityConfig::default()
    };
    Gate::builder()
        .clock(Clock::Replay)
        .velocity(cfg)
        .build()
        .unwrap()
}

/// A batch over many employees runs on several threads, yet counts velocity exactly as a
/// loop of single calls: the same reveals reach the hard limit, in the same order.
#[test]
fn a_parallel_batch_counts_velocity_as_a_loop_does() {
    let reqs = spread(400, 7, 23);
    // peer signals compare an employee with the others, decided at the same time on the other
    // core: the request on which one fires may differ from a loop's (docs/detection.md)
    let strip = |d: Result<Decision, Error>| {
        let mut d = d.unwrap();
        d.alerts
            .retain(|a| !["reveal_volume", "self_assigned"].contains(&a.kind.as_str()));
        (d.fields, d.alerts, d.velocity)
    };
    let looped = tight_gate();
    let expected: Vec<_> = reqs.iter().map(|r| strip(looped.decide(r))).collect();
    let batched: Vec<_> = tight_gate()
        .decide_many(&reqs)
        .into_iter()
        .map(strip)
        .collect();
    assert_eq!(batched, expected);
    // pushed one by one as a binding reads them, decided by the workers meanwhile; an item
    // that failed to convert keeps its slot. Pushed at full speed, and with pauses, so that
    // workers catch up and take an employee again when more of their requests arrive.
    for pause in [None, Some(std::time::Duration::from_millis(2))] {
        let mut pushed = tight_gate().batch();
        for (i, r) in reqs.iter().enumerate() {
            if i == 200 {
                pushed.push(Err(InvalidRequest::new("[200].purpose", "bad").into()));
            }
            if let (Some(p), true) = (pause, i % 40 == 0) {
                std::thread::sleep(p);
            }
            pushed.push(Ok(r.clone()));
        }
        let mut results = pushed.finish();
        let bad = results.remove(200);
        assert!(matches!(bad, Err(Error::InvalidRequest(ref e)) if e.key == "[200].purpose"));
        assert_eq!(results.into_iter().map(strip).collect::<Vec<_>>(), expected);
    }
    assert!(expected
        .iter()
        .any(|(_, alerts, _)| alerts.iter().any(|a| a.kind == "velocity_hard")));
}

/// A view batch the bindings push pairs into as they read them gives what `view_many` gives,
/// pair by pair in order: a record that cannot be masked and a pair that failed to convert
/// keep their slots, and velocity counts as a loop would.
#[test]
fn a_pushed_view_batch_views_as_view_many_does() {
    let record = |i: usize| {
        let r = json!({"name": format!("Jane Doe {i}"), "email": "jane@example.com",
            "phone": if i == 50 { json!(5551234) } else { json!("+1 555-555-1234") },
            "ticket_numbers": ["billing-10423"], "plan": "gold"});
        r.as_object().unwrap().clone()
    };
    let pairs: Vec<_> = spread(300, 7, 23)
        .into_iter()
        .enumerate()
        .map(|(i, r)| (r, record(i)))
        .collect();
    let strip = |v: Result<View, Error>| match v {
        Ok(v) => Ok((v.record, v.decision.fields, v.decision.velocity)),
        Err(Error::InvalidRequest(e)) => Err(e.key),
        Err(e) => panic!("{e}"),
    };
    let expected: Vec<_> = tight_gate()
        .view_many(&pairs)
        .into_iter()
        .map(strip)
        .collect();
    assert_eq!(expected[50], Err("record.phone".into()));
    let mut pushed = tight_gate().view_batch();
    for (i, p) in pairs.iter().enumerate() {
        if i == 100 {
            pushed.push(Err(InvalidRequest::new("[100].purpose", "bad").into()));
        }
        pushed.push(Ok(p.clone()));
    }
    let mut got: Vec<_> = pushed.finish().into_iter().map(strip).collect();
    assert_eq!(got.remove(100), Err("[100].purpose".into()));
    assert_eq!(got, expected);
    // the hard limit refused some reveals: which ones depends on each employee's order
    assert!(got
        .iter()
        .enumerate()
        .any(|(i, r)| matches!(r, Ok((rec, _, _)) if rec["name"] != record(i)["name"])));
}

/// A batch fed its pairs as parts of JSON text (Node's large async batches) gives what the
/// same batch sent as one text gives: results in order, velocity as a loop counts it, and a
/// bad item's key naming its index in the whole batch, whichever part it came in.
#[test]
fn a_fed_batch_gives_what_one_text_gives() {
    use ticketgate::ffi::{Done, Work};
    let mut pairs: Vec<serde_json::Value> = spread(300, 7, 23)
        .iter()
        .map(|r| json!([r, {"name": "Jane Doe", "phone": "+1 555-555-1234", "plan": "gold"}]))
        .collect();
    pairs[100][0]["purpose"] = json!("gossip");
    pairs[149][1]["phone"] = json!(5551234);
    pairs[150] = json!("not a pair");
    let texts = |done: Done| match done {
        Done::Many((text, failed)) => {
            let mut all: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
            all.iter_mut()
                .filter_map(|v| v.get_mut("decision"))
                .for_each(|d| d["decisionId"] = json!(null));
            let failed: Vec<_> = failed
                .into_iter()
                .map(|(i, e)| (i, e.to_string()))
                .collect();
            (all, failed)
        }
        Done::One(_) => panic!("one result for a batch"),
    };
    let whole = Work::Text("view_many".into(), json!(pairs).to_string());
    let expected = texts(whole.run(&tight_gate()).unwrap());
    assert_eq!(expected.1.len(), 3, "{:?}", expected.1);
    assert!(
        expected.1[0].1.contains("[100].purpose"),
        "{:?}",
        expected.1
    );
    let gate = tight_gate();
    let feed = Work::feed(&gate, true);
    for part in [&pairs[..1], &pairs[1..100], &pairs[100..150], &pairs[150..]] {
        feed.push(json!(part).to_string());
    }
    assert_eq!(texts(Done::Many(feed.finish().unwrap())), expected);
}

/// A part that is not a JSON array, or one that takes the batch past its limit, fails the
/// whole batch with a typed error (nothing of it is handed out).
#[test]
fn a_fed_batch_refuses_a_bad_part_and_one_past_the_limit() {
    use ticketgate::ffi::Work;
    let gate = tight_gate();
    for part in ["{}", "[1,", "\"text\""] {
        let feed = Work::feed(&gate, false);
        feed.push(json!([request(json!({}))]).to_string());
        feed.push(part.into());
        let e = feed.finish().unwrap_err();
        assert!(
            matches!(&e, Error::InvalidRequest(ir) if ir.reason.contains("not a JSON array")),
            "{e}"
        );
    }
    let feed = Work::feed(&gate, false);
    let zeros = vec![0; ticketgate::limits::MAX_BATCH];
    feed.push(json!(zeros).to_string());
    feed.push("[0]".into());
    let e = feed.finish().unwrap_err();
    assert!(e.to_string().contains("at most 100000"), "{e}");
    // no part at all: an empty batch
    assert_eq!(Work::feed(&gate, true).finish().unwrap().0, "[]");
}

/// `on_alert` hears of episodes (one employee, kind and day), not of every decision; the
/// decision and the trail keep every alert, numbered within its episode.
#[test]
fn alerts_reach_on_alert_once_per_episode_and_again_when_repetition_escalates() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .on_alert(Arc::new(move |_d: &Decision, a: &Alert| {
            s.lock()
                .unwrap()
                .push((a.kind.clone(), a.occurrence, a.severity));
            Ok(())
        }))
        .build()
        .unwrap();
    for i in 0..12 {
        let d = gate.decide(&request(json!({"ticket": null}))).unwrap();
        let a = d.alerts.iter().find(|a| a.kind == "no_ticket").unwrap();
        assert_eq!(a.occurrence, i + 1);
    }
    let mut next_day = request(json!({"ticket": null}));
    let at = next_day.at.unwrap();
    next_day.at = Some(Timestamp::from_millis(at.millis() + 86_400_000).unwrap());
    next_day.employee.shift = None;
    gate.decide(&next_day).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while seen.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    let got: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _, _)| k == "no_ticket")
        .cloned()
        .collect();
    assert_eq!(
        got,
        vec![
            ("no_ticket".to_owned(), 1, Severity::Low),
            (
                "no_ticket".to_owned(),
                ticketgate::detect::REPEATED,
                Severity::Medium
            ),
            ("no_ticket".to_owned(), 1, Severity::Low),
        ]
    );
}

/// `who` reads `customer` through their own ticket, routed to them or self-assigned.
fn assigned(who: &str, customer: &str, self_assigned: bool) -> AccessRequest {
    let mut r = request(json!({}));
    r.employee.id = who.into();
    r.customer.id = customer.into();
    let t = r.ticket.as_mut().unwrap();
    t.customer = customer.into();
    t.assignee = Some(who.into());
    t.assigned_by = Some(if self_assigned { who } else { "router" }.into());
    r
}

/// An employee revealing far more customers of self-assigned tickets than the peers of
/// their team today raises `self_assigned` and `reveal_volume`, once each.
#[test]
fn the_peer_signals_fire_once_a_day_against_the_team_median() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let reveal = |who: &str, customer: &str, self_assigned: bool| {
        gate.decide(&assigned(who, customer, self_assigned))
            .unwrap()
    };
    for peer in ["p1", "p2", "p3", "p4"] {
        for c in 0..3 {
            reveal(peer, &format!("{peer}-c{c}"), c == 0);
        }
    }
    let mut fired = Vec::new();
    for c in 0..25 {
        let d = reveal("mallory", &format!("m-c{c}"), true);
        assert_eq!(d.outcome("name"), Outcome::Reveal);
        for a in d
            .alerts
            .iter()
            .filter(|a| a.kind == "self_assigned" || a.kind == "reveal_volume")
        {
            fired.push((c, a.kind.clone(), a.severity));
        }
    }
    // the median of the peers is 1 self-assigned (3 revealed) customer: 10 above and 3x
    assert_eq!(
        fired,
        vec![
            (10, "self_assigned".to_owned(), Severity::Medium),
            (12, "reveal_volume".to_owned(), Severity::Medium),
        ]
    );
}

/// `audit anomalies` finds the same out-of-line employee from the trail alone, with the
/// alert episodes folded per employee, kind and day.
#[test]
fn anomalies_from_the_trail_name_the_employee_out_of_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(&log).durability(Durability::Batched))
        .build()
        .unwrap();
    let reveal = |who: &str, customer: &str, self_assigned: bool| {
        gate.decide(&assigned(who, customer, self_assigned))
            .unwrap();
    };
    for peer in ["p1", "p2", "p3", "p4"] {
        for c in 0..4 {
            reveal(peer, &format!("{peer}-c{c}"), c == 0);
        }
    }
    for c in 0..20 {
        reveal("mallory", &format!("m-c{c}"), true);
    }
    for _ in 0..12 {
        gate.decide(&request(json!({"ticket": null}))).unwrap();
    }
    gate.audit_log().unwrap().sync().unwrap();
    let found = audit::anomalies(&[log], &audit::AnomalyOptions::default()).unwrap();
    let medium: Vec<_> = found
        .iter()
        .filter(|a| a.severity >= Severity::Medium)
        .map(|a| (a.employee.as_str(), a.signal.as_str()))
        .collect();
    assert!(medium.contains(&("mallory", "self_assigned")), "{found:#?}");
    assert!(medium.contains(&("mallory", "reveal_volume")), "{found:#?}");
    // twelve `no_ticket` refusals by alice in a day: one episode, escalated to medium
    let no_ticket = found
        .iter()
        .find(|a| a.employee == "alice" && a.signal == "no_ticket")
        .unwrap();
    assert_eq!(
        (no_ticket.value, no_ticket.severity),
        (12, Severity::Medium)
    );
    assert!(
        !medium.iter().any(|(e, _)| e.starts_with('p')),
        "{medium:?}"
    );
}

#[test]
fn unusable_velocity_limits_are_refused_naming_the_limit_at_fault() {
    let key = |v: VelocityConfig| match Gate::builder().velocity(v).build() {
        Err(Error::InvalidRequest(e)) => (e.key, e.reason),
        other => panic!("built: {:?}", other.map(|_| ())),
    };
    let base = VelocityConfig::default();
    let day = |d: DayLimits| VelocityConfig { day: d, ..base };
    let cases = [
        (
            VelocityConfig {
                window_s: 0,
                ..base
            },
            "velocity.window_s",
        ),
        (
            VelocityConfig {
                hard: 0,
                soft: 0,
                ..base
            },
            "velocity.hard",
        ),
        (VelocityConfig { soft: 31, ..base }, "velocity.soft"),
        (
            day(DayLimits {
                window_s: 60,
                ..base.day
            }),
            "velocity.day.window_s",
        ),
        (
            day(DayLimits {
                soft: 300,
                ..base.day
            }),
            "velocity.day.soft",
        ),
        (
            VelocityConfig {
                soft: 100,
                hard: 500,
                ..base
            },
            "velocity.day.hard",
        ),
        (
            day(DayLimits {
                soft: 10,
                ..base.day
            }),
            "velocity.day.soft",
        ),
    ];
    for (v, want) in cases {
        let (got, why) = key(v);
        assert_eq!(got, want, "{why}");
        assert!(
            why.chars().any(|c| c.is_ascii_digit()),
            "says the values: {why}"
        );
    }
    assert!(Gate::builder().velocity(base).build().is_ok());
}

/// A live gate's tolerances stay tolerances: an hour of skew, a day of age at most.
#[test]
fn a_live_gate_refuses_tolerances_that_would_let_the_caller_pick_the_time() {
    use std::time::Duration;
    let key = |b: GateBuilder| match b.build() {
        Err(Error::InvalidRequest(e)) => e.key,
        other => panic!("built: {:?}", other.map(|_| ())),
    };
    assert_eq!(
        key(Gate::builder().max_skew(Duration::from_secs(3601))),
        "max_skew_s"
    );
    assert_eq!(
        key(Gate::builder().max_age(Duration::from_secs(86_401))),
        "max_age_s"
    );
    let widest = Gate::builder()
        .max_skew(Duration::from_secs(3600))
        .max_age(Duration::from_secs(86_400));
    assert!(widest.build().is_ok());
}

/// `close` writes the trail out and lets go of the file: the same process can open it again
/// (a reconfigured gate, a test), the chain goes on, and the closed gate refuses to decide
/// rather than decide unrecorded.
#[test]
fn close_writes_out_the_trail_and_lets_go_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let heads = dir.path().join("heads");
    let open = || {
        Gate::builder()
            .clock(Clock::Replay)
            .audit_log(
                AuditOptions::new(&log)
                    .durability(Durability::Batched)
                    .checkpoint(&heads),
            )
            .build()
    };
    let first = open().unwrap();
    for _ in 0..3 {
        first.decide(&request(json!({}))).unwrap();
    }
    assert!(
        open().is_err(),
        "one writer per file while the first is open"
    );
    first.close().unwrap();
    first.close().unwrap();
    let e = first.decide(&request(json!({}))).unwrap_err();
    assert!(
        matches!(e, Error::Audit(ref a) if a.message.contains("closed")),
        "{e}"
    );
    let second = open().unwrap();
    second.decide(&request(json!({}))).unwrap();
    second.close().unwrap();
    let report =
        audit::verify(std::slice::from_ref(&log), &audit::VerifyOptions::default()).unwrap();
    assert_eq!(report.records, 4);
    let head = std::fs::read_to_string(&heads).unwrap();
    assert!(head.starts_with("4:"), "{head}");
}

#[test]
fn a_batch_shares_one_fsync_under_always_durability() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(dir.path().join("audit.jsonl")).durability(Durability::Always))
        .build()
        .unwrap();
    let reqs = spread(200, 9, 200);
    let log = gate.audit_log().unwrap();
    let syncs = |run: &dyn Fn()| {
        let before = log.syncs();
        run();
        log.syncs() - before
    };
    assert_eq!(
        syncs(&|| assert!(gate.decide_many(&reqs).iter().all(Result::is_ok))),
        1
    );
    let record = serde_json::Map::new();
    let pairs: Vec<_> = reqs.iter().map(|r| (r.clone(), record.clone())).collect();
    assert_eq!(
        syncs(&|| assert!(gate.view_many(&pairs).iter().all(Result::is_ok))),
        1
    );
    // the batches the bindings push into as they read
    fn pushed<T: BatchItem + Clone>(mut batch: Batch<T>, items: &[T]) {
        items.iter().for_each(|i| batch.push(Ok(i.clone())));
        assert!(batch.finish().iter().all(Result::is_ok));
    }
    assert_eq!(syncs(&|| pushed(gate.batch(), &reqs)), 1);
    assert_eq!(syncs(&|| pushed(gate.view_batch(), &pairs)), 1);
    // and fed as parts of text (Node)
    let fed = || {
        let feed = ticketgate::ffi::Work::feed(&gate, false);
        reqs.chunks(64)
            .for_each(|part| feed.push(json!(part).to_string()));
        assert!(feed.finish().unwrap().1.is_empty());
    };
    assert_eq!(syncs(&fed), 1);
    // each single call waits for its own
    assert_eq!(
        syncs(&|| reqs[..20]
            .iter()
            .for_each(|r| drop(gate.decide(r).unwrap()))),
        20
    );
    assert_eq!(log.head().seq, 5 * 200 + 20);
}

/// Only a gate whose store forgets at a restart, and which has a trail, is told to restore:
/// a shared store keeps its own state.
#[test]
fn a_gate_needs_restoring_with_the_memory_store_and_a_trail_only() {
    let dir = tempfile::tempdir().unwrap();
    let trail = || AuditOptions::new(dir.path().join("trail.jsonl"));
    let memory = Gate::builder().audit_log(trail()).build().unwrap();
    assert!(memory.needs_restore());
    drop(memory);
    assert!(!Gate::builder().build().unwrap().needs_restore());
    let sqlite = SqliteStore::open(dir.path().join("velocity.db")).unwrap();
    let shared = Gate::builder()
        .store(Arc::new(sqlite))
        .audit_log(trail())
        .build()
        .unwrap();
    assert!(!shared.needs_restore());
}

/// A deploy restarts every worker with an empty memory store: without `restore` the
/// suspended insider would be back, a revoked grant usable and every velocity window empty.
#[test]
fn a_restarted_gate_restores_the_kill_switch_revocations_and_counts_from_its_trail() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    std::fs::create_dir(&trail).unwrap();
    let keys = || GrantKeys::new(vec![GrantKey::new([9; 32]).unwrap()]).unwrap();
    let open = || {
        Gate::builder()
            .velocity(VelocityConfig {
                window_s: 3600,
                soft: 2,
                hard: 3,
                ..VelocityConfig::default()
            })
            .grant_keys(keys())
            .audit_log(AuditOptions::new(&trail))
            .build()
            .unwrap()
    };
    let now = Timestamp::now();
    let ago = |min: i64| Timestamp::from_millis(now.millis() - min * 60_000).unwrap();
    let at = |min: i64| Timestamp::from_millis(now.millis() + min * 60_000).unwrap();
    let grant: Grant = serde_json::from_value(json!({
        "id": "g-1", "kind": "break_glass", "grantee": "alice", "customer": "c9",
        "fields": ["phone"], "purpose": "support", "reason": "fraud call", "incident": "INC-1",
        "issued_at": ago(1).to_string(), "expires_at": at(50).to_string()}))
    .unwrap();
    let mut with_grant = live_request("c9", now);
    with_grant.grant = Some(
        Gate::builder()
            .grant_keys(keys())
            .build()
            .unwrap()
            .sign_grant(grant),
    );
    let before = open();
    for c in ["c0", "c1"] {
        let d = before.decide(&live_request(c, now)).unwrap();
        assert_eq!(d.outcome("name"), Outcome::Reveal);
    }
    let mut preview = live_request("c5", now);
    preview.intent = Some(Intent::Preview);
    before.decide(&preview).unwrap();
    before.suspend("mallory", "sold customer data").unwrap();
    before.suspend("bob", "mistake").unwrap();
    before.reinstate("bob").unwrap();
    assert_eq!(
        before.decide(&with_grant).unwrap().outcome("phone"),
        Outcome::Reveal
    );
    before.revoke_grant("g-1").unwrap();
    before.close().unwrap();

    let after = open();
    let restored = after.restore().unwrap();
    assert_eq!(restored.suspended, ["mallory"]);
    assert_eq!(restored.revoked, ["g-1"]);
    // c0, c1 and c9 (the preview of c5 counted nothing)
    assert_eq!(restored.counted, 3);
    let d = after.decide(&live_request("c2", now)).unwrap();
    assert_ne!(
        d.outcome("name"),
        Outcome::Reveal,
        "a 4th customer in the hour"
    );
    assert!(d.has_alert("velocity_hard"));
    let d = after.decide(&live_request("c0", now)).unwrap();
    assert_eq!(d.outcome("name"), Outcome::Reveal, "already counted");
    let d = after.decide(&with_grant).unwrap();
    assert_ne!(d.outcome("phone"), Outcome::Reveal, "the revoked grant");
    assert!(d.has_alert("grant_revoked"));
    let mut mallory = live_request("c0", now);
    mallory.employee.id = "mallory".into();
    mallory.ticket.as_mut().unwrap().assignee = Some("mallory".into());
    let d = after.decide(&mallory).unwrap();
    assert!(d.fields.values().all(|f| f.outcome == Outcome::Withhold));
    let listed = after.suspended().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason, "sold customer data");
    // restoring again adds nothing new, and lifts nothing a later suspension holds
    after.suspend("carol", "later").unwrap();
    assert_eq!(after.restore().unwrap().suspended, ["carol", "mallory"]);
    assert_eq!(after.suspended().unwrap().len(), 2);
}

/// A replay trail keeps its own time: the long window is counted back from its latest decision.
#[test]
fn a_replay_trail_is_restored_by_its_own_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let open = || {
        Gate::builder()
            .clock(Clock::Replay)
            .audit_log(AuditOptions::new(&log))
            .build()
            .unwrap()
    };
    let reveal = |customer: &str, at: &str| {
        let mut r = request(json!({
            "at": at,
            "customer": {"id": customer, "segment": "consumer", "vip": false, "employee": false},
            "ticket": {"id": "T-1", "customer": customer, "assignee": "alice", "queue": "billing",
                "status": "open", "opened_at": "2026-11-27T07:00:00Z"}}));
        r.employee.shift = serde_json::from_value(
            json!({"start": "2026-11-27T00:00:00Z", "end": "2026-11-29T00:00:00Z"}),
        )
        .unwrap();
        r
    };
    let before = open();
    for (c, at) in [
        ("c0", "2026-11-27T09:00:00Z"),
        ("c1", "2026-11-28T10:00:00Z"),
        ("c2", "2026-11-28T10:30:00Z"),
    ] {
        assert_eq!(
            before.decide(&reveal(c, at)).unwrap().outcome("name"),
            Outcome::Reveal
        );
    }
    before.close().unwrap();
    // c0 is more than the long window (24 h) before the latest decision
    let restored = open().restore().unwrap();
    assert_eq!((restored.counted, restored.skipped.len()), (2, 0));

    // the oldest rotated file archived away: what is left is still restored, the gap named
    let rotating = dir.path().join("rotating.jsonl");
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(&rotating).rotate_bytes(1))
        .build()
        .unwrap();
    for (c, at) in [
        ("c1", "2026-11-28T10:00:00Z"),
        ("c2", "2026-11-28T10:30:00Z"),
    ] {
        gate.decide(&reveal(c, at)).unwrap();
    }
    gate.suspend("mallory", "sold customer data").unwrap();
    gate.close().unwrap();
    let oldest = audit::segments::rotated(&rotating).remove(0);
    std::fs::remove_file(&oldest).unwrap();
    let restored = open_at(&rotating).restore().unwrap();
    assert_eq!(restored.suspended, ["mallory"]);
    assert_eq!(restored.counted, 1, "c2; c1 went with the archived file");
    assert_eq!(restored.skipped.len(), 1, "{:?}", restored.skipped);
    assert!(
        restored.skipped[0].contains("sequence jumps from 0 to 2"),
        "{:?}",
        restored.skipped
    );
    // a forensic query refuses the same trail: its answer would be short without saying so
    assert!(audit::affected(&[rotating], "alice", None, None).is_err());

    // under an audit key, a reinstatement written in by someone without it lifts nothing
    let keyed = dir.path().join("keyed.jsonl");
    let open_keyed = || {
        Gate::builder()
            .clock(Clock::Replay)
            .audit_log(AuditOptions::new(&keyed).key(ChainKey::hmac([7u8; 32]).unwrap()))
            .build()
            .unwrap()
    };
    let gate = open_keyed();
    gate.suspend("mallory", "sold customer data").unwrap();
    gate.suspend("bob", "mistake").unwrap();
    gate.reinstate("bob").unwrap();
    gate.close().unwrap();
    // (in place of bob's suspension: a forged last record would stop the gate opening at all)
    let text = std::fs::read_to_string(&keyed).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let forged = lines[0]
        .replacen(r#""kind":"suspend""#, r#""kind":"reinstate""#, 1)
        .replacen(r#"{"seq":1,"#, r#"{"seq":2,"#, 1);
    assert!(lines[1].contains("bob") && forged.contains("reinstate"));
    lines[1] = forged;
    std::fs::write(&keyed, lines.join("\n") + "\n").unwrap();
    let restored = open_keyed().restore().unwrap();
    assert_eq!(restored.suspended, ["mallory"]);
    assert_eq!(restored.skipped.len(), 1, "{:?}", restored.skipped);
    assert!(restored.skipped[0].contains("reinstatement of `mallory`"));
}

/// A live gate counts back from its own clock: a decision older than the long window (24 h)
/// counts nothing, however many the trail holds, and what restricts is restored whatever its age.
#[test]
fn a_live_restore_counts_the_window_before_now_only() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    std::fs::create_dir(&trail).unwrap();
    let now = Timestamp::now();
    let ago = |h: i64| Timestamp::from_millis(now.millis() - h * 3_600_000).unwrap();
    // the history a live gate would have written over two days, written on the replay clock
    let history = Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(&trail))
        .build()
        .unwrap();
    for (c, at) in [("c0", 50), ("c1", 25), ("c0", 23), ("c2", 1)] {
        let d = history.decide(&live_request(c, ago(at))).unwrap();
        assert_eq!(d.outcome("name"), Outcome::Reveal);
    }
    history.suspend("mallory", "sold customer data").unwrap();
    history.close().unwrap();
    let live = Gate::builder()
        .audit_log(AuditOptions::new(&trail))
        .build()
        .unwrap();
    let restored = live.restore().unwrap();
    assert_eq!(restored.suspended, ["mallory"]);
    assert_eq!(
        restored.counted, 2,
        "c0 (23 h ago) and c2; c1 is past the day"
    );
    assert!(restored.skipped.is_empty(), "{:?}", restored.skipped);
}

#[test]
fn restore_reads_past_a_damaged_line_and_an_unreadable_file_and_names_them() {
    // an insider who can write the trail directory cannot stop a restart from restoring the
    // suspensions the rest of the trail holds
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    std::fs::create_dir(&trail).unwrap();
    let gate = open_at(&trail);
    gate.suspend("bob", "mistake").unwrap();
    gate.suspend("mallory", "sold customer data").unwrap();
    gate.close().unwrap();
    let segment = std::fs::read_dir(&trail)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut lines: Vec<Vec<u8>> = std::fs::read(&segment)
        .unwrap()
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    lines[0] = b"{\"seq\":1,\xff not a record".to_vec();
    std::fs::write(&segment, lines.join(&b'\n')).unwrap();
    std::fs::create_dir(trail.join("planted.jsonl")).unwrap();

    let restored = open_at(&trail).restore().unwrap();
    assert_eq!(restored.suspended, ["mallory"]);
    assert_eq!(restored.skipped.len(), 2, "{:?}", restored.skipped);
    assert!(
        restored
            .skipped
            .iter()
            .any(|s| s.contains("planted.jsonl") && s.contains("not a regular file"))
            && restored
                .skipped
                .iter()
                .any(|s| s.contains("line 1: invalid utf-8")),
        "{:?}",
        restored.skipped
    );
    // one damaged line is one record lost, not also a gap in the numbering
    assert!(!restored.skipped.iter().any(|s| s.contains("jumps")));
    // a forensic query refuses the same trail
    assert!(audit::affected(&[trail], "mallory", None, None).is_err());
}

fn open_at(log: &Path) -> Gate {
    Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(log))
        .build()
        .unwrap()
}

#[test]
fn an_id_of_only_whitespace_names_nobody() {
    let gate = Gate::builder().clock(Clock::Replay).build().unwrap();
    let with = |part: &str, id: &str| {
        let mut v = serde_json::to_value(request(json!({}))).unwrap();
        v[part]["id"] = json!(id);
        gate.decide(&AccessRequest::from_value(v).unwrap())
            .unwrap_err()
    };
    let e = with("employee", " \t");
    assert_eq!(e.key(), Some("employee.id"), "{e}");
    assert!(e.to_string().contains("must not be only whitespace"), "{e}");
    for (e, key) in [
        (with("ticket", "\n"), "ticket.id"),
        (gate.suspend(" ", "why").unwrap_err(), "employee_id"),
        (gate.suspend("", "why").unwrap_err(), "employee_id"),
        (gate.revoke_grant("  ").unwrap_err(), "grant_id"),
    ] {
        assert_eq!(e.key(), Some(key), "{e}");
    }
    // names somebody: kept as given, whitespace and all
    assert!(gate.suspend(" alice", "why").is_ok());
}
