use super::*;
use crate::forensics::{expand, verify};

fn opts(dir: &Path) -> AuditOptions {
    AuditOptions::new(dir.join("audit.jsonl"))
}

#[test]
fn chain_verifies_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(opts(dir.path())).unwrap();
    for i in 0..5 {
        log.append_event("suspend", &format!("e{i}"), "test")
            .unwrap();
    }
    drop(log);
    let log = AuditLog::open(opts(dir.path())).unwrap();
    assert_eq!(log.append_event("reinstate", "e1", "").unwrap(), 6);
    let r = verify(
        &expand(&[dir.path().join("audit.jsonl")]),
        Some(&log.head()),
    )
    .unwrap();
    assert_eq!(r.records, 6);
}

#[test]
fn torn_tail_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(opts(dir.path())).unwrap();
    log.append_event("suspend", "e", "x").unwrap();
    drop(log);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"seq\":2,\"prev\":\"abc").unwrap();
    let log = AuditLog::open(opts(dir.path())).unwrap();
    assert!(log.recovery().torn_bytes > 0);
    assert_eq!(log.append_event("suspend", "e", "y").unwrap(), 2);
    verify(&[path], None).unwrap();
}

#[test]
fn rotation_keeps_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(opts(dir.path()).rotate_bytes(600)).unwrap();
    for i in 0..20 {
        log.append_event("suspend", &format!("employee-{i}"), "rotation test")
            .unwrap();
    }
    let files = expand(&[dir.path().join("audit.jsonl")]);
    assert!(files.len() > 2, "{files:?}");
    let r = verify(&files, Some(&log.head())).unwrap();
    assert_eq!(r.records, 20);
    drop(log);
    // reopening after rotation continues the chain
    let log = AuditLog::open(opts(dir.path()).rotate_bytes(600)).unwrap();
    log.append_event("suspend", "late", "").unwrap();
    assert_eq!(
        verify(&expand(&[dir.path().join("audit.jsonl")]), None)
            .unwrap()
            .records,
        21
    );
}

#[test]
fn group_commit_under_threads() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(opts(dir.path())).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let log = log.clone();
            s.spawn(move || {
                for i in 0..50 {
                    log.append_event("suspend", &format!("{t}-{i}"), "")
                        .unwrap();
                }
            });
        }
    });
    let r = verify(&[dir.path().join("audit.jsonl")], None).unwrap();
    assert_eq!(r.records, 400);
}

#[test]
fn tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(opts(dir.path())).unwrap();
    for i in 0..4 {
        log.append_event("suspend", &format!("e{i}"), "").unwrap();
    }
    let head = log.head();
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let write = |ls: &[&str]| {
        let p = dir.path().join("t.jsonl");
        std::fs::write(&p, ls.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        p
    };
    let edited = lines[1].replace("e1", "e9");
    assert!(verify(&[write(&[lines[0], &edited, lines[2], lines[3]])], None).is_err());
    assert!(verify(&[write(&[lines[0], lines[2], lines[3]])], None).is_err());
    assert!(verify(&[write(&[lines[0], lines[2], lines[1], lines[3]])], None).is_err());
    assert!(verify(
        &[write(&[lines[0], lines[1], lines[1], lines[2], lines[3]])],
        None
    )
    .is_err());
    // a cut tail passes alone but not against the known head
    let cut = write(&[lines[0], lines[1], lines[2]]);
    assert!(verify(std::slice::from_ref(&cut), None).is_ok());
    let e = verify(&[cut], Some(&head)).unwrap_err();
    assert!(e.reason.contains("cut"), "{e}");
    assert!(verify(&[path], Some(&head)).is_ok());
}

#[test]
fn a_checkpoint_kept_elsewhere_detects_a_cut_tail() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let cp = elsewhere.path().join("head");
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(opts(dir.path()).checkpoint(&cp)).unwrap();
    for i in 0..5 {
        log.append_event("suspend", &format!("e{i}"), "").unwrap();
    }
    let head = read_checkpoint(&cp).unwrap();
    assert_eq!(head, log.head());
    drop(log);
    verify(std::slice::from_ref(&path), Some(&head)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).unwrap();
    assert!(
        verify(std::slice::from_ref(&path), None).is_ok(),
        "a cut alone still chains"
    );
    let e = verify(&[path], Some(&read_checkpoint(&cp).unwrap())).unwrap_err();
    assert!(e.reason.contains("cut"), "{e}");
}
