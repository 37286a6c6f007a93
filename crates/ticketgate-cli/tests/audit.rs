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
