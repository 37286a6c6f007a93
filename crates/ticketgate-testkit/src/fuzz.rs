//! One function per fuzz target. Each must never panic, whatever the bytes; where the
//! contract promises more (a mask never shows more than its rules allow), it asserts that.

use std::sync::OnceLock;
use ticketgate::{mask, AccessRequest, Clock, Gate, Outcome, PolicyPack, SourceFile};

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| match Gate::builder().clock(Clock::Replay).build() {
        Ok(g) => g,
        Err(e) => unreachable!("the default gate builds: {e}"),
    })
}

/// Request parsing and deciding from JSON: a typed error or a decision, never a panic, and
/// never a reveal of a field the pack does not decide.
pub fn request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(req) = AccessRequest::from_json(text) else {
        return;
    };
    if let Ok(d) = gate().decide(&req) {
        let fields = gate().pack();
        for (f, fd) in &d.fields {
            assert!(fields.fields().contains(f), "decided an unknown field {f}");
            if fd.outcome == Outcome::Reveal {
                assert!(fd.errors.is_empty(), "a reveal with errors: {fd:?}");
            }
        }
    }
}

/// Pack loading: the bytes are split into a schema and a policy file.
pub fn pack(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (schema, policies) = text.split_once("\n----\n").unwrap_or((&text, ""));
    let _ = PolicyPack::from_sources(vec![
        SourceFile {
            name: "schema.cedarschema".into(),
            text: schema.into(),
        },
        SourceFile {
            name: "fuzz.cedar".into(),
            text: policies.into(),
        },
    ]);
}

/// The audit reader, verifier and opener over arbitrary file contents.
pub fn audit(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("audit.jsonl");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let paths = [path.clone()];
    let _ = ticketgate::audit::verify(&paths, &ticketgate::audit::VerifyOptions::default());
    let _ = ticketgate::audit::for_each_record(&paths, |_| {});
    let _ = ticketgate::audit::affected(&paths, "e", None, None);
    // the restart's reader, which reads on past what the strict one refuses
    let key = ticketgate::audit::ChainKey::default();
    let _ = ticketgate::audit::in_force(&paths, &key, 3_600_000, None);
    // and as a live gate reads it: decisions before the window skimmed, not read whole
    let now = ticketgate::Timestamp::parse("2026-11-28T12:00:00Z").ok();
    let _ = ticketgate::audit::in_force(&paths, &key, 3_600_000, now);
    if let Ok(log) = ticketgate::AuditLog::open(ticketgate::AuditOptions::new(&path)) {
        // whatever it found, what it appends next verifies as a continuation
        if log.append_event("fuzz", "e", "").is_ok() {
            let head = log.head();
            assert!(head.seq >= 1);
        }
    }
}

/// Masking: no panic, and no mask shows more digits than the phone rules allow.
pub fn masking(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for field in ["name", "email", "phone", "ticket_numbers", "postal_address"] {
        let _ = mask::mask_str(field, text);
    }
    if let Some(m) = mask::phone(text) {
        let digits = text.chars().filter(|c| mask::is_digit(*c)).count();
        let shown = m.chars().filter(|c| mask::is_digit(*c)).count();
        assert!(
            if digits < 7 {
                shown == 0
            } else {
                shown <= 7 && shown < digits
            },
            "{text:?} -> {m:?}"
        );
    }
}
