//! `ticketgate decide` on input that is not a request: typed errors, never a hang.

#![allow(clippy::unwrap_used, clippy::panic, reason = "test code")]

use std::process::Command;

fn decide(file: &str) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ticketgate"))
        .args(["decide", "--request", file])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out.status.code(), json)
}

#[test]
fn an_endless_or_binary_request_file_is_an_invalid_request() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, b"{\"employee\": \"\xff\"}").unwrap();
    // /dev/zero used to be read until memory ran out
    for (file, says) in [
        ("/dev/zero", "more than 65536 bytes"),
        (binary.to_str().unwrap(), "not UTF-8"),
    ] {
        let (code, out) = decide(file);
        assert_eq!(code, Some(1), "{file}");
        assert_eq!(out["error"]["code"], "InvalidRequest", "{file}");
        assert!(
            out["error"]["message"].as_str().unwrap().contains(says),
            "{out}"
        );
    }
    let (code, out) = decide("examples/request.json");
    assert_eq!((code, out["employee"].as_str()), (Some(0), Some("alice")));
}
