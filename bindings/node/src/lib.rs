//! The `ticketgate` npm package's native addon: conversion and error mapping over the
//! core, nothing else.

mod errors;
mod host;

use errors::{internal, to_js};
use host::{from_js, from_js_skipping};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Serialize;
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use ticketgate::ffi::host::Strings;
use ticketgate::{
    ffi, AccessRequest, Error as CoreError, Gate as CoreGate, GateOptions, InvalidRequest,
    Timestamp,
};

fn invalid(key: &str, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidRequest(InvalidRequest::new(key, reason))
}

/// A result as JSON text, made wherever the work ran (off the main thread for promises).
fn json<T: Serialize + ?Sized>(t: &T) -> std::result::Result<String, CoreError> {
    ffi::camel::to_json_text(t).map_err(|e| invalid("", format!("result not serialisable: {e}")))
}

/// JSON text as a JS value through V8's own `JSON.parse`.
fn parse<'e>(env: &'e Env, text: String) -> Result<Unknown<'e>> {
    let json: Object<'_> = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<'_, String, Unknown<'e>> = json.get_named_property("parse")?;
    parse.call(text)
}

fn request(v: &Unknown<'_>, prefix: &str) -> std::result::Result<AccessRequest, CoreError> {
    Ok(from_js(v, prefix, Strings::PerKey)?)
}

fn record(v: &Unknown<'_>, key: &str) -> std::result::Result<Map<String, Value>, CoreError> {
    Ok(from_js(v, key, Strings::Loose)?)
}

fn timestamp(v: &Unknown<'_>, key: &str) -> std::result::Result<Timestamp, CoreError> {
    Ok(from_js(v, key, Strings::Loose)?)
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
                data: (ffi::camel::to_value(a), decision),
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
        self.call(ffi::camel::to_value(d), a)
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
                from_js_skipping(o, "", Strings::Loose, Some("onAlert"))
                    .map_err(|e| to_js(&env, e.into()))?
            }
            _ => GateOptions::default(),
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
        out(env, "decide", || {
            self.inner.decide(&crate::request(&request, "")?)
        })
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
    pub fn decide_many<'e>(&self, env: &'e Env, requests: Array<'e>) -> Result<Unknown<'e>> {
        let batch = batch_of(env, &self.inner, &requests)?;
        let decided = guarded(env, "decideMany", || Ok(texts(ffi::finish_batch(batch))))?;
        results(env, decided)
    }

    /// `decideMany` off the main thread, spread over the cores like `decideMany`.
    #[napi(
        ts_args_type = "requests: AccessRequest[]",
        ts_return_type = "Promise<Array<Decision | TicketgateError>>"
    )]
    pub fn decide_many_async(&self, env: Env, requests: Array<'_>) -> Result<AsyncTask<GateTask>> {
        let batch = batch_of(&env, &self.inner, &requests)?;
        Ok(AsyncTask::new(GateTask {
            gate: self.inner.clone(),
            work: Some(Ok(Work::DecideMany(batch))),
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
        out(env, "view", || {
            let req = crate::request(&request, "")?;
            self.inner.view(&req, &crate::record(&record, "record")?)
        })
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
    pub fn view_many<'e>(&self, env: &'e Env, items: Array<'e>) -> Result<Unknown<'e>> {
        let parsed = pairs_of(env, &items)?;
        let viewed = guarded(env, "viewMany", || {
            Ok(texts(ffi::view_batch(&self.inner, parsed)))
        })?;
        results(env, viewed)
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
    pub fn suspended<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        out(env, "suspended", || self.inner.suspended())
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
    pub fn sign_grant<'e>(&self, env: &'e Env, grant: Unknown<'_>) -> Result<Unknown<'e>> {
        out(env, "signGrant", || {
            Ok(self.inner.sign_grant(grant_arg(&grant)?))
        })
    }

    /// Records a request for an `approved` grant; returns it signed as pending (it reveals
    /// nothing until approved, and lapses after 12 h).
    #[napi(ts_args_type = "grant: Grant", ts_return_type = "Grant")]
    pub fn request_grant<'e>(&self, env: &'e Env, grant: Unknown<'_>) -> Result<Unknown<'e>> {
        out(env, "requestGrant", || {
            self.inner.request_grant(grant_arg(&grant)?)
        })
    }

    /// Approves a pending request; `approver` is the approving employee's facts.
    #[napi(
        ts_args_type = "grant: Grant, approver: Employee",
        ts_return_type = "Grant"
    )]
    pub fn approve_grant<'e>(
        &self,
        env: &'e Env,
        grant: Unknown<'_>,
        approver: Unknown<'_>,
    ) -> Result<Unknown<'e>> {
        out(env, "approveGrant", || {
            let a = from_js(&approver, "approver", Strings::PerKey)?;
            self.inner.approve_grant(grant_arg(&grant)?, &a)
        })
    }

    /// Issues a break-glass grant (reason and incident required, at most 1 h).
    #[napi(ts_args_type = "grant: Grant", ts_return_type = "Grant")]
    pub fn issue_break_glass<'e>(&self, env: &'e Env, grant: Unknown<'_>) -> Result<Unknown<'e>> {
        out(env, "issueBreakGlass", || {
            self.inner.issue_break_glass(grant_arg(&grant)?)
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
    pub fn audit_affected<'e>(
        &self,
        env: &'e Env,
        employee: String,
        since: Option<Unknown<'_>>,
        until: Option<Unknown<'_>>,
        reader: Option<String>,
    ) -> Result<Unknown<'e>> {
        let time = |v: &Option<Unknown<'_>>, key| match v {
            Some(u) => from_js::<Option<Timestamp>>(u, key, Strings::Loose),
            None => Ok(None),
        };
        out(env, "auditAffected", || {
            let (since, until) = (time(&since, "since")?, time(&until, "until")?);
            let reader = reader.as_deref().unwrap_or("node");
            self.inner.audit_affected(reader, &employee, since, until)
        })
    }

    /// Employees who saw customers who reported scam contact, most suspicious first
    /// (recorded as an `audit_read` by `reader`).
    #[napi(
        ts_args_type = "customers: string[], field?: string | null, reader?: string",
        ts_return_type = "Suspect[]"
    )]
    pub fn audit_suspects<'e>(
        &self,
        env: &'e Env,
        customers: Vec<String>,
        field: Option<String>,
        reader: Option<String>,
    ) -> Result<Unknown<'e>> {
        let reader = reader.as_deref().unwrap_or("node");
        out(env, "auditSuspects", || {
            self.inner
                .audit_suspects(reader, &customers, field.as_deref())
        })
    }

    /// Every access to one customer (recorded as an `audit_read` by `reader`).
    #[napi(ts_return_type = "Access[]")]
    pub fn audit_customer<'e>(
        &self,
        env: &'e Env,
        customer: String,
        reader: Option<String>,
    ) -> Result<Unknown<'e>> {
        let reader = reader.as_deref().unwrap_or("node");
        out(env, "auditCustomer", || {
            self.inner.audit_customer(reader, &customer)
        })
    }
}

/// Runs core work and gives its result to JS.
fn out<'e, T: Serialize>(
    env: &'e Env,
    what: &str,
    f: impl FnOnce() -> std::result::Result<T, CoreError>,
) -> Result<Unknown<'e>> {
    parse(env, guarded(env, what, || json(&f()?))?)
}

fn grant_arg(v: &Unknown<'_>) -> std::result::Result<ticketgate::Grant, CoreError> {
    Ok(from_js(v, "grant", Strings::PerKey)?)
}

fn build(o: GateOptions, sink: Option<NodeSink>) -> std::result::Result<CoreGate, CoreError> {
    let mut b = o.builder()?;
    if let Some(s) = sink {
        b = b.on_alert(Arc::new(s));
    }
    b.build()
}

/// What `decideAsync`, `viewAsync` and their batch forms do on libuv's thread pool.
pub enum Work {
    Decide(AccessRequest),
    View(AccessRequest, Map<String, Value>),
    DecideMany(ticketgate::Batch),
    ViewMany(Vec<std::result::Result<Pair, CoreError>>),
}

/// A promise's value: one result, or one per item of a batch.
pub enum Done {
    One(String),
    Many(Vec<std::result::Result<String, CoreError>>),
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
            Work::Decide(r) => gate.decide(&r).and_then(|d| json(&d)).map(Done::One),
            Work::View(r, rec) => gate.view(&r, &rec).and_then(|v| json(&v)).map(Done::One),
            Work::DecideMany(batch) => Ok(Done::Many(texts(ffi::finish_batch(batch)))),
            Work::ViewMany(items) => Ok(Done::Many(texts(ffi::view_batch(gate, items)))),
        }));
        Ok(match run {
            Ok(r) => r.map_err(Some),
            Err(_) => Err(None),
        })
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> Result<Unknown<'task>> {
        match output {
            Ok(Done::One(v)) => parse(env, v),
            Ok(Done::Many(items)) => results(env, items),
            Err(Some(e)) => Err(to_js(env, e)),
            Err(None) => Err(internal(env, "a promise of the gate")),
        }
    }
}

/// Verifies audit files or directories (every segment, each chain on its own); throws an
/// `AuditError` naming the file and line of the first break.
#[napi(ts_return_type = "AuditReport")]
pub fn verify_audit(
    env: &Env,
    paths: Vec<String>,
    expect_head: Option<String>,
    key: Option<String>,
    checkpoint: Option<String>,
) -> Result<Unknown<'_>> {
    out(env, "verifyAudit", || {
        let paths: Vec<std::path::PathBuf> = paths.into_iter().map(Into::into).collect();
        ffi::verify_audit(
            &paths,
            expect_head.as_deref(),
            key.map(String::into_bytes),
            checkpoint.map(Into::into),
            "expectHead",
        )
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
    ffi::host::check_batch(n as usize).map_err(|e| to_js(env, e.into()))?;
    (0..n)
        .map(|i| {
            arr.get::<Unknown<'e>>(i)?
                .ok_or_else(|| to_js(env, invalid(&format!("[{i}]"), "missing item")))
        })
        .collect()
}

/// One JS value per item: the converted result, or an `Error` object with its `index`.
/// A batch's requests, each converted on its own so one bad item fails only itself.
/// A batch's requests pushed as they are read, each converted on its own so one bad item
/// fails only itself; the gate decides the ones already read meanwhile.
fn batch_of(env: &Env, gate: &CoreGate, requests: &Array<'_>) -> Result<ticketgate::Batch> {
    let mut batch = gate.batch();
    for (i, r) in array_items(env, requests)?.iter().enumerate() {
        batch.push(crate::request(r, &format!("[{i}]")));
    }
    Ok(batch)
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

/// Each result of a batch as JSON text (wherever the batch ran).
fn texts<T: Serialize>(
    items: Vec<std::result::Result<T, CoreError>>,
) -> Vec<std::result::Result<String, CoreError>> {
    items
        .into_iter()
        .map(|r| r.and_then(|t| json(&t)))
        .collect()
}

/// A batch's results as one JS array: the successes through a single `JSON.parse` (one call
/// for the batch rather than one per item), then each failure put in its slot as an
/// `Error` with its `index`.
fn results<'e>(
    env: &'e Env,
    items: Vec<std::result::Result<String, CoreError>>,
) -> Result<Unknown<'e>> {
    let mut text = String::with_capacity(
        items
            .iter()
            .map(|r| r.as_ref().map_or(4, String::len) + 1)
            .sum::<usize>()
            + 2,
    );
    text.push('[');
    for (i, r) in items.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(r.as_ref().map_or("null", String::as_str));
    }
    text.push(']');
    let array = parse(env, text)?;
    let mut obj = Object::from_unknown(array)?;
    for (i, r) in items.into_iter().enumerate() {
        if let Err(e) = r {
            obj.set_element(i as u32, errors::error_object(env, e, i)?)?;
        }
    }
    Ok(array)
}
