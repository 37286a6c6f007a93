use super::*;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

fn opts(dir: &Path) -> AuditOptions {
    AuditOptions::new(dir.join("audit.jsonl"))
}

fn check(paths: &[PathBuf], head: Option<&Head>) -> Result<VerifyReport, ChainBreak> {
    verify(
        paths,
        &VerifyOptions {
            expect_head: head.cloned(),
            ..Default::default()
        },
    )
}

fn key() -> ChainKey {
    ChainKey::hmac(*b"0123456789abcdef0123456789abcdef").unwrap()
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
    let r = check(&[dir.path().join("audit.jsonl")], Some(&log.head())).unwrap();
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
    check(&[path], None).unwrap();
}

#[test]
fn rotation_keeps_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(opts(dir.path()).rotate_bytes(600)).unwrap();
    for i in 0..20 {
        log.append_event("suspend", &format!("employee-{i}"), "rotation test")
            .unwrap();
    }
    let segs = expand(&[dir.path().join("audit.jsonl")]);
    assert_eq!(segs.len(), 1);
    assert!(segs[0].files.len() > 2, "{segs:?}");
    let r = check(&[dir.path().join("audit.jsonl")], Some(&log.head())).unwrap();
    assert_eq!(r.records, 20);
    drop(log);
    // reopening after rotation continues the chain
    let log = AuditLog::open(opts(dir.path()).rotate_bytes(600)).unwrap();
    log.append_event("suspend", "late", "").unwrap();
    assert_eq!(
        check(&[dir.path().join("audit.jsonl")], None)
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
    let r = check(&[dir.path().join("audit.jsonl")], None).unwrap();
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
    assert!(check(&[write(&[lines[0], &edited, lines[2], lines[3]])], None).is_err());
    assert!(check(&[write(&[lines[0], lines[2], lines[3]])], None).is_err());
    assert!(check(&[write(&[lines[0], lines[2], lines[1], lines[3]])], None).is_err());
    assert!(check(
        &[write(&[lines[0], lines[1], lines[1], lines[2], lines[3]])],
        None
    )
    .is_err());
    // a cut tail passes alone but not against the known head
    let cut = write(&[lines[0], lines[1], lines[2]]);
    assert!(check(std::slice::from_ref(&cut), None).is_ok());
    let e = check(&[cut], Some(&head)).unwrap_err();
    assert!(e.reason.contains("cut"), "{e}");
    assert!(check(&[path], Some(&head)).is_ok());
}

#[test]
fn a_keyed_chain_detects_a_rewrite_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(opts(dir.path()).key(key())).unwrap();
    for i in 0..3 {
        log.append_event("suspend", &format!("e{i}"), "").unwrap();
    }
    drop(log);
    let keyed = VerifyOptions {
        key: key(),
        ..Default::default()
    };
    verify(std::slice::from_ref(&path), &keyed).unwrap();
    // the insider rewrites the whole chain with plain hashes: it chains, but not under the key
    std::fs::remove_file(&path).unwrap();
    let forged = AuditLog::open(opts(dir.path())).unwrap();
    forged.append_event("suspend", "someone-else", "").unwrap();
    drop(forged);
    let e = verify(std::slice::from_ref(&path), &keyed).unwrap_err();
    assert!(e.reason.contains("HMAC"), "{e}");
    // or with another key
    std::fs::remove_file(&path).unwrap();
    let other = ChainKey::hmac([9u8; 32]).unwrap();
    let forged = AuditLog::open(opts(dir.path()).key(other)).unwrap();
    forged.append_event("suspend", "someone-else", "").unwrap();
    drop(forged);
    assert!(verify(&[path], &keyed).is_err());
}

#[test]
fn a_second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = AuditLog::open(opts(dir.path())).unwrap();
    let e = AuditLog::open(opts(dir.path())).unwrap_err();
    assert!(e.message.contains("another writer"), "{e}");
}

#[test]
fn a_directory_gives_each_writer_a_segment_and_reads_as_one_trail() {
    let dir = tempfile::tempdir().unwrap();
    let a = AuditLog::open(AuditOptions::new(dir.path())).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let b = AuditLog::open(AuditOptions::new(dir.path())).unwrap();
    assert_ne!(a.live_file(), b.live_file());
    a.append_event("suspend", "x", "").unwrap();
    b.append_event("suspend", "y", "").unwrap();
    b.append_event("reinstate", "y", "").unwrap();
    let r = check(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!((r.segments.len(), r.records), (2, 3));
    let mut kinds = Vec::new();
    for_each_record(&[dir.path().to_path_buf()], |r| kinds.push(r.kind)).unwrap();
    assert_eq!(kinds.len(), 3);
}

#[test]
fn a_log_behind_its_checkpoint_is_refused() {
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
    // an insider cuts the tail and waits for a restart
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).unwrap();
    let e = AuditLog::open(opts(dir.path()).checkpoint(&cp)).unwrap_err();
    assert!(e.message.contains("tail was cut"), "{e}");
    let e = verify(
        std::slice::from_ref(&path),
        &VerifyOptions {
            checkpoint: Some(cp.clone()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.reason.contains("cut"), "{e}");
    // the checkpoint did not move backwards
    assert_eq!(read_checkpoint(&cp).unwrap(), head);
}

#[test]
fn a_replaced_chain_past_its_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cp = dir.path().join("head");
    let log = AuditLog::open(opts(dir.path()).checkpoint(&cp)).unwrap();
    log.append_event("suspend", "e", "").unwrap();
    drop(log);
    // a new chain written over the old one, longer than the checkpoint
    std::fs::remove_file(dir.path().join("audit.jsonl")).unwrap();
    let forged = AuditLog::open(opts(dir.path())).unwrap();
    for _ in 0..3 {
        forged.append_event("suspend", "other", "").unwrap();
    }
    drop(forged);
    assert!(AuditLog::open(opts(dir.path()).checkpoint(&cp)).is_err());
}

#[test]
fn a_failed_write_fails_every_waiter_and_breaks_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.fail_on_write = Some(3);
    let log = AuditLog::open(o).unwrap();
    let mut ok = 0u64;
    let mut failed = 0u64;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                s.spawn(move || {
                    (0..20)
                        .map(|i| log.append_event("x", &format!("{t}-{i}"), "").is_ok())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for r in h.join().unwrap() {
                if r {
                    ok += 1
                } else {
                    failed += 1
                }
            }
        }
    });
    assert!(failed > 0);
    // every acknowledged record is on disk, and the chain up to there verifies
    let r = check(&[dir.path().join("audit.jsonl")], None).unwrap();
    assert_eq!(r.records, ok);
    assert!(log.append_event("x", "after", "").is_err());
}

#[test]
fn rotation_failure_is_not_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path())
        .rotate_bytes(300)
        .durability(Durability::None);
    o.fail_on_write = Some(2);
    let log = AuditLog::open(o).unwrap();
    let results: Vec<bool> = (0..6)
        .map(|i| log.append_event("x", &format!("{i}"), "").is_ok())
        .collect();
    let acknowledged = results.iter().filter(|r| **r).count() as u64;
    let r = check(&[dir.path().join("audit.jsonl")], None).unwrap();
    assert_eq!(r.records, acknowledged);
}

#[test]
fn special_files_are_refused_at_once() {
    let e = AuditLog::open(AuditOptions::new("/dev/full")).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let e = AuditLog::open(AuditOptions::new(&fifo)).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{e}");
}

#[test]
fn opening_reads_the_tail_only() {
    // opening looks at the last record only: damage earlier is for `verify` to report
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(opts(dir.path())).unwrap();
    for i in 0..50 {
        log.append_event("x", &format!("{i}"), "").unwrap();
    }
    drop(log);
    let log = AuditLog::open(opts(dir.path())).unwrap();
    assert_eq!(log.head().seq, 50);
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"subject\":\"3\"", "\"subject\":\"7\""),
    )
    .unwrap();
    let log = AuditLog::open(opts(dir.path())).unwrap();
    assert_eq!(log.head().seq, 50);
    drop(log);
    // a damaged last record is refused: a chain is never continued from a forged head
    std::fs::write(
        &path,
        text.replace("\"subject\":\"49\"", "\"subject\":\"x\""),
    )
    .unwrap();
    assert!(AuditLog::open(opts(dir.path())).is_err());
}

#[test]
fn a_segment_deleted_whole_is_named_by_its_checkpoint() {
    let trail = tempfile::tempdir().unwrap();
    let heads = tempfile::tempdir().unwrap();
    let open = || AuditLog::open(AuditOptions::new(trail.path()).checkpoint(heads.path())).unwrap();
    let (a, b) = (open(), open());
    a.append_event("suspend", "x", "").unwrap();
    for _ in 0..3 {
        b.append_event("suspend", "y", "").unwrap();
    }
    let (kept, gone) = (a.live_file(), b.live_file());
    drop((a, b));
    let opts = VerifyOptions {
        checkpoint: Some(heads.path().to_path_buf()),
        ..Default::default()
    };
    let whole = [trail.path().to_path_buf()];
    assert_eq!(verify(&whole, &opts).unwrap().records, 4);
    // the insider removes the segment of the worker that served them
    std::fs::remove_file(&gone).unwrap();
    let e = verify(&whole, &opts).unwrap_err();
    assert_eq!(e.file, gone);
    assert!(e.reason.contains("reached record 3"), "{e}");
    // one file verified on its own is not the whole trail: the other heads are not asked for
    assert_eq!(verify(&[kept], &opts).unwrap().records, 1);
}

#[test]
fn a_live_file_deleted_or_replaced_under_the_gate_is_not_written_on_blindly() {
    for replace in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(opts(dir.path())).unwrap();
        log.append_event("suspend", "x", "").unwrap();
        let live = log.live_file();
        std::fs::remove_file(&live).unwrap();
        if replace {
            std::fs::write(&live, "").unwrap();
        }
        let e = log.append_event("suspend", "y", "").unwrap_err();
        let why = if replace { "replaced" } else { "deleted" };
        assert!(e.message.contains(why), "{e}");
        // and stays refused: nothing more is acknowledged into the lost file
        assert!(log.append_event("suspend", "z", "").is_err());
    }
    // a log reached through a link is the file the link names
    #[cfg(unix)]
    {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jsonl");
        std::fs::write(&real, "").unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("audit.jsonl")).unwrap();
        let log = AuditLog::open(opts(dir.path())).unwrap();
        log.append_event("suspend", "x", "").unwrap();
        log.append_event("suspend", "y", "").unwrap();
    }
    // batched: the tick that fsyncs notices
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(opts(dir.path()).durability(Durability::Batched)).unwrap();
    log.append_event("suspend", "x", "").unwrap();
    std::fs::remove_file(log.live_file()).unwrap();
    assert!(log.sync().unwrap_err().message.contains("deleted"));
    assert!(log.append_event("suspend", "y", "").is_err());
}

/// A forensic answer from a trail with a hole would name fewer people than were affected,
/// and say nothing of it: a query refuses a segment whose numbering has a gap.
#[test]
fn a_query_refuses_a_trail_with_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(opts(dir.path()).rotate_bytes(600)).unwrap();
    for i in 0..20 {
        log.append_event("suspend", &format!("employee-{i}"), "gap test")
            .unwrap();
    }
    drop(log);
    let live = dir.path().join("audit.jsonl");
    let mut n = 0;
    for_each_record(std::slice::from_ref(&live), |_| n += 1).unwrap();
    assert_eq!(n, 20);
    let files = expand(std::slice::from_ref(&live)).remove(0).files;
    for gone in [files.first().unwrap(), files.get(1).unwrap()] {
        let aside = dir.path().join("aside");
        std::fs::rename(gone, &aside).unwrap();
        let e = for_each_record(std::slice::from_ref(&live), |_| {}).unwrap_err();
        assert!(e.to_string().contains("sequence jumps"), "{e}");
        std::fs::rename(&aside, gone).unwrap();
    }
    // one record cut out of the live file
    let text = std::fs::read_to_string(&live).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 1);
    lines.remove(0);
    std::fs::write(&live, lines.join("\n") + "\n").unwrap();
    let e = for_each_record(std::slice::from_ref(&live), |_| {}).unwrap_err();
    assert!(e.to_string().contains("sequence jumps"), "{e}");
}

/// The trail says who saw which customer from where: its files are not for every local user.
#[cfg(unix)]
#[test]
fn trail_files_are_not_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let heads = dir.path().join("heads");
    let log = AuditLog::open(opts(dir.path()).checkpoint(&heads)).unwrap();
    log.append_event("suspend", "e", "x").unwrap();
    log.sync().unwrap();
    for f in [dir.path().join("audit.jsonl"), heads] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0, "{}: {mode:o}", f.display());
    }
}
