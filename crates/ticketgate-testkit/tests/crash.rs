//! Crash safety of the audit log: a writer is SIGKILLed mid-stream again and again; every
//! record it was told was written must survive, the torn tail is set aside, and the chain
//! verifies across all the restarts.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use ticketgate::audit;

#[test]
fn killed_writers_lose_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let mut acknowledged = 0u64;
    for round in 0..25u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_audit-stress"))
            .args(["--durability", "always", "--log"])
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.parse::<u64>().ok())
                .max()
        });
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 150));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if let Some(last) = reader.join().unwrap() {
            assert!(
                last >= acknowledged,
                "sequence went backwards: {last} < {acknowledged}"
            );
            acknowledged = last;
        }
        // what is on disk verifies, up to at most one torn line that the next open sets aside
        let text = std::fs::read(&log).unwrap();
        let complete = text.iter().filter(|&&b| b == b'\n').count() as u64;
        assert!(
            complete >= acknowledged,
            "round {round}: {complete} complete records, {acknowledged} acknowledged"
        );
    }
    // a final open repairs the tail; then the whole chain verifies and nothing acknowledged is missing
    let repaired = ticketgate::AuditLog::open(ticketgate::AuditOptions::new(&log)).unwrap();
    drop(repaired);
    let report =
        audit::verify(std::slice::from_ref(&log), &audit::VerifyOptions::default()).unwrap();
    assert!(
        report.records >= acknowledged && acknowledged > 0,
        "{} < {acknowledged}",
        report.records
    );
    let torn: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("torn"))
        .collect();
    // a kill only tears a line when it lands inside the single write of a group commit;
    // setting a torn tail aside is covered directly by the audit unit tests
    eprintln!(
        "{} torn tails set aside over 25 kills; {} records verified",
        torn.len(),
        report.records
    );
}
