//! The `ticketgate._native` module: conversion and error mapping over the core, nothing else.
//! Deciding has its own methods (it is the hot path, and returns a `Decision`); every other
//! operation is one `ffi::Call`, given its Python signature by `ticketgate.Gate`.

mod errors;
mod host;

// mimalloc, as for the CLI: a batch's cores allocate without contending (see docs/benchmarks.md)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use errors::{internal, raise};
use host::{from_py, op_from_py, pair_from_py};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use pythonize::pythonize;
use serde::Serialize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use ticketgate::ffi::{self, Call, Plain, VerifyAudit};
use ticketgate::host::{check_batch, not_a_batch, Strings};
use ticketgate::{AccessRequest, Alert, Error, Gate as CoreGate, GateOptions, Outcome};

/// Runs core work without the GIL; a panic becomes `TicketgateError`.
fn detached<T: Send>(
    py: Python<'_>,
    what: &str,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(r) => r.map_err(raise),
        Err(_) => Err(internal(what)),
    }
}

/// One part of a result as plain Python objects (only that part is converted).
fn part<'py, T: Serialize + ?Sized>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize(py, v)?)
}

/// One decision. Attributes mirror the JSON shape; `to_dict()` gives it whole.
#[pyclass(module = "ticketgate._native", frozen)]
struct Decision(ticketgate::Decision);

#[pymethods]
impl Decision {
    #[getter]
    fn decision_id(&self) -> &str {
        &self.0.decision_id
    }
    #[getter]
    fn at(&self) -> String {
        self.0.at.to_string()
    }
    #[getter]
    fn employee(&self) -> &str {
        &self.0.employee
    }
    #[getter]
    fn customer(&self) -> &str {
        &self.0.customer
    }
    #[getter]
    fn ticket(&self) -> Option<&str> {
        self.0.ticket.as_deref()
    }
    #[getter]
    fn grant(&self) -> Option<&str> {
        self.0.grant.as_deref()
    }
    #[getter]
    fn purpose(&self) -> &str {
        self.0.purpose.as_str()
    }
    #[getter]
    fn policy_version(&self) -> &str {
        &self.0.policy_version
    }
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        part(py, &self.0.fields)
    }
    #[getter]
    fn alerts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        part(py, &self.0.alerts)
    }
    #[getter]
    fn velocity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        part(py, &self.0.velocity)
    }
    /// Shadow mode only: field → the outcome enforcement would have given.
    #[getter]
    fn would_enforce<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        part(py, &self.0.would_enforce)
    }
    /// Fields revealed in full.
    #[getter]
    fn revealed(&self) -> Vec<&str> {
        self.0.revealed()
    }
    /// `"reveal"`, `"mask"` or `"withhold"`; a field not decided is withheld.
    fn outcome(&self, field: &str) -> &'static str {
        self.0.outcome(field).as_str()
    }
    /// The decision as plain dicts and lists (the JSON shape).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        part(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!("<Decision {}>", self.0)
    }
}

/// Calls `on_alert(alert, decision)`; `decision` is None for an alert outside a decision.
struct PySink(Py<PyAny>);

impl PySink {
    fn call(&self, d: Option<&ticketgate::Decision>, a: &Alert) -> Result<(), String> {
        Python::attach(|py| {
            let alert = pythonize(py, a).map_err(|e| e.to_string())?;
            let dec = d.map(|d| Decision(d.clone()));
            self.0
                .call1(py, (alert, dec))
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }
}

impl ticketgate::AlertSink for PySink {
    fn alert(&self, d: &ticketgate::Decision, a: &Alert) -> Result<(), String> {
        self.call(Some(d), a)
    }
    fn event(&self, a: &Alert) -> Result<(), String> {
        self.call(None, a)
    }
}

/// The gate; `ticketgate.Gate` subclasses it, giving each operation but deciding its signature.
#[pyclass(module = "ticketgate._native", frozen, subclass)]
struct Gate(CoreGate);

#[pymethods]
impl Gate {
    /// Every option is a keyword argument and a key of the core's `GateOptions` (so an
    /// option added there is an argument here); an unknown one is an `InvalidRequest`.
    #[new]
    #[pyo3(signature = (*, on_alert=None, **options))]
    fn new(
        py: Python<'_>,
        on_alert: Option<Py<PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        // None is "not given", as for any keyword argument with a default
        let given = PyDict::new(py);
        for (k, v) in options.into_iter().flat_map(|o| o.iter()) {
            if !v.is_none() {
                given.set_item(k, v)?;
            }
        }
        let options: GateOptions = from_py(given.as_any(), "", Strings::Loose).map_err(raise)?;
        let mut b = options.builder().map_err(raise)?;
        if let Some(cb) = on_alert {
            if !cb.bind(py).is_callable() {
                let bad = ticketgate::InvalidRequest::new("on_alert", "expected a callable");
                return Err(raise(bad));
            }
            b = b.on_alert(Arc::new(PySink(cb)));
        }
        b.build().map(Gate).map_err(raise)
    }

    /// Decides one request (a dict, any Mapping or a dataclass).
    fn decide(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let req: AccessRequest = from_py(request, "", Strings::PerKey).map_err(raise)?;
        Ok(Decision(detached(py, "decide", || self.0.decide(&req))?))
    }

    /// Decides many requests on all cores, each pushed as it is read: one item per request, in
    /// order, each a `Decision` or the exception (not raised) for it, `key` naming its index.
    fn decide_many(&self, py: Python<'_>, requests: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        let mut pushed = self.0.batch();
        each_item(requests, |i, r| {
            pushed.push(from_py(&r, &format!("[{i}]"), Strings::PerKey).map_err(Into::into));
        })?;
        let decided = detached(py, "decide_many", || Ok(ffi::finish_batch(pushed)))?;
        results(
            py,
            decided,
            |py, d| Ok(Py::new(py, Decision(d))?.into_any()),
        )
    }

    /// A `ticketgate.View`: the record with the decision applied (a key is a field however cased
    /// or separated: `EMAIL`), and the decision (`.decision`): one decision, one audit record.
    fn view(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        record: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let pair = PyTuple::new(py, [request, record])?;
        let (req, rec) = pair_from_py(pair.as_any(), "").map_err(raise)?;
        view_of(py, detached(py, "view", || self.0.view(&req, &rec))?)
    }

    /// `view` over `(request, record)` pairs, decided as they are read: one item per pair, in
    /// order, each a `View` or the exception (not raised) for that pair.
    fn view_many(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        let mut pushed = self.0.view_batch();
        each_item(items, |i, item| {
            pushed.push(pair_from_py(&item, &format!("[{i}]")).map_err(Into::into));
        })?;
        let viewed = detached(py, "view_many", || Ok(ffi::finish_batch(pushed)))?;
        results(py, viewed, view_of)
    }

    /// Runs the operation `op` (one of the core's `ffi::Call`s) with `args` by name.
    #[pyo3(name = "_call")]
    fn call<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        args: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call: Call = op_from_py(op, args).map_err(raise)?;
        part(py, &detached(py, op, || call.run(&self.0, &Plain))?)
    }

    /// `sha256:` version of the pack deciding now.
    #[getter]
    fn policy_version(&self) -> String {
        self.0.policy_version()
    }

    /// The fields the pack decides.
    #[getter]
    fn fields(&self) -> Vec<String> {
        self.0.pack().fields().to_vec()
    }

    fn __repr__(&self) -> String {
        format!("<Gate policy_version={}>", self.0.policy_version())
    }
}

/// Hands each item of an iterable, with its index, to `each`; a conversion failure stays in
/// its slot (the caller keeps it), only a failing iteration raises.
fn each_item<'py>(
    items: &Bound<'py, PyAny>,
    mut each: impl FnMut(usize, Bound<'py, PyAny>),
) -> PyResult<()> {
    let items = items.try_iter().map_err(|_| raise(not_a_batch()))?;
    for (i, item) in items.enumerate() {
        check_batch(i + 1).map_err(raise)?; // an endless generator is refused past the limit
        each(i, item?);
    }
    Ok(())
}

static VIEW: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A core `View` as a `ticketgate.View` (a dict of the record as shown, with `.decision`).
fn view_of(py: Python<'_>, v: ticketgate::View) -> PyResult<Py<PyAny>> {
    let (class, record) = (VIEW.import(py, "ticketgate", "View")?, part(py, &v.record)?);
    Ok(class.call1((record, Decision(v.decision)))?.unbind())
}

/// One Python object per item: the converted result, or the exception instance with `index`.
/// The GC waits meanwhile (a thread run in between sees collection deferred): thousands of new
/// containers set off runs over the whole heap (70 of 420 ms of a 10,000-view `view_many`).
fn results<T>(
    py: Python<'_>,
    items: Vec<Result<T, Error>>,
    convert: impl Fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
) -> PyResult<Vec<Py<PyAny>>> {
    let gc = py.import("gc")?;
    let on = gc.call_method0("isenabled")?.is_truthy()?;
    let _paused = GcPaused(on.then(|| gc.getattr("enable")).transpose()?);
    gc.call_method0("disable")?;
    let one = |(i, r): (usize, Result<T, Error>)| match r {
        Ok(t) => convert(py, t),
        Err(e) => {
            let err = errors::to_pyerr(py, e);
            let value = err.value(py);
            value.setattr("index", i)?;
            Ok(value.clone().into_any().unbind())
        }
    };
    items.into_iter().enumerate().map(one).collect()
}

/// Calls `gc.enable` when dropped (after an error or a panic too), if the GC was enabled.
struct GcPaused<'py>(Option<Bound<'py, PyAny>>);

impl Drop for GcPaused<'_> {
    fn drop(&mut self) {
        if let Some(enable) = &self.0 {
            let _ = enable.call0(); // fails only in a broken interpreter
        }
    }
}

/// Verifies audit files or directories given `{paths, expect_head, key, checkpoint}`:
/// `ticketgate.verify_audit` gives it its signature.
#[pyfunction]
fn verify_audit<'py>(py: Python<'py>, args: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let args: VerifyAudit = from_py(args, "", Strings::Loose).map_err(raise)?;
    part(py, &detached(py, "verify_audit", || args.run())?)
}

/// Masks `{field, value}` as `view` masks a record value; `ticketgate.mask` is its signature.
#[pyfunction]
fn mask<'py>(py: Python<'py>, args: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let args: ffi::Mask = from_py(args, "", Strings::Loose).map_err(raise)?;
    part(py, &args.run().map_err(raise)?)
}

/// Test-only: a panic inside the core, to show it arrives as `TicketgateError`.
#[pyfunction]
fn _test_panic(py: Python<'_>) -> PyResult<()> {
    detached(py, "_test_panic", ffi::test_panic)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Gate>()?;
    m.add_class::<Decision>()?;
    m.add_function(wrap_pyfunction!(verify_audit, m)?)?;
    m.add_function(wrap_pyfunction!(mask, m)?)?;
    m.add_function(wrap_pyfunction!(_test_panic, m)?)?;
    let outcomes = [Outcome::Reveal, Outcome::Mask, Outcome::Withhold].map(Outcome::as_str);
    m.add("OUTCOMES", pyo3::types::PyTuple::new(m.py(), outcomes)?)?;
    Ok(())
}
