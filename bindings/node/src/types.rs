//! TypeScript shapes for `index.d.ts`. The values themselves cross as checked JSON
//! (see `convert.rs`), so unknown keys, `Date`s and key paths in errors work as the
//! contract says; these declarations only give callers the types.
#![allow(dead_code)]

use napi_derive::napi;
use std::collections::HashMap;

/// A working shift: on shift means `start <= at < end`. Either absolute (`start`, `end` as
/// instants) or a weekly schedule (`days`, local `start`/`end` as `HH:MM`, `tz`), where an
/// end before the start wraps past midnight and DST is honoured.
#[napi(object)]
pub struct Shift {
    #[napi(ts_type = "string | Date")]
    pub start: String,
    #[napi(ts_type = "string | Date")]
    pub end: String,
    #[napi(ts_type = "Array<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun'>")]
    pub days: Option<Vec<String>>,
    /// IANA time zone of a weekly schedule, e.g. `Europe/Berlin`.
    pub tz: Option<String>,
}

/// The employee asking, as the calling service knows them.
#[napi(object)]
pub struct Employee {
    #[napi(ts_type = "string | number")]
    pub id: String,
    /// `agent`, `senior_agent`, `supervisor`, `security_reviewer`, ...
    pub roles: Option<Vec<String>>,
    /// Queue (team) names.
    pub teams: Option<Vec<String>>,
    /// Customer segments served. Required: an employee serves nothing until told.
    pub segments: Vec<String>,
    /// ISO 3166 alpha-2.
    pub office_country: Option<String>,
    /// Absent or null: off shift.
    #[napi(ts_type = "Shift | null")]
    pub shift: Option<Shift>,
    pub suspended: Option<bool>,
}

/// The customer whose data is asked for.
#[napi(object)]
pub struct Customer {
    #[napi(ts_type = "string | number")]
    pub id: String,
    /// Required, like `vip` and `employee`: a missing sensitivity fact is an invalid request.
    #[napi(ts_type = "'consumer' | 'business' | 'government'")]
    pub segment: String,
    pub vip: bool,
    /// The customer is also staff.
    pub employee: bool,
}

/// A ticket as it was at the time of the access.
#[napi(object)]
pub struct Ticket {
    #[napi(ts_type = "string | number")]
    pub id: String,
    pub customer: String,
    #[napi(ts_type = "string | null")]
    pub assignee: Option<String>,
    pub queue: String,
    #[napi(ts_type = "'open' | 'pending' | 'solved' | 'closed'")]
    pub status: String,
    #[napi(ts_type = "string | Date")]
    pub opened_at: String,
    #[napi(ts_type = "string | Date | null")]
    pub closed_at: Option<String>,
    #[napi(ts_type = "string | Date | null")]
    pub callback_at: Option<String>,
    /// When the ticket got its assignee (for detection, not for the rules).
    #[napi(ts_type = "string | Date | null")]
    pub assigned_at: Option<String>,
    /// Who assigned it: an employee id, or `router`.
    pub assigned_by: Option<String>,
}

/// A time-boxed grant; only honoured with a signature from `gate.signGrant`.
#[napi(object)]
pub struct Grant {
    pub id: String,
    #[napi(ts_type = "'approved' | 'break_glass'")]
    pub kind: String,
    pub grantee: String,
    pub customer: String,
    pub fields: Vec<String>,
    #[napi(ts_type = "'support' | 'security_review' | 'legal_request' | 'incident'")]
    pub purpose: String,
    pub reason: Option<String>,
    #[napi(ts_type = "string | null")]
    pub incident: Option<String>,
    #[napi(ts_type = "string | null")]
    pub approver: Option<String>,
    pub approver_roles: Option<Vec<String>>,
    #[napi(ts_type = "string | Date")]
    pub issued_at: String,
    #[napi(ts_type = "string | Date")]
    pub expires_at: String,
    /// When it was requested (set by `requestGrant`).
    #[napi(ts_type = "string | Date | null")]
    pub requested_at: Option<String>,
    #[napi(ts_type = "string | null")]
    pub signature: Option<String>,
}

/// May `employee` see these `fields` of `customer` now?
#[napi(object)]
pub struct AccessRequest {
    pub employee: Employee,
    pub customer: Customer,
    #[napi(ts_type = "Ticket | null")]
    pub ticket: Option<Ticket>,
    #[napi(ts_type = "Grant | null")]
    pub grant: Option<Grant>,
    /// Default: every field of the pack.
    #[napi(ts_type = "string[] | null")]
    pub fields: Option<Vec<String>>,
    #[napi(ts_type = "'support' | 'security_review' | 'legal_request' | 'incident'")]
    pub purpose: String,
    #[napi(ts_type = "string | null")]
    pub justification: Option<String>,
    /// Default: now.
    #[napi(ts_type = "string | Date | null")]
    pub at: Option<String>,
    #[napi(ts_type = "string | null")]
    pub client: Option<String>,
    #[napi(ts_type = "string | null")]
    pub source_ip: Option<String>,
    /// `preview` (a list page): every field at most masked, never counted.
    #[napi(ts_type = "'view' | 'preview'")]
    pub intent: Option<String>,
}

/// The decision on one field.
#[napi(object)]
pub struct FieldDecision {
    #[napi(ts_type = "'reveal' | 'mask' | 'withhold'")]
    pub outcome: String,
    /// `@id`s of the policies that determined it.
    pub policies: Vec<String>,
    /// Evaluation or store errors (any error means withhold).
    pub errors: Vec<String>,
}

/// Something a security team should look at.
#[napi(object)]
pub struct Alert {
    pub kind: String,
    pub message: String,
    #[napi(ts_type = "'info' | 'low' | 'medium' | 'high'")]
    pub severity: String,
    /// Its place in its episode (one employee, kind and UTC day): 1 opens it. `onAlert`
    /// hears of an alert when it opens its episode or its severity rises.
    pub occurrence: u32,
}

/// Thresholds of the live `reveal_volume` and `self_assigned` signals.
#[napi(object)]
pub struct PeerSignals {
    pub ratio: Option<f64>,
    pub min_excess: Option<u32>,
    pub min_peers: Option<u32>,
}

/// R8 velocity as seen by this decision.
#[napi(object)]
pub struct Velocity {
    pub count: u32,
    pub soft: u32,
    pub hard: u32,
    pub window_s: u32,
    /// The same over the long window (default 24 h).
    pub day: DayCount,
}

/// R8 over the long window.
#[napi(object)]
pub struct DayCount {
    pub count: u32,
    pub soft: u32,
    pub hard: u32,
    pub window_s: u32,
}

/// The answer to one access request.
#[napi(object)]
pub struct Decision {
    pub decision_id: String,
    pub at: String,
    pub employee: String,
    pub customer: String,
    #[napi(ts_type = "string | null")]
    pub ticket: Option<String>,
    #[napi(ts_type = "string | null")]
    pub grant: Option<String>,
    #[napi(ts_type = "'support' | 'security_review' | 'legal_request' | 'incident'")]
    pub purpose: String,
    pub policy_version: String,
    /// Keyed by field name (`ticket_numbers` stays as it is).
    pub fields: HashMap<String, FieldDecision>,
    pub alerts: Vec<Alert>,
    #[napi(ts_type = "Velocity | null")]
    pub velocity: Option<Velocity>,
    /// Shadow mode only: field → the outcome enforcement would have given.
    #[napi(ts_type = "Record<string, 'reveal' | 'mask' | 'withhold'>")]
    pub would_enforce: Option<HashMap<String, String>>,
}

/// Velocity limits (R8).
#[napi(object)]
pub struct VelocityConfig {
    pub window_s: Option<u32>,
    pub soft: Option<u32>,
    pub hard: Option<u32>,
    /// The long window (default 24 h, soft 120, hard 240).
    pub day: Option<DayLimits>,
}

/// Limits of the long window.
#[napi(object)]
pub struct DayLimits {
    pub window_s: Option<u32>,
    pub soft: Option<u32>,
    pub hard: Option<u32>,
}

/// Options of `new Gate(options)`.
#[napi(object)]
pub struct GateOptions {
    /// Policy pack directory (default: the embedded pack).
    pub policies: Option<String>,
    /// Path of the hash-chained audit log.
    pub audit_log: Option<String>,
    #[napi(ts_type = "'always' | 'batched' | 'none'")]
    pub durability: Option<String>,
    pub velocity: Option<VelocityConfig>,
    /// Share velocity counts and suspensions across hosts (same as a `redis://` velocityStore).
    pub redis_url: Option<String>,
    /// Canary customer ids: any reveal or mask of one raises a `canary` alert.
    pub canaries: Option<Vec<String>>,
    pub peer_signals: Option<PeerSignals>,
    /// `memory` (default; one process), `sqlite:///path` (the processes of one host) or
    /// `redis://host:port` (a fleet).
    pub velocity_store: Option<String>,
    /// Called for each alert that opens an episode or raises its severity, after the
    /// decision; exceptions are caught and counted.
    #[napi(ts_type = "(alert: Alert, decision: Decision | null) => void")]
    pub on_alert: Option<String>,
    /// Secret that signs and verifies grants (at least 32 bytes), or a list for rotation:
    /// the first signs, every one verifies.
    #[napi(ts_type = "string | string[]")]
    pub grant_key: Option<String>,
    /// `shadow`: compute, audit and alert, but refuse nothing (for gradual rollout).
    #[napi(ts_type = "'enforce' | 'shadow'")]
    pub mode: Option<String>,
    /// `live` (default): `at` within the gate's clock window; `replay`: `at` required, as given.
    #[napi(ts_type = "'live' | 'replay'")]
    pub clock: Option<String>,
    /// Seconds `at` may be ahead of the gate's clock (default 30).
    pub max_skew_s: Option<u32>,
    /// Seconds a live request's `at` may be behind the gate's clock (default 600).
    pub max_age_s: Option<u32>,
    /// Chain the audit trail with HMAC-SHA256 under this key (at least 32 bytes).
    pub audit_key: Option<String>,
    /// Where the audit head is published after every fsync (a directory for segments).
    pub audit_checkpoint: Option<String>,
    /// Rotate the live audit file at this size.
    pub audit_rotate_bytes: Option<u32>,
    /// Rotate the live audit file every UTC day.
    pub audit_rotate_daily: Option<bool>,
}

/// The error of one failed item of `decideMany` / `viewMany` (returned, not thrown).
#[napi(object)]
pub struct TicketgateError {
    pub name: String,
    pub message: String,
    #[napi(
        ts_type = "'InvalidRequest' | 'PolicyError' | 'AuditError' | 'StoreError' | 'TicketgateError'"
    )]
    pub code: String,
    /// The bad key, e.g. `[3].ticket.closedAt`.
    pub key: Option<String>,
    /// Position in the batch.
    pub index: Option<u32>,
}

/// A suspension through the kill switch.
#[napi(object)]
pub struct Suspension {
    pub employee: String,
    pub reason: String,
    pub at: String,
}

/// A verified audit chain.
#[napi(object)]
pub struct AuditReport {
    pub records: u32,
    pub files: Vec<String>,
    /// One entry per chain (segment).
    #[napi(
        ts_type = "Array<{ live: string, files: string[], records: number, head: { seq: number, hash: string } }>"
    )]
    pub segments: Vec<String>,
    /// `SEQ:HASH` of the last record, when the trail is one chain.
    pub head: Option<String>,
}

/// A customer whose data an employee saw.
#[napi(object)]
pub struct Affected {
    pub customer: String,
    pub fields: Vec<String>,
    pub first: String,
    pub last: String,
    pub reveals: u32,
}

/// Contact fields as the caller holds them; other keys pass through untouched.
pub type ContactRecord = HashMap<String, serde_json::Value>;

/// A contact record with a decision applied, and that decision.
#[napi(object)]
pub struct View {
    /// Revealed values as they are, masked values masked, withheld values null, other keys untouched.
    #[napi(ts_type = "Record<string, unknown>")]
    pub record: ContactRecord,
    pub decision: Decision,
}
