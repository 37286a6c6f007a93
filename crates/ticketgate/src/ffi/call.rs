//! Every operation of a gate besides deciding (and a bench-only loop of it), as the bindings
//! hand it over: its name and its arguments by name, read by [`super::host`] into the typed
//! fields below (so every surface checks arguments alike and names a bad one the same way),
//! then run here. A binding's method is its language's signature over one of these, nothing
//! more.

use super::{verify_audit, AuditReport, Secret};
use crate::error::Error;
use crate::gate::{check_value, mask_value, Gate};
use crate::model::{AccessRequest, Employee, Grant};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

/// One operation and its arguments (keys as in the contract; JavaScript may camelCase them).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "arguments are named as in the bindings' signatures, which document them"
)]
#[expect(
    clippy::large_enum_variant,
    reason = "read once per call and consumed, never stored"
)]
pub enum Call {
    /// Loads a pack directory and swaps it in; answers its version.
    Reload { policies: PathBuf },
    /// Suspends an employee on every gate sharing the store.
    Suspend { employee_id: String, reason: String },
    /// Lifts a suspension; answers whether there was one.
    Reinstate { employee_id: String },
    /// The current suspensions.
    Suspended {},
    /// Records a past reveal (warming velocity counts after a restart).
    RecordReveal {
        employee_id: String,
        customer_id: String,
        at: Timestamp,
    },
    /// Whether a new gate should restore before deciding.
    NeedsRestore {},
    /// Restores from the audit trail what the velocity store forgot in a restart.
    Restore {},
    /// Signs a grant as it is (no issuing checks).
    SignGrant { grant: Grant },
    /// Records a request for an `approved` grant; answers it signed as pending.
    RequestGrant { grant: Grant },
    /// Approves a pending request.
    ApproveGrant { grant: Grant, approver: Employee },
    /// Issues a break-glass grant.
    IssueBreakGlass { grant: Grant },
    /// Revokes a grant on every gate sharing the store.
    RevokeGrant { grant_id: String },
    /// Forces the audit log to disk and publishes its checkpoint; answers the head.
    AuditCheckpoint {},
    /// The audit log's last record as `SEQ:HASH` (null without a log).
    AuditHead {},
    /// Customers whose data `employee` saw.
    AuditAffected {
        employee: String,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        reader: String,
    },
    /// Employees who saw customers who reported scam contact, most suspicious first.
    AuditSuspects {
        customers: Vec<String>,
        field: Option<String>,
        reader: String,
    },
    /// Every access to one customer.
    AuditCustomer { customer: String, reader: String },
    /// Alert deliveries so far (null without a callback).
    AlertStats {},
    /// Writes out and closes the audit log.
    Close {},
    /// Bench-only: decides `request` `times` times and answers the seconds that took: the
    /// Rust API's own loop, which the bench scripts time in turns with their binding's
    /// `decide` in the same process (the same build, allocator and load).
    DecideLoop { request: AccessRequest, times: u32 },
}

/// How a binding wants an answer: the plain JSON shape, or JavaScript's camelCase.
pub trait Encode {
    /// An encoded answer.
    type Out;
    /// `t` encoded.
    fn encode<T: Serialize + ?Sized>(&self, t: &T) -> Result<Self::Out, Error>;
    /// A key path of the core's own checks as the caller spells it.
    fn key_path(&self, key: &str) -> String {
        key.to_owned()
    }
}

/// Answers in the contract's JSON shape (snake_case).
#[derive(Debug, Clone, Copy)]
pub struct Plain;

impl Encode for Plain {
    type Out = serde_json::Value;
    fn encode<T: Serialize + ?Sized>(&self, t: &T) -> Result<serde_json::Value, Error> {
        serde_json::to_value(t).map_err(|e| unserialisable(&e))
    }
}

pub(crate) fn unserialisable(e: &dyn std::fmt::Display) -> Error {
    crate::error::InvalidRequest::new("", format!("result not serialisable: {e}")).into()
}

impl Call {
    /// Runs the operation on `gate`; the answer encoded by `enc`.
    pub fn run<E: Encode>(self, gate: &Gate, enc: &E) -> Result<E::Out, Error> {
        match self {
            Call::Reload { policies } => enc.encode(&gate.reload_dir(policies)?),
            Call::Suspend {
                employee_id,
                reason,
            } => enc.encode(&gate.suspend(&employee_id, &reason)?),
            Call::Reinstate { employee_id } => enc.encode(&gate.reinstate(&employee_id)?),
            Call::Suspended {} => enc.encode(&gate.suspended()?),
            Call::RecordReveal {
                employee_id,
                customer_id,
                at,
            } => enc.encode(&gate.record_reveal(&employee_id, &customer_id, at)?),
            Call::NeedsRestore {} => enc.encode(&gate.needs_restore()),
            Call::Restore {} => enc.encode(&gate.restore()?),
            Call::SignGrant { grant } => enc.encode(&gate.sign_grant(grant)),
            Call::RequestGrant { grant } => enc.encode(&gate.request_grant(grant)?),
            Call::ApproveGrant { grant, approver } => {
                enc.encode(&gate.approve_grant(grant, &approver)?)
            }
            Call::IssueBreakGlass { grant } => enc.encode(&gate.issue_break_glass(grant)?),
            Call::RevokeGrant { grant_id } => enc.encode(&gate.revoke_grant(&grant_id)?),
            Call::AuditCheckpoint {} => {
                let head = match gate.audit_log() {
                    Some(log) => {
                        log.sync()?;
                        Some(log.head().to_string())
                    }
                    None => None,
                };
                enc.encode(&head)
            }
            Call::AuditHead {} => enc.encode(&gate.audit_log().map(|l| l.head().to_string())),
            Call::AuditAffected {
                employee,
                since,
                until,
                reader,
            } => enc.encode(&gate.audit_affected(&reader, &employee, since, until)?),
            Call::AuditSuspects {
                customers,
                field,
                reader,
            } => enc.encode(&gate.audit_suspects(&reader, &customers, field.as_deref())?),
            Call::AuditCustomer { customer, reader } => {
                enc.encode(&gate.audit_customer(&reader, &customer)?)
            }
            Call::AlertStats {} => enc.encode(&gate.alert_stats()),
            Call::Close {} => enc.encode(&gate.close()?),
            Call::DecideLoop { request, times } => {
                let start = std::time::Instant::now();
                for _ in 0..times {
                    gate.decide(&request)?;
                }
                enc.encode(&start.elapsed().as_secs_f64())
            }
        }
    }
}

/// `verify_audit`'s arguments: audit files or directories, and what the trail must end
/// with or be keyed by.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyAudit {
    /// Files or directories of segments.
    pub paths: Vec<PathBuf>,
    /// `SEQ:HASH` the trail must end with (from an earlier `audit_head`).
    #[serde(default)]
    pub expect_head: Option<String>,
    /// The HMAC key the trail is chained with.
    #[serde(default)]
    pub key: Option<Secret>,
    /// A checkpoint file the trail must reach.
    #[serde(default)]
    pub checkpoint: Option<PathBuf>,
}

/// `mask(field, value)`: masks as `view` masks a record's value, a string or a list of
/// strings (a record's ticket numbers) item by item; null where the rules cannot mask.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mask {
    /// A field name; one without a masking rule of its own is masked like a name.
    pub field: String,
    /// A string, a list of strings or null (absent: null).
    #[serde(default)]
    pub value: Value,
}

impl Mask {
    /// The masked value; an `InvalidRequest` naming `value` for anything but a string, a
    /// list of strings or null.
    pub fn run(self) -> Result<Value, Error> {
        check_value(&self.value, || "value".into())?;
        Ok(mask_value(&self.field, self.value))
    }
}

impl VerifyAudit {
    /// Verifies every segment, each chain on its own; a break is an `AuditError` naming
    /// the file and line.
    pub fn run(self) -> Result<AuditReport, Error> {
        verify_audit(
            &self.paths,
            self.expect_head.as_deref(),
            self.key.map(|k| k.bytes()),
            self.checkpoint,
        )
    }
}
