//! `ticketgate audit` queries that could only answer "nobody" are refused, saying why.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

use std::process::Command;

#[test]
fn a_query_that_cannot_match_anything_is_refused() {
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "affected",
                "--employee",
                "e1",
                "--since",
                "2026-12-01T00:00:00Z",
                "--until",
                "2026-10-01T00:00:00Z",
            ],
            "is not after since",
        ),
        (&["suspects", "--customers", ",,"], "names no customer"),
        (&["anomalies", "--ratio", "0"], "needs a finite ratio >= 1"),
        (
            &["anomalies", "--ratio", "NaN"],
            "needs a finite ratio >= 1",
        ),
    ];
    for (args, says) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_ticketgate"))
            .arg("audit")
            .args(args)
            .args(["--log", "/nonexistent"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
}

/// A customer id holding a newline, a carriage return or an escape sequence cannot break the
/// table or rewrite the terminal, and stays whole in CSV.
#[test]
fn control_characters_in_ids_are_shown_escaped_in_tables_and_quoted_in_csv() {
    use ticketgate::{AccessRequest, AuditOptions, Clock, Gate};
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .audit_log(AuditOptions::new(&log))
        .build()
        .unwrap();
    let id = "c1\n\u{1b}[2K\rc2";
    let request = AccessRequest::from_value(serde_json::json!({
        "employee": {"id": "alice", "teams": ["billing"], "segments": ["consumer"],
                     "shift": {"start": "2026-11-28T08:00:00Z", "end": "2026-11-28T16:00:00Z"}},
        "customer": {"id": id, "segment": "consumer", "vip": false, "employee": false},
        "ticket": {"id": "T-1", "customer": id, "assignee": "alice", "queue": "billing",
                   "status": "open", "opened_at": "2026-11-28T07:00:00Z"},
        "purpose": "support", "at": "2026-11-28T10:20:00Z"}))
    .unwrap();
    gate.decide(&request).unwrap();
    gate.close().unwrap();
    let affected = |format: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ticketgate"))
            .args(["audit", "affected", "--employee", "alice", "--log"])
            .arg(&log)
            .args(format)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = affected(&[]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(
        table.contains(r"c1\n\u{1b}[2K\rc2") && !table.contains('\u{1b}'),
        "{table}"
    );
    let csv = affected(&["--csv"]);
    assert!(csv.contains(&format!("\n\"{id}\",")), "{csv:?}");
}
