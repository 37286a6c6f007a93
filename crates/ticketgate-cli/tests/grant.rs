//! `ticketgate grant`: request, approve (refusing self-approval), inspect.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

use std::process::Command;

fn tg(args: &[&str], dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ticketgate"))
        .args(args)
        .env("TICKETGATE_GRANT_KEY", "the fleet's grant key, 32 bytes+")
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn request_approve_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let grant = serde_json::json!({"id": "g-1", "kind": "approved", "grantee": "alice", "customer": "c-1",
        "fields": ["phone"], "purpose": "support", "reason": "callback",
        "issued_at": now.to_rfc3339(), "expires_at": (now + chrono::Duration::hours(2)).to_rfc3339()});
    std::fs::write(dir.path().join("g.json"), grant.to_string()).unwrap();
    let (ok, pending, err) = tg(&["grant", "request", "g.json"], dir.path());
    assert!(ok, "{err}");
    std::fs::write(dir.path().join("pending.json"), &pending).unwrap();
    std::fs::write(
        dir.path().join("alice.json"),
        r#"{"id": "alice", "roles": ["supervisor"], "segments": []}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sam.json"),
        r#"{"id": "sam", "roles": ["supervisor"], "segments": []}"#,
    )
    .unwrap();
    let (ok, _, err) = tg(
        &[
            "grant",
            "approve",
            "pending.json",
            "--approver",
            "alice.json",
        ],
        dir.path(),
    );
    assert!(!ok && err.contains("approver.id"), "{err}");
    let (ok, approved, err) = tg(
        &["grant", "approve", "pending.json", "--approver", "sam.json"],
        dir.path(),
    );
    assert!(ok, "{err}");
    std::fs::write(dir.path().join("approved.json"), &approved).unwrap();
    let (ok, report, _) = tg(&["grant", "inspect", "approved.json"], dir.path());
    assert!(
        ok && report.contains("\"signature_verifies\": true"),
        "{report}"
    );
    let (ok, _, err) = tg(&["grant", "sign", "g.json", "--grant-key", ""], dir.path());
    assert!(!ok && err.contains("32 bytes"), "{err}");
}
