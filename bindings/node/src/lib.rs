//! The `ticketgate` npm package's native addon: conversion and error mapping over the
//! core, nothing else.

mod convert;
mod errors;
mod types;

use convert::{camel_path, to_camel, to_json, Keys};
use errors::{internal, to_js};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use ticketgate::{
    ffi, AccessRequest, Error as CoreError, Gate as CoreGate, GateOptions, InvalidRequest,
    Timestamp,
};

fn invalid(key: &str, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidRequest(InvalidRequest {
        key: key.to_owned(),
        reason: reason.into(),
    })
}

/// Keys of these maps are field names (values of the pack), never renamed.
const FIELD_MAPS: [&str; 2] = ["fields", "would_enforce"];

/// snake_case keys → camelCase, except the keys of a decision's field maps.
fn camelize(v: Value, field_map: bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| {
                    let inner = camelize(x, !field_map && FIELD_MAPS.contains(&k.as_str()));
                    (if field_map { k } else { to_camel(&k) }, inner)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| camelize(x, false)).collect()),
        other => other,
    }
}

fn js_value<T: serde::Serialize + ?Sized>(t: &T) -> Value {
    camelize(serde_json::to_value(t).unwrap_or(Value::Null), false)
}

/// A result as a JS value through V8's own `JSON.parse`: several times faster than creating
/// a decision's objects property by property through N-API.
fn to_object<'e>(env: &'e Env, v: &Value) -> Result<Unknown<'e>> {
    let text = serde_json::to_string(v).map_err(|e| Error::from_reason(e.to_string()))?;
    let json: Object<'_> = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<'_, String, Unknown<'e>> = json.get_named_property("parse")?;
    parse.call(text)
}

fn request(v: &Unknown<'_>, prefix: &str) -> std::result::Result<AccessRequest, CoreError> {
    let json = to_json(v, prefix, Keys::Snake)?;
    AccessRequest::from_value(json).map_err(|e| CoreError::from(e.within(prefix)))
}

fn record(v: &Unknown<'_>, key: &str) -> std::result::Result<Map<String, Value>, CoreError> {
    match to_json(v, key, Keys::Keep)? {
        Value::Object(m) => Ok(m),
        _ => Err(invalid(key, "expected an object of field to value")),
    }
}

fn timestamp(v: &Unknown<'_>, key: &str) -> std::result::Result<Timestamp, CoreError> {
    match to_json(v, key, Keys::Keep)? {
        Value::String(s) => Timestamp::parse(&s).map_err(|r| invalid(key, r)),
        _ => Err(invalid(key, "expected an RFC 3339 string or a Date")),
    }
}

/// Runs core work, mapping errors and panics to JS errors.
fn guarded<T>(
    env: &Env,
    what: &str,
    f: impl FnOnce() -> std::result::Result<T, CoreError>,
) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_js(env, e)),
        Err(_) => Err(internal(env, what)),
    }
}

type UserFn<'a> = Function<'a, FnArgs<(Value, Value)>, bool>;

type AlertFn =
    ThreadsafeFunction<FnArgs<(Value, Value)>, bool, FnArgs<(Value, Value)>, Status, false, true>;

struct NodeSink {
    tsfn: AlertFn,
    failed: Arc<AtomicU64>,
}

impl NodeSink {
    /// Calls `onAlert(alert, decision)`; `decision` is null for an alert outside a decision.
    fn call(&self, decision: Value, a: &ticketgate::Alert) -> std::result::Result<(), String> {
        let failed = self.failed.clone();
        let status = self.tsfn.call_with_return_value(
            FnArgs {
                data: (js_value(a), decision),
            },
            ThreadsafeFunctionCallMode::NonBlocking,
            move |ok: Result<bool>, _env| {
                if !ok.unwrap_or(false) {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            },
        );
        match status {
            Status::Ok => Ok(()),
            other => Err(format!("alert callback queue: {other}")),
        }
    }
}

impl ticketgate::AlertSink for NodeSink {
    fn alert(
        &self,
        d: &ticketgate::Decision,
        a: &ticketgate::Alert,
    ) -> std::result::Result<(), String> {
        self.call(js_value(d), a)
    }
    fn event(&self, a: &ticketgate::Alert) -> std::result::Result<(), String> {
        self.call(Value::Null, a)
    }
}

/// Wraps the user's callback so that a throw is caught in JavaScript (a throw escaping
/// a threadsafe function would end the process) and reported.
const GUARD: &str = "(function (f) { return function (alert, decision) { try { f(alert, decision); return true; } \
  catch (e) { console.error('ticketgate: onAlert callback threw for ' + alert.kind + ':', e); return false; } }; })";

/// The gate: decides, per contact field, what an employee may see.
#[napi]
pub struct Gate {
    inner: CoreGate,
    callback_failures: Arc<AtomicU64>,
}

#[napi]
impl Gate {
    /// `new Gate(options)`: see `GateOptions` (every key optional; unknown keys are refused).
    #[napi(constructor, ts_args_type = "options?: GateOptions | null")]
    pub fn new(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        let callback_failures = Arc::new(AtomicU64::new(0));
        let mut on_alert: Option<UserFn<'_>> = None;
        let opts = match &options {
            Some(o) if !matches!(o.get_type()?, ValueType::Undefined | ValueType::Null) => {
                let obj = Object::from_unknown(*o)
                    .map_err(|_| to_js(&env, invalid("options", "expected an object")))?;
                if let Ok(cb) = obj.get_named_property::<Unknown<'_>>("onAlert") {
                    match cb.get_type()? {
                        ValueType::Function => {
                            let user = UserFn::from_unknown(cb)?;
                            let guard: Function<'_, UserFn<'_>, UserFn<'_>> =
                                env.run_script(GUARD)?;
                            on_alert = Some(guard.call(user)?);
                        }
                        ValueType::Undefined | ValueType::Null => {}
                        _ => return Err(to_js(&env, invalid("onAlert", "expected a function"))),
                    }
                }
                let mut m = match to_json_skipping(o, "onAlert") {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => Map::new(),
                    Err(e) => return Err(to_js(&env, e.into())),
                };
                m.remove("on_alert");
                m
            }
            _ => Map::new(),
        };
        let sink = match on_alert {
            Some(f) => Some(NodeSink {
                tsfn: f
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?,
                failed: callback_failures.clone(),
            }),
            None => None,
        };
        let inner = guarded(&env, "new Gate", || build(opts, sink))?;
        Ok(Gate {
            inner,
            callback_failures,
        })
    }

    /// Decides one request.
    #[napi(ts_args_type = "request: AccessRequest", ts_return_type = "Decision")]
    pub fn decide<'e>(&self, env: &'e Env, request: Unknown<'_>) -> Result<Unknown<'e>> {
        let req = guarded(env, "decide", || crate::request(&request, ""))?;
        let d = guarded(env, "decide", || self.inner.decide(&req))?;
        to_object(env, &js_value(&d))
    }

    /// Decides one request off the main thread; a bad request rejects the promise.
    #[napi(
        ts_args_type = "request: AccessRequest",
        ts_return_type = "Promise<Decision>"
    )]
    pub fn decide_async(&self, request: Unknown<'_>) -> AsyncTask<GateTask> {
        let work = catch_unwind(AssertUnwindSafe(|| {
            crate::request(&request, "").map(Work::Decide)
        }))
        .unwrap_or_else(|_| Err(invalid("", "internal error while reading the request")));
        AsyncTask::new(GateTask {
            gate: self.inner.clone(),
            work: Some(work),
        })
    }

    /// Decides many requests: one item per request, in order, each a decision or an
    /// `Error` (not thrown) with `code`, `key` and `index`.
    #[napi(
        ts_args_type = "requests: AccessRequest[]",
        ts_return_type = "Array<Decision | TicketgateError>"
    )]
    pub fn decide_many<'e>(&self, env: &'e Env, requests: Array<'e>) -> Result<Vec<Unknown<'e>>> {
        let parsed = requests_of(env, &requests)?;
        let decided = guarded(env, "decideMany", || {
            Ok(ffi::decide_batch(&self.inner, parsed))
        })?;
        results(env, decided, |env, d| to_object(env, &js_value(&d)))
    }

    /// `decideMany` off the main thread, spread over the cores like `decideMany`.
    #[napi(
        ts_args_type = "requests: AccessRequest[]",
        ts_return_type = "Promise<Array<Decision | TicketgateError>>"
    )]
    pub fn decide_many_async(&self, env: Env, requests: Array<'_>) -> Result<AsyncTask<GateTask>> {
        let parsed = requests_of(&env, &requests)?;
        Ok(AsyncTask::new(GateTask {
            gate: self.inner.clone(),
            work: Some(Ok(Work::DecideMany(parsed))),
        }))
    }

    /// The contact record with the decision applied (revealed as is, masked, or null), and
    /// that decision: one decision, one audit record.
    #[napi(
        ts_args_type = "request: AccessRequest, record: Record<string, unknown>",
        ts_return_type = "View"
    )]
    pub fn view<'e>(
        &self,
        env: &'e Env,
        request: Unknown<'_>,
        record: Unknown<'_>,
    ) -> Result<Unknown<'e>> {
        let req = guarded(env, "view", || crate::request(&request, ""))?;
        let rec = guarded(env, "view", || crate::record(&record, "record"))?;
        let v = guarded(env, "view", || self.inner.view(&req, &rec))?;
        to_object(env, &view_value(v))
    }

    /// `view` off the main thread; a bad request rejects the promise.
    #[napi(
        ts_args_type = "request: AccessRequest, record: Record<string, unknown>",
        ts_return_type = "Promise<View>"
    )]
    pub fn view_async(&self, request: Unknown<'_>, record: Unknown<'_>) -> AsyncTask<GateTask> {
        let work = catch_unwind(AssertUnwindSafe(|| {
            Ok(Work::View(
                crate::request(&request, "")?,
                crate::record(&record, "record")?,
            ))
        }))
        .unwrap_or_else(|_| Err(invalid("", "internal error while reading the request")));
        AsyncTask::new(GateTask {
            gate: self.inner.clone(),
            work: Some(work),
        })
    }

    /// `view` over `[request, record]` pairs: one item per pair, in order, each a
    /// `{record, decision}` or an `Error` (not thrown) with `code`, `key` and `index`.
    #[napi(
        ts_args_type = "items: Array<[AccessRequest, Record<string, unknown>]>",
        ts_return_type = "Array<View | TicketgateError>"
    )]
    pub fn view_many<'e>(&self, env: &'e Env, items: Array<'e>) -> Result<Vec<Unknown<'e>>> {
        let parsed = pairs_of(env, &items)?;
        let viewed = guarded(env, "viewMany", || Ok(ffi::view_batch(&self.inner, parsed)))?;
        results(env, viewed, |env, v| to_object(env, &view_value(v)))
    }

    /// `viewMany` off the main thread, spread over the cores like `viewMany`.
    #[napi(
        ts_args_type = "items: Array<[AccessRequest, Record<string, unknown>]>",
        ts_return_type = "Promise<Array<View | TicketgateError>>"
    )]
    pub fn view_many_async(&self, env: Env, items: Array<'_>) -> Result<AsyncTask<GateTask>> {
        let parsed = pairs_of(&env, &items)?;
        Ok(AsyncTask::new(GateTask {
            gate: self.inner.clone(),
            work: Some(Ok(Work::ViewMany(parsed))),
        }))
    }

    /// Forces the audit log to disk and publishes its checkpoint; returns the head
    /// `SEQ:HASH` (null without an audit log).
    #[napi]
    pub fn audit_checkpoint(&self, env: Env) -> Result<Option<String>> {
        guarded(&env, "auditCheckpoint", || match self.inner.audit_log() {
            Some(l) => {
                l.sync()?;
                Ok(Some(l.head().to_string()))
            }
            None => Ok(None),
        })
    }

    /// Loads a pack directory and swaps it in atomically; on error the old pack keeps serving.
    #[napi]
    pub fn reload(&self, env: Env, policies: String) -> Result<String> {
        guarded(&env, "reload", || self.inner.reload_dir(&policies))
    }

    /// Suspends an employee on every gate sharing this store.
    #[napi]
    pub fn suspend(&self, env: Env, employee_id: String, reason: String) -> Result<()> {
        guarded(&env, "suspend", || {
            self.inner.suspend(&employee_id, &reason)
        })
    }

    /// Lifts a suspension; returns whether there was one.
    #[napi]
    pub fn reinstate(&self, env: Env, employee_id: String) -> Result<bool> {
        guarded(&env, "reinstate", || self.inner.reinstate(&employee_id))
    }

    /// Current suspensions.
    #[napi(ts_return_type = "Suspension[]")]
    pub fn suspended(&self, env: Env) -> Result<Value> {
        guarded(&env, "suspended", || self.inner.suspended()).map(|s| js_value(&s))
    }

    /// Records a past reveal (warming velocity counts after a restart).
    #[napi(ts_args_type = "employeeId: string, customerId: string, at: string | Date")]
    pub fn record_reveal(
        &self,
        env: Env,
        employee_id: String,
        customer_id: String,
        at: Unknown<'_>,
    ) -> Result<()> {
        let at = guarded(&env, "recordReveal", || timestamp(&at, "at"))?;
        guarded(&env, "recordReveal", || {
            self.inner.record_reveal(&employee_id, &customer_id, at)
        })
    }

    /// Returns the grant signed as it is (no issuing checks: for tests and migrations).
    #[napi(ts_args_type = "grant: Grant", ts_return_type = "Grant")]
    pub fn sign_grant(&self, env: Env, grant: Unknown<'_>) -> Result<Value> {
        guarded(&env, "signGrant", || {
            Ok(js_value(&self.inner.sign_grant(grant_arg(&grant)?)))
        })
    }

    /// Records a request for an `approved` grant; returns it signed as pending (it reveals
    /// nothing until approved, and lapses after 12 h).
    #[napi(ts_args_type = "grant: Grant", ts_return_type = "Grant")]
    pub fn request_grant(&self, env: Env, grant: Unknown<'_>) -> Result<Value> {
        guarded(&env, "requestGrant", || {
            Ok(js_value(&self.inner.request_grant(grant_arg(&grant)?)?))
        })
    }

    /// Approves a pending request; `approver` is the approving employee's facts.
    #[napi(
        ts_args_type = "grant: Grant, approver: Employee",
        ts_return_type = "Grant"
    )]
    pub fn approve_grant(
        &self,
        env: Env,
        grant: Unknown<'_>,
        approver: Unknown<'_>,
    ) -> Result<Value> {
        guarded(&env, "approveGrant", || {
            let a =
                ffi::employee_from_value(to_json(&approver, "approver", Keys::Snake)?, "approver")
                    .map_err(|e| InvalidRequest::new(camel_path(&e.key), e.reason))?;
            Ok(js_value(&self.inner.approve_grant(grant_arg(&grant)?, &a)?))
        })
    }

    /// Issues a break-glass grant (reason and incident required, at most 1 h).
    #[napi(ts_args_type = "grant: Grant", ts_return_type = "Grant")]
    pub fn issue_break_glass(&self, env: Env, grant: Unknown<'_>) -> Result<Value> {
        guarded(&env, "issueBreakGlass", || {
            Ok(js_value(&self.inner.issue_break_glass(grant_arg(&grant)?)?))
        })
    }

    /// Revokes a grant on every gate sharing this gate's store.
    #[napi]
    pub fn revoke_grant(&self, env: Env, grant_id: String) -> Result<()> {
        guarded(&env, "revokeGrant", || self.inner.revoke_grant(&grant_id))
    }

    /// `sha256:` version of the pack deciding now.
    #[napi(getter)]
    pub fn policy_version(&self) -> String {
        self.inner.policy_version()
    }

    /// The fields the pack decides.
    #[napi(getter)]
    pub fn fields(&self) -> Vec<String> {
        self.inner.pack().fields().to_vec()
    }

    /// Alert callbacks that threw or were dropped.
    #[napi(ts_return_type = "{ failed: number, dropped: number }")]
    pub fn alert_stats(&self) -> Value {
        let dropped = self
            .inner
            .alert_stats()
            .map_or(0, |s| s.dropped.load(Ordering::Relaxed));
        let failed = self.callback_failures.load(Ordering::Relaxed)
            + self
                .inner
                .alert_stats()
                .map_or(0, |s| s.failed.load(Ordering::Relaxed));
        serde_json::json!({ "failed": failed, "dropped": dropped })
    }

    /// The audit log's last record as `SEQ:HASH`, or null without a log.
    #[napi]
    pub fn audit_head(&self) -> Option<String> {
        self.inner.audit_log().map(|l| l.head().to_string())
    }

    /// Customers whose data `employee` saw (recorded as an `audit_read` by `reader`).
    #[napi(
        ts_args_type = "employee: string, since?: string | Date | null, until?: string | Date | null, reader?: string",
        ts_return_type = "Affected[]"
    )]
    pub fn audit_affected(
        &self,
        env: Env,
        employee: String,
        since: Option<Unknown<'_>>,
        until: Option<Unknown<'_>>,
        reader: Option<String>,
    ) -> Result<Value> {
        let time = |v: &Option<Unknown<'_>>,
                    key: &str|
         -> std::result::Result<Option<Timestamp>, CoreError> {
            match v {
                Some(u) if !matches!(u.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                    timestamp(u, key).map(Some)
                }
                _ => Ok(None),
            }
        };
        let since = guarded(&env, "auditAffected", || time(&since, "since"))?;
        let until = guarded(&env, "auditAffected", || time(&until, "until"))?;
        let reader = reader.as_deref().unwrap_or("node");
        guarded(&env, "auditAffected", || {
            self.inner.audit_affected(reader, &employee, since, until)
        })
        .map(|rows| js_value(&rows))
    }

    /// Employees who saw customers who reported scam contact, most suspicious first
    /// (recorded as an `audit_read` by `reader`).
    #[napi(
        ts_args_type = "customers: string[], field?: string | null, reader?: string",
        ts_return_type = "Array<{ employee: string, matched: number, revealedCustomers: number, pValue: number }>"
    )]
    pub fn audit_suspects(
        &self,
        env: Env,
        customers: Vec<String>,
        field: Option<String>,
        reader: Option<String>,
    ) -> Result<Value> {
        let reader = reader.as_deref().unwrap_or("node");
        guarded(&env, "auditSuspects", || {
            self.inner
                .audit_suspects(reader, &customers, field.as_deref())
        })
        .map(|rows| js_value(&rows))
    }

    /// Every access to one customer (recorded as an `audit_read` by `reader`).
    #[napi(ts_return_type = "Array<Record<string, unknown>>")]
    pub fn audit_customer(
        &self,
        env: Env,
        customer: String,
        reader: Option<String>,
    ) -> Result<Value> {
        let reader = reader.as_deref().unwrap_or("node");
        guarded(&env, "auditCustomer", || {
            self.inner.audit_customer(reader, &customer)
        })
        .map(|rows| js_value(&rows))
    }
}

fn grant_arg(v: &Unknown<'_>) -> std::result::Result<ticketgate::Grant, CoreError> {
    Ok(ffi::grant_from_value(to_json(v, "grant", Keys::Snake)?)?)
}

fn to_json_skipping(o: &Unknown<'_>, skip: &str) -> std::result::Result<Value, InvalidRequest> {
    let obj = Object::from_unknown(*o).map_err(|e| InvalidRequest {
        key: "options".into(),
        reason: e.reason.clone(),
    })?;
    let mut out = Map::new();
    for k in Object::keys(&obj).map_err(|e| InvalidRequest {
        key: "options".into(),
        reason: e.reason.clone(),
    })? {
        if k == skip {
            continue;
        }
        let v: Unknown<'_> = obj.get_named_property(&k).map_err(|e| InvalidRequest {
            key: k.clone(),
            reason: e.reason.clone(),
        })?;
        out.insert(convert::to_snake(&k), to_json(&v, &k, Keys::Snake)?);
    }
    Ok(Value::Object(out))
}

fn build(
    o: Map<String, Value>,
    sink: Option<NodeSink>,
) -> std::result::Result<CoreGate, CoreError> {
    let mut b = GateOptions::from_value(Value::Object(o))
        .map_err(|e| CoreError::InvalidRequest(InvalidRequest::new(camel_path(&e.key), e.reason)))?
        .builder()?;
    if let Some(s) = sink {
        b = b.on_alert(Arc::new(s));
    }
    b.build()
}

/// A view as JS sees it: `{ record, decision }`.
fn view_value(v: ticketgate::View) -> Value {
    serde_json::json!({ "record": Value::Object(v.record), "decision": js_value(&v.decision) })
}

/// What `decideAsync`, `viewAsync` and their batch forms do on libuv's thread pool.
pub enum Work {
    Decide(AccessRequest),
    View(AccessRequest, Map<String, Value>),
    DecideMany(Vec<std::result::Result<AccessRequest, CoreError>>),
    ViewMany(Vec<std::result::Result<Pair, CoreError>>),
}

/// A promise's value: one result, or one per item of a batch.
pub enum Done {
    One(Value),
    Many(Vec<std::result::Result<Value, CoreError>>),
}

/// `decideAsync` / `viewAsync` work, decided off the main thread.
pub struct GateTask {
    gate: CoreGate,
    work: Option<std::result::Result<Work, CoreError>>,
}

impl<'task> napi::ScopedTask<'task> for GateTask {
    type Output = std::result::Result<Done, Option<CoreError>>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> Result<Self::Output> {
        let work = match self.work.take() {
            Some(Ok(w)) => w,
            Some(Err(e)) => return Ok(Err(Some(e))),
            None => return Ok(Err(None)),
        };
        let gate = &self.gate;
        let run = catch_unwind(AssertUnwindSafe(|| match work {
            Work::Decide(r) => gate.decide(&r).map(|d| Done::One(js_value(&d))),
            Work::View(r, rec) => gate.view(&r, &rec).map(|v| Done::One(view_value(v))),
            Work::DecideMany(reqs) => Ok(Done::Many(
                ffi::decide_batch(gate, reqs)
                    .into_iter()
                    .map(|r| r.map(|d| js_value(&d)))
                    .collect(),
            )),
            Work::ViewMany(items) => Ok(Done::Many(
                ffi::view_batch(gate, items)
                    .into_iter()
                    .map(|r| r.map(view_value))
                    .collect(),
            )),
        }));
        Ok(match run {
            Ok(r) => r.map_err(Some),
            Err(_) => Err(None),
        })
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> Result<Unknown<'task>> {
        match output {
            Ok(Done::One(v)) => to_object(env, &v),
            Ok(Done::Many(items)) => {
                let items = results(env, items, |env, v| to_object(env, &v))?;
                Ok(Array::from_vec(env, items)?.to_unknown())
            }
            Err(Some(e)) => Err(to_js(env, e)),
            Err(None) => Err(internal(env, "a promise of the gate")),
        }
    }
}

/// Verifies audit files or directories (every segment, each chain on its own); throws an
/// `AuditError` naming the file and line of the first break.
#[napi(ts_return_type = "AuditReport")]
pub fn verify_audit(
    env: Env,
    paths: Vec<String>,
    expect_head: Option<String>,
    key: Option<String>,
    checkpoint: Option<String>,
) -> Result<Value> {
    guarded(&env, "verifyAudit", || {
        let paths: Vec<std::path::PathBuf> = paths.into_iter().map(Into::into).collect();
        let report = ffi::verify_audit(
            &paths,
            expect_head.as_deref(),
            key.map(String::into_bytes),
            checkpoint.map(Into::into),
            "expectHead",
        )?;
        Ok(js_value(&report))
    })
}

/// Applies the masking vector of `field` to `value`; null when the rules cannot mask it.
#[napi]
pub fn mask(field: String, value: String) -> Option<String> {
    ticketgate::mask::mask_str(&field, &value)
}

/// Test-only: a panic inside the core, to show it arrives as an `Error` with a `code`.
#[napi(js_name = "_testPanic")]
pub fn test_panic(env: Env) -> Result<()> {
    guarded(&env, "_testPanic", ticketgate::ffi::test_panic)
}

/// The items of a JS array, refusing a claimed length past the input limit before
/// reading (or allocating for) any of them.
fn array_items<'e>(env: &Env, arr: &Array<'e>) -> Result<Vec<Unknown<'e>>> {
    let n = arr.len();
    if n as usize > ticketgate::limits::MAX_BATCH {
        return Err(to_js(
            env,
            invalid(
                "",
                format!(
                    "a batch of {n} items; at most {} are accepted",
                    ticketgate::limits::MAX_BATCH
                ),
            ),
        ));
    }
    (0..n)
        .map(|i| {
            arr.get::<Unknown<'e>>(i)?
                .ok_or_else(|| to_js(env, invalid(&format!("[{i}]"), "missing item")))
        })
        .collect()
}

/// One JS value per item: the converted result, or an `Error` object with its `index`.
/// A batch's requests, each converted on its own so one bad item fails only itself.
fn requests_of(
    env: &Env,
    requests: &Array<'_>,
) -> Result<Vec<std::result::Result<AccessRequest, CoreError>>> {
    Ok(array_items(env, requests)?
        .iter()
        .enumerate()
        .map(|(i, r)| crate::request(r, &format!("[{i}]")))
        .collect())
}

type Pair = (AccessRequest, Map<String, Value>);

/// A `viewMany` batch's `[request, record]` pairs, each converted on its own.
fn pairs_of(env: &Env, items: &Array<'_>) -> Result<Vec<std::result::Result<Pair, CoreError>>> {
    let items = array_items(env, items)?;
    let parsed = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let pair = Object::from_unknown(*item)
                .ok()
                .filter(|_| item.is_array().unwrap_or(false))
                .ok_or_else(|| invalid(&format!("[{i}]"), "expected a [request, record] pair"))?;
            let r: Unknown<'_> = pair
                .get_element(0)
                .map_err(|e| invalid(&format!("[{i}]"), e.reason.clone()))?;
            let rec: Unknown<'_> = pair
                .get_element(1)
                .map_err(|e| invalid(&format!("[{i}]"), e.reason.clone()))?;
            Ok((
                crate::request(&r, &format!("[{i}]"))?,
                crate::record(&rec, &format!("[{i}].record"))?,
            ))
        })
        .collect();
    Ok(parsed)
}

fn results<'e, T>(
    env: &'e Env,
    items: Vec<std::result::Result<T, CoreError>>,
    convert: impl Fn(&'e Env, T) -> Result<Unknown<'e>>,
) -> Result<Vec<Unknown<'e>>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(t) => convert(env, t),
            Err(e) => errors::error_object(env, e, i),
        })
        .collect()
}
