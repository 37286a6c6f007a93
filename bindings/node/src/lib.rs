//! The `ticketgate` npm package's native addon: conversion and error mapping over the core,
//! nothing else. Every operation arrives as its name and its arguments (`call`, or
//! `callAsync` on libuv's thread pool); `index.js` gives each its JavaScript signature.

mod errors;
mod host;

// mimalloc, as for the CLI: a batch's cores allocate without contending (see docs/benchmarks.md)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use errors::{internal, to_js};
use host::{from_js, Js};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use ticketgate::ffi::camel::{self, CamelText};
use ticketgate::ffi::{self, Done, Encode, VerifyAudit, Work};
use ticketgate::host::Strings;
use ticketgate::{Alert, AlertSink, Decision, InvalidRequest};
use ticketgate::{Error as CoreError, Gate as CoreGate, GateOptions};

type Core<T> = std::result::Result<T, CoreError>;

/// JSON text as a JS value through V8's own `JSON.parse` (faster than building it key by key).
fn parse<'e>(env: &'e Env, text: String) -> Result<Unknown<'e>> {
    let json: Object<'_> = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<'_, String, Unknown<'e>> = json.get_named_property("parse")?;
    parse.call(text)
}

/// Runs core work, mapping errors and panics to JS errors.
fn guarded<T>(env: &Env, what: &str, f: impl FnOnce() -> Core<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| to_js(env, e)),
        Err(_) => Err(internal(env, what)),
    }
}

type Args = FnArgs<(Value, Value)>;
type AlertFn = ThreadsafeFunction<Args, Unknown<'static>, Args, Status, false, true>;

/// Calls `onAlert(alert, decision)` (guarded in `index.js`: a throw escaping a threadsafe
/// function would end the process); `decision` is null for an alert outside a decision.
struct NodeSink(AlertFn);

impl NodeSink {
    fn call(&self, decision: Value, a: &Alert) -> std::result::Result<(), String> {
        let args = (js_value(a)?, decision).into();
        match self.0.call(args, ThreadsafeFunctionCallMode::NonBlocking) {
            Status::Ok => Ok(()),
            other => Err(format!("alert callback queue: {other}")),
        }
    }
}

fn js_value<T: serde::Serialize>(t: &T) -> std::result::Result<Value, String> {
    camel::Camel.encode(t).map_err(|e| e.to_string())
}

impl AlertSink for NodeSink {
    fn alert(&self, d: &Decision, a: &Alert) -> std::result::Result<(), String> {
        self.call(js_value(d)?, a)
    }
    fn event(&self, a: &Alert) -> std::result::Result<(), String> {
        self.call(Value::Null, a)
    }
}

/// An argument that is given (neither undefined nor null), and its type.
fn given(v: Option<Unknown<'_>>) -> Result<Option<(Unknown<'_>, ValueType)>> {
    let Some(v) = v else { return Ok(None) };
    Ok(match v.get_type()? {
        ValueType::Undefined | ValueType::Null => None,
        t => Some((v, t)),
    })
}

/// The gate: decides, per contact field, what an employee may see.
#[napi]
pub struct Gate(CoreGate);

#[napi]
impl Gate {
    /// `options` as `GateOptions` (its `onAlert` key passed over: the guarded callback comes
    /// as `onAlert`).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        options: Option<Unknown<'_>>,
        on_alert: Option<Unknown<'_>>,
    ) -> Result<Self> {
        let sink = match given(on_alert)? {
            Some((f, ValueType::Function)) => Some(NodeSink(
                Function::<Args, Unknown<'static>>::from_unknown(f)?
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?,
            )),
            Some(_) => {
                let e = InvalidRequest::new("onAlert", "expected a function");
                return Err(to_js(&env, e.into()));
            }
            None => None,
        };
        let options = given(options)?;
        let gate = guarded(&env, "new Gate", || {
            let opts: GateOptions = match options {
                Some((o, _)) => from_js(&o, "", Strings::Loose, Some("onAlert"))?,
                None => GateOptions::default(),
            };
            let mut b = opts.builder()?;
            if let Some(s) = sink {
                b = b.on_alert(Arc::new(s));
            }
            b.build()
        })?;
        Ok(Gate(gate))
    }

    /// Runs the operation `op` with `args`, on this thread: one result as JSON text, a
    /// batch's as an array. `text`, when given, is JSON that `index.js` checked says exactly
    /// what `args` says, and is read instead.
    #[napi(ts_return_type = "any")]
    pub fn call<'e>(
        &self,
        env: &'e Env,
        op: String,
        args: Unknown<'_>,
        text: Option<String>,
    ) -> Result<Unknown<'e>> {
        let done = guarded(env, &op, || work(&self.0, &op, &args, text)?.run(&self.0))?;
        into_js(done, env)
    }

    /// Runs the operation `op` with `args` off the main thread, where `text` is read too; a
    /// bad argument rejects the promise.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn call_async(
        &self,
        op: String,
        args: Unknown<'_>,
        text: Option<String>,
    ) -> AsyncTask<GateTask> {
        let work = catch_unwind(AssertUnwindSafe(|| work(&self.0, &op, &args, text)))
            .unwrap_or_else(|_| {
                Err(InvalidRequest::new("", "internal error while reading the arguments").into())
            });
        AsyncTask::new(GateTask {
            gate: self.0.clone(),
            work: Some(work),
        })
    }

    /// A `decide_many` batch (`view_many` when `view`) whose items come as parts of JSON
    /// text, each read off the main thread while `index.js` makes the next.
    #[napi]
    pub fn feed(&self, env: &Env, view: bool) -> Result<Feed> {
        let feed = guarded(env, "feed", || Ok(Work::feed(&self.0, view)))?;
        Ok(Feed(self.0.clone(), Some(feed)))
    }

    /// `sha256:` version of the pack deciding now.
    #[napi(getter)]
    pub fn policy_version(&self) -> String {
        self.0.policy_version()
    }

    /// The fields the pack decides.
    #[napi(getter)]
    pub fn fields(&self) -> Vec<String> {
        self.0.pack().fields().to_vec()
    }
}

/// A batch given as parts of JSON text (`ticketgate::ffi::Feed`).
#[napi]
pub struct Feed(CoreGate, Option<ffi::Feed>);

#[napi]
impl Feed {
    /// The next part: JSON text of an array of items that `index.js` checked.
    #[napi]
    pub fn push(&self, part: String) {
        if let Some(f) = &self.1 {
            f.push(part);
        }
    }

    /// Waits off the main thread until every item is decided and durable.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn finish(&mut self) -> AsyncTask<GateTask> {
        let done = || InvalidRequest::new("", "this batch is finished already").into();
        let work = self.1.take().map(Work::Fed).ok_or_else(done);
        AsyncTask::new(GateTask {
            gate: self.0.clone(),
            work: Some(work),
        })
    }
}

/// `args` read now, or its text kept to read where the work runs (`callAsync`: off the main thread)
fn work(gate: &CoreGate, op: &str, args: &Unknown<'_>, text: Option<String>) -> Core<Work> {
    let later = |text| Ok(Work::Text(op.to_owned(), text));
    text.map_or_else(|| Work::read(gate, &Js::default(), op, args), later)
}

/// A result for JavaScript: one value as its text for `index.js` to read; a batch's
/// successes through one `JSON.parse` (reading each item in `index.js` measured slower),
/// then each failure put in its slot as an `Error` with its `index`.
fn into_js(done: Done, env: &Env) -> Result<Unknown<'_>> {
    let (text, failed) = match done {
        Done::One(text) => return Ok(env.create_string(&text)?.to_unknown()),
        Done::Many(many) => many,
    };
    let array = parse(env, text)?;
    let mut obj = Object::from_unknown(array)?;
    for (i, e) in failed {
        obj.set_element(i as u32, errors::error_object(env, e, i)?)?;
    }
    Ok(array)
}
/// `callAsync`'s work, run off the main thread.
pub struct GateTask {
    gate: CoreGate,
    work: Option<Core<Work>>,
}

impl<'task> napi::ScopedTask<'task> for GateTask {
    type Output = std::result::Result<Done, Option<CoreError>>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> Result<Self::Output> {
        let Some(work) = self.work.take() else {
            return Ok(Err(None));
        };
        let gate = &self.gate;
        let run = catch_unwind(AssertUnwindSafe(|| work.and_then(|w| w.run(gate))));
        Ok(run.map_err(|_| None).and_then(|r| r.map_err(Some)))
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> Result<Unknown<'task>> {
        match output {
            Ok(done) => into_js(done, env),
            Err(Some(e)) => Err(to_js(env, e)),
            Err(None) => Err(internal(env, "a promise of the gate")),
        }
    }
}

/// Verifies audit files or directories given `{paths, expectHead, key, checkpoint}`; the
/// report as JSON text. `index.js` gives it its signature.
#[napi]
pub fn verify_audit(env: &Env, args: Unknown<'_>) -> Result<String> {
    guarded(env, "verifyAudit", || {
        let args: VerifyAudit = from_js(&args, "", Strings::Loose, None)?;
        CamelText.encode(&args.run()?)
    })
}

/// Masks `{field, value}` as `view` masks a record value; `index.js` gives it its signature.
#[napi]
pub fn mask(env: &Env, args: Unknown<'_>) -> Result<String> {
    guarded(env, "mask", || {
        let args: ffi::Mask = from_js(&args, "", Strings::Loose, None)?;
        CamelText.encode(&args.run()?)
    })
}

/// Test-only: the wire form of a decision given as JSON text (`__test__/wire.test.mjs`).
#[napi(js_name = "_wire")]
pub fn wire(env: Env, decision: String) -> Result<String> {
    guarded(&env, "_wire", || ffi::wire::from_json_text(&decision))
}

/// Test-only: a panic inside the core, to show it arrives as an `Error` with a `code`.
#[napi(js_name = "_testPanic")]
pub fn test_panic(env: Env) -> Result<()> {
    guarded(&env, "_testPanic", ffi::test_panic)
}
