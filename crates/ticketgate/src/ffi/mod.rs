//! What the bindings and the CLI share (in the spirit of cedar-policy's `ffi`): gate
//! options as one serde type, every other operation as one [`Call`], errors with their
//! attributes, and a test-only panic. A new option or operation is added here once and
//! every surface has it.

mod call;
pub mod camel;
mod feed;
pub mod wire;
mod work;

pub use crate::gate::ViewItem;
pub use call::{Call, Encode, Mask, Plain, VerifyAudit};
pub use feed::Feed;
pub use work::{Done, Work};

use crate::audit::{AuditOptions, ChainKey, Durability};
use crate::clock::Clock;
use crate::decision::Mode;
use crate::error::{Error, InvalidRequest};
use crate::gate::{Batch, BatchItem, GateBuilder};
use crate::grant::{GrantKey, GrantKeys};
use crate::host::{check_batch, from_host, not_a_batch, Host, Keys, Read, Strings};
use crate::model::{Employee, Grant};
use crate::pack::PolicyPack;
use crate::velocity::VelocityConfig;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// A secret given as text or as bytes.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Secret {
    /// Text (its UTF-8 bytes are the secret).
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub(crate) fn bytes(&self) -> Vec<u8> {
        match self {
            Secret::Text(s) => s.as_bytes().to_vec(),
            Secret::Bytes(b) => b.clone(),
        }
    }
}

/// One secret, or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Secrets {
    /// One.
    One(Secret),
    /// Several, the first in use.
    Many(Vec<Secret>),
}

/// Every option of a gate, as the bindings take them (Python keyword arguments, the keys
/// of Node's options object). Unknown keys are refused.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename = "CoreGateOptions", rename_all = "camelCase", optional_fields = nullable)
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GateOptions {
    /// A pack directory (default: the embedded pack).
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "string | null"))]
    pub policies: Option<PathBuf>,
    /// The audit log: a file, or a directory of per-process segments.
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "string | null"))]
    pub audit_log: Option<PathBuf>,
    /// `always` (default), `batched` or `none`.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub durability: Durability,
    /// Chain the audit trail with HMAC-SHA256 under this key (at least 32 bytes).
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "string | Uint8Array | null"))]
    pub audit_key: Option<Secret>,
    /// Where the audit head is published after every fsync (keep it out of the insider's reach).
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "string | null"))]
    pub audit_checkpoint: Option<PathBuf>,
    /// Rotate the live audit file at this size.
    pub audit_rotate_bytes: Option<u64>,
    /// Rotate the live audit file every UTC day.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub audit_rotate_daily: bool,
    /// `{window_s, soft, hard}`.
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "Partial<VelocityConfig> | null"))]
    pub velocity: Option<VelocityConfig>,
    /// Where counts, suspensions and revocations live: `memory` (default; one process),
    /// `sqlite:///path` (the processes of one host) or `redis://...` (a fleet).
    pub velocity_store: Option<String>,
    /// `redis://...`: the same as `velocity_store` with a Redis URL.
    pub redis_url: Option<String>,
    /// The secret that signs and verifies grants (at least 32 bytes), or a list for
    /// rotation: the first signs, every one verifies.
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "string | Uint8Array | Array<string | Uint8Array> | null"))]
    pub grant_key: Option<Secrets>,
    /// Canary customer ids: any reveal or mask of one raises a `canary` alert.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub canaries: Vec<String>,
    /// Thresholds of the live peer signals (`{ratio, min_excess, min_peers}`).
    #[cfg_attr(feature = "typescript", ts(optional = nullable, type = "Partial<PeerSignals>"))]
    pub peer_signals: crate::detect::PeerSignals,
    /// `enforce` (default) or `shadow`.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub mode: Mode,
    /// `live` (default) or `replay`.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub clock: Clock,
    /// Seconds `at` may be ahead of the gate's clock (default 30).
    pub max_skew_s: Option<u64>,
    /// Seconds a live request's `at` may be behind the gate's clock (default 600).
    pub max_age_s: Option<u64>,
}

impl GateOptions {
    /// A builder with every option applied; the caller adds what cannot be data
    /// (an alert callback, a custom store).
    pub fn builder(self) -> Result<GateBuilder, Error> {
        let mut b = GateBuilder::default()
            .mode(self.mode)
            .clock(self.clock)
            .canaries(self.canaries.iter().cloned())
            .peer_signals(self.peer_signals);
        if let Some(dir) = &self.policies {
            b = b.pack(PolicyPack::from_dir(dir)?);
        }
        if let Some(s) = self.max_skew_s {
            b = b.max_skew(Duration::from_secs(s));
        }
        if let Some(s) = self.max_age_s {
            b = b.max_age(Duration::from_secs(s));
        }
        if let Some(v) = self.velocity {
            b = b.velocity(v);
        }
        if let Some(k) = &self.grant_key {
            let keys = match k {
                Secrets::One(s) => vec![GrantKey::new(s.bytes())?],
                Secrets::Many(list) => list
                    .iter()
                    .map(|s| GrantKey::new(s.bytes()))
                    .collect::<Result<_, _>>()?,
            };
            b = b.grant_keys(GrantKeys::new(keys)?);
        }
        let audit_only = [
            ("audit_key", self.audit_key.is_some()),
            ("audit_checkpoint", self.audit_checkpoint.is_some()),
            ("audit_rotate_bytes", self.audit_rotate_bytes.is_some()),
            ("audit_rotate_daily", self.audit_rotate_daily),
        ];
        match &self.audit_log {
            Some(path) => {
                let mut a = AuditOptions::new(path).durability(self.durability);
                if let Some(k) = &self.audit_key {
                    a = a.key(
                        ChainKey::hmac(k.bytes())
                            .map_err(|r| InvalidRequest::new("audit_key", r))?,
                    );
                }
                if let Some(cp) = &self.audit_checkpoint {
                    a = a.checkpoint(cp);
                }
                if let Some(n) = self.audit_rotate_bytes {
                    if n == 0 {
                        return Err(InvalidRequest::new(
                            "audit_rotate_bytes",
                            "must be more than 0 (leave it out not to rotate by size)",
                        )
                        .into());
                    }
                    a = a.rotate_bytes(n);
                }
                b = b.audit_log(a.rotate_daily(self.audit_rotate_daily));
            }
            None => {
                if let Some((k, _)) = audit_only.iter().find(|(_, set)| *set) {
                    return Err(
                        InvalidRequest::new(*k, "has no effect without an audit log").into(),
                    );
                }
            }
        }
        match (&self.velocity_store, &self.redis_url) {
            (Some(_), Some(_)) => {
                return Err(InvalidRequest::new(
                    "redis_url",
                    "give either a velocity store or a Redis URL, not both",
                )
                .into())
            }
            (Some(url), None) => b = b.store(crate::velocity::store_from_url(url)?),
            (None, Some(url)) => b = b.store(crate::velocity::redis_from_url(url)?),
            (None, None) => {}
        }
        Ok(b)
    }
}

/// Finishes a batch the binding pushed its items into as it read them (see [`Batch`]): one
/// result per item, in order; a failure stays in its slot, an invalid item's key naming its
/// index (`[3].ticket.closed_at`).
pub fn finish_batch<T: BatchItem>(batch: Batch<T>) -> Vec<Result<T::Out, Error>> {
    batch
        .finish()
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| indexed(i, e)))
        .collect()
}

/// An error of item `i` of a batch, its key under `[i]` unless it names an index already.
fn indexed(i: usize, e: Error) -> Error {
    match e {
        Error::InvalidRequest(ir) if !ir.key.starts_with('[') => {
            Error::InvalidRequest(ir.within(&format!("[{i}]")))
        }
        other => other,
    }
}

/// Pushes the items of a list (a batch, or a part of one whose items are numbered from
/// `first`) into `batch` as each is read with `read` (given the item and its key, `[i]`), so
/// the gate decides the ones already read meanwhile; a claimed length that takes the batch
/// past [`MAX_BATCH`](crate::limits::MAX_BATCH) is refused before any item is read, and an
/// item that cannot be had (a throwing getter) before any is decided.
pub fn push_items<H: Host, T: BatchItem>(
    mut batch: Batch<T>,
    host: &H,
    v: &H::Value,
    first: usize,
    read: impl Fn(&H::Value, &str) -> Result<T, InvalidRequest>,
) -> Result<Batch<T>, InvalidRequest> {
    let n = match host.read(v) {
        Ok(Read::List(n)) => n,
        _ => return Err(not_a_batch()),
    };
    check_batch(first + n)?;
    // every item had before any is decided: one that cannot be had refuses the whole batch
    let items = (0..n)
        .map(|i| {
            host.item(v, i)
                .map_err(|r| InvalidRequest::new(format!("[{}]", first + i), r))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, item) in items.iter().enumerate() {
        batch.push(read(item, &format!("[{}]", first + i)).map_err(Into::into));
    }
    Ok(batch)
}

/// A `[request, record]` pair, errors' keys under `prefix` (the record's under
/// `prefix.record`).
pub fn view_item<H: Host>(
    host: &H,
    v: &H::Value,
    prefix: &str,
    keys: Keys,
) -> Result<ViewItem, InvalidRequest> {
    let bad = || InvalidRequest::new(prefix, "expected a [request, record] pair");
    if !matches!(host.read(v), Ok(Read::List(2))) {
        return Err(bad());
    }
    let (request, record) = (host.item(v, 0), host.item(v, 1));
    let (request, record) = (request.map_err(|_| bad())?, record.map_err(|_| bad())?);
    let key = format!("{prefix}.record");
    Ok((
        from_host(host, &request, prefix, keys, Strings::PerKey)?,
        from_host(
            host,
            &record,
            key.trim_start_matches('.'),
            keys,
            Strings::Loose,
        )?,
    ))
}

/// A grant from JSON, its errors' keys under `grant.`.
pub fn grant_from_value(v: Value) -> Result<Grant, InvalidRequest> {
    crate::model::part_from_value(v, "grant")
}

/// An employee's facts from JSON (e.g. an approver), errors' keys under `prefix`.
pub fn employee_from_value(v: Value, prefix: &str) -> Result<Employee, InvalidRequest> {
    crate::model::part_from_value(v, prefix)
}

/// An error as the CLI and the bindings print it: `{code, message, key, diagnostics}`.
pub fn error_json(e: &Error) -> serde_json::Value {
    let diagnostics = match e {
        Error::Policy(p) => serde_json::to_value(&p.diagnostics).ok(),
        _ => None,
    };
    serde_json::json!({
        "code": e.code(),
        "message": e.to_string(),
        "key": e.key(),
        "diagnostics": diagnostics,
    })
}

/// An error as a binding raises it: its message, and its detail as attributes by name
/// (`code` always; `key` and `reason` for a bad request; every diagnostic and the first
/// one's place for a policy error; `path` for an audit error), keys spelt by `enc`.
pub fn describe<E: Encode>(e: &Error, enc: &E) -> Result<Described<E::Out>, Error> {
    let mut attrs = vec![("code", enc.encode(e.code())?)];
    let message = match e {
        Error::InvalidRequest(i) => {
            let key = if i.as_written {
                i.key.clone()
            } else {
                enc.key_path(&i.key)
            };
            // the core's message, with the key as the binding's caller spells it
            let message = InvalidRequest::new(key.as_str(), i.reason.as_str()).to_string();
            attrs.push(("key", enc.encode(&key)?));
            attrs.push(("reason", enc.encode(&i.reason)?));
            message
        }
        Error::Policy(p) => {
            let first = p.diagnostics.first();
            attrs.push(("diagnostics", enc.encode(&p.diagnostics)?));
            attrs.push(("file", enc.encode(&first.and_then(|d| d.file.as_ref()))?));
            attrs.push(("line", enc.encode(&first.and_then(|d| d.line))?));
            attrs.push(("column", enc.encode(&first.and_then(|d| d.column))?));
            attrs.push((
                "policy_id",
                enc.encode(&first.and_then(|d| d.policy_id.as_ref()))?,
            ));
            e.to_string()
        }
        Error::Audit(a) => {
            attrs.push(("path", enc.encode(&a.path)?));
            e.to_string()
        }
        _ => e.to_string(),
    };
    Ok(Described { message, attrs })
}

/// An error's message and attributes (see [`describe`]).
#[derive(Debug)]
pub struct Described<O> {
    /// The message, its key path spelt as the caller writes it.
    pub message: String,
    /// Attribute names (snake_case) and values.
    pub attrs: Vec<(&'static str, O)>,
}

/// A verified audit trail, as the bindings report it.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    /// Records verified, all segments together.
    pub records: u64,
    /// Every file read.
    #[cfg_attr(feature = "typescript", ts(type = "string[]"))]
    pub files: Vec<PathBuf>,
    /// One entry per chain (segment).
    pub segments: Vec<crate::audit::SegmentReport>,
    /// `SEQ:HASH` of the last record, when the trail is one chain.
    pub head: Option<String>,
}

/// `audit verify` for the bindings: options from their strings, and a chain break as an
/// `AuditError` naming the file and line.
fn verify_audit(
    paths: &[PathBuf],
    expect_head: Option<&str>,
    key: Option<Vec<u8>>,
    checkpoint: Option<PathBuf>,
) -> Result<AuditReport, Error> {
    let opts = crate::audit::VerifyOptions {
        expect_head: expect_head
            .map(str::parse)
            .transpose()
            .map_err(|r: String| InvalidRequest::new("expect_head", r))?,
        key: match key {
            None => ChainKey::plain(),
            Some(k) => ChainKey::hmac(k).map_err(|r| InvalidRequest::new("key", r))?,
        },
        checkpoint,
    };
    let report = crate::audit::verify(paths, &opts).map_err(|b| {
        Error::Audit(crate::error::AuditError {
            path: Some(b.file.display().to_string()),
            message: b.to_string(),
        })
    })?;
    Ok(AuditReport {
        records: report.records,
        files: report.files(),
        head: report.head().map(ToString::to_string),
        segments: report.segments,
    })
}

/// Panics, for the tests that check no panic crosses a language boundary.
#[doc(hidden)]
#[expect(clippy::panic, reason = "the test trigger for panic containment")]
pub fn test_panic() -> Result<(), Error> {
    panic!("ticketgate test panic")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Json, JsonHost};

    #[test]
    fn a_view_pair_names_the_part_that_is_not_an_object() {
        let request = r#"{"employee": {"id": "a", "segments": []}, "purpose": "support",
            "customer": {"id": "c", "segment": "consumer", "vip": false, "employee": false}}"#;
        for (record, why) in [
            ("null", "invalid type: null, expected an object"),
            ("5", "invalid type: integer `5`, expected an object"),
            (
                r#"["Jane Doe"]"#,
                "invalid type: a list, expected an object",
            ),
        ] {
            let text = format!("[{request}, {record}]");
            let pair = Json::parse(&text).unwrap();
            let e = view_item(&JsonHost::default(), &&pair, "[3]", Keys::Exact).unwrap_err();
            assert_eq!(e.key, "[3].record", "{record}: {e}");
            assert!(e.reason.contains(why), "{record}: {e}");
        }
        // the request first, as it is read first
        let pair = Json::parse("[5, null]").unwrap();
        let e = view_item(&JsonHost::default(), &&pair, "[3]", Keys::Exact).unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.reason.as_str()),
            ("[3]", "invalid type: integer `5`, expected an object")
        );
    }
}
