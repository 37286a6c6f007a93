//! The `ticketgate._native` module: conversion and error mapping over the core, nothing else.

mod convert;
mod errors;
mod host;

use convert::to_py;
use errors::{internal, to_pyerr};
use host::from_py;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use ticketgate::ffi::host::Strings;
use ticketgate::{
    ffi, AccessRequest, Alert, Error, Gate as CoreGate, GateOptions, InvalidRequest, Outcome,
    Timestamp,
};

fn invalid(key: &str, reason: impl Into<String>) -> Error {
    Error::InvalidRequest(InvalidRequest {
        key: key.to_owned(),
        reason: reason.into(),
    })
}

fn request(obj: &Bound<'_, PyAny>, prefix: &str) -> Result<AccessRequest, Error> {
    Ok(from_py(obj, prefix, Strings::PerKey)?)
}

fn timestamp(obj: &Bound<'_, PyAny>, key: &str) -> Result<Timestamp, Error> {
    Ok(from_py(obj, key, Strings::Loose)?)
}

/// Runs core work without the GIL; a panic becomes `TicketgateError`.
fn detached<T: Send>(
    py: Python<'_>,
    what: &str,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(py, e)),
        Err(_) => Err(internal(what)),
    }
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
        let fields: Vec<String> = self
            .0
            .fields
            .iter()
            .map(|(k, f)| format!("{k}={}", f.outcome.as_str()))
            .collect();
        let alerts: Vec<&str> = self.0.alerts.iter().map(|a| a.kind.as_str()).collect();
        format!(
            "<Decision {} employee={:?} customer={:?} {}{}>",
            self.0.decision_id,
            self.0.employee,
            self.0.customer,
            fields.join(" "),
            if alerts.is_empty() {
                String::new()
            } else {
                format!(" alerts={}", alerts.join(","))
            }
        )
    }
}

/// One part of a result as plain Python objects (only that part is converted).
fn part<'py, T: serde::Serialize + ?Sized>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    to_py(
        py,
        &serde_json::to_value(v).map_err(|_| internal("conversion"))?,
    )
}

struct PySink(Py<PyAny>);

impl PySink {
    /// Calls `on_alert(alert, decision)`; `decision` is None for an alert outside a decision.
    fn call(&self, d: Option<&ticketgate::Decision>, a: &Alert) -> Result<(), String> {
        Python::attach(|py| {
            let alert = PyDict::new(py);
            alert.set_item("kind", &a.kind).map_err(|e| e.to_string())?;
            alert
                .set_item("message", &a.message)
                .map_err(|e| e.to_string())?;
            let dec = match d {
                Some(d) => Some(Py::new(py, Decision(d.clone())).map_err(|e| e.to_string())?),
                None => None,
            };
            self.0
                .call1(py, (alert, dec))
                .map(|_| ())
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

/// The gate. See the package docstring for the arguments. Subclassed in Python by
/// `ticketgate.Gate`, which adds the awaitable methods.
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
        let build = || -> Result<CoreGate, Error> {
            // None is "not given", as for any keyword argument with a default
            let given = PyDict::new(py);
            for (k, v) in options.into_iter().flat_map(|o| o.iter()) {
                if !v.is_none() {
                    given
                        .set_item(k, v)
                        .map_err(|e| invalid("", e.to_string()))?;
                }
            }
            let options: GateOptions = from_py(given.as_any(), "", Strings::Loose)?;
            let mut b = options.builder()?;
            if let Some(cb) = on_alert {
                b = b.on_alert(Arc::new(PySink(cb)));
            }
            b.build()
        };
        build().map(Gate).map_err(|e| to_pyerr(py, e))
    }

    /// Decides one request (a dict, any Mapping or a dataclass).
    fn decide(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let req = request_or_raise(py, request, "")?;
        detached(py, "decide", || self.0.decide(&req)).map(Decision)
    }

    /// Decides many requests on all cores: one item per request, in order, each a
    /// `Decision` or the exception (not raised) for that request, with `key` naming its index.
    fn decide_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        // pushed as they are read: the other cores decide the ones read meanwhile
        let mut pushed = self.0.batch();
        each_item(requests, |i, r| pushed.push(request(&r, &format!("[{i}]"))))?;
        let decided = detached(py, "decide_many", || Ok(ffi::finish_batch(pushed)))?;
        results(
            py,
            decided,
            |py, d| Ok(Py::new(py, Decision(d))?.into_any()),
        )
    }

    /// The contact record with the decision applied (revealed as is, masked, or None), and
    /// that decision: one decision, one audit record. `ticketgate.Gate.view` wraps the pair.
    fn view<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyAny>, Decision)> {
        let req = request_or_raise(py, request, "")?;
        let rec = record_or_raise(py, record, "record")?;
        let view = detached(py, "view", || self.0.view(&req, &rec))?;
        Ok((
            to_py(py, &serde_json::Value::Object(view.record))?,
            Decision(view.decision),
        ))
    }

    /// `view` over `(request, record)` pairs: one item per pair, in order, each a
    /// `(record, decision)` pair or the exception (not raised) for that pair.
    fn view_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let mut parsed = Vec::new();
        each_item(items, |i, item| {
            parsed.push(
                item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                    .map_err(|_| invalid(&format!("[{i}]"), "expected a (request, record) pair"))
                    .and_then(|(r, rec)| {
                        Ok((
                            request(&r, &format!("[{i}]"))?,
                            record(&rec, &format!("[{i}].record"))?,
                        ))
                    }),
            )
        })?;
        let viewed = detached(py, "view_many", || Ok(ffi::view_batch(&self.0, parsed)))?;
        results(py, viewed, |py, v| {
            let record = to_py(py, &serde_json::Value::Object(v.record))?;
            Ok((record, Py::new(py, Decision(v.decision))?)
                .into_pyobject(py)?
                .into_any()
                .unbind())
        })
    }

    /// Loads a pack directory and swaps it in atomically; returns the new version.
    /// On error the old pack keeps serving.
    fn reload(&self, py: Python<'_>, policies: PathBuf) -> PyResult<String> {
        detached(py, "reload", || self.0.reload_dir(&policies))
    }

    /// Suspends an employee on every gate sharing this store.
    fn suspend(&self, py: Python<'_>, employee_id: String, reason: String) -> PyResult<()> {
        detached(py, "suspend", || self.0.suspend(&employee_id, &reason))
    }

    /// Lifts a suspension; returns whether there was one.
    fn reinstate(&self, py: Python<'_>, employee_id: String) -> PyResult<bool> {
        detached(py, "reinstate", || self.0.reinstate(&employee_id))
    }

    /// Current suspensions as dicts `{employee, reason, at}`.
    fn suspended<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = detached(py, "suspended", || self.0.suspended())?;
        part(py, &s)
    }

    /// Records a past reveal, e.g. to warm velocity counts after a restart.
    fn record_reveal(
        &self,
        py: Python<'_>,
        employee_id: String,
        customer_id: String,
        at: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let at = timestamp(at, "at").map_err(|e| to_pyerr(py, e))?;
        detached(py, "record_reveal", || {
            self.0.record_reveal(&employee_id, &customer_id, at)
        })
    }

    /// Returns the grant with a signature this gate (and gates sharing its key) honour.
    fn sign_grant<'py>(
        &self,
        py: Python<'py>,
        grant: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let g = grant_arg(py, grant)?;
        part(py, &self.0.sign_grant(g))
    }

    /// Records a request for an `approved` grant; returns it signed as pending (it reveals
    /// nothing until approved, and lapses after 12 h).
    fn request_grant<'py>(
        &self,
        py: Python<'py>,
        grant: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let g = grant_arg(py, grant)?;
        part(
            py,
            &detached(py, "request_grant", || self.0.request_grant(g))?,
        )
    }

    /// Approves a pending request; `approver` is the approving employee's facts.
    fn approve_grant<'py>(
        &self,
        py: Python<'py>,
        grant: &Bound<'py, PyAny>,
        approver: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let g = grant_arg(py, grant)?;
        let a =
            from_py(approver, "approver", Strings::PerKey).map_err(|e| to_pyerr(py, e.into()))?;
        part(
            py,
            &detached(py, "approve_grant", || self.0.approve_grant(g, &a))?,
        )
    }

    /// Issues a break-glass grant (reason and incident required, at most 1 h).
    fn issue_break_glass<'py>(
        &self,
        py: Python<'py>,
        grant: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let g = grant_arg(py, grant)?;
        part(
            py,
            &detached(py, "issue_break_glass", || self.0.issue_break_glass(g))?,
        )
    }

    /// Revokes a grant on every gate sharing this gate's store.
    fn revoke_grant(&self, py: Python<'_>, grant_id: String) -> PyResult<()> {
        detached(py, "revoke_grant", || self.0.revoke_grant(&grant_id))
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

    /// Alert deliveries: `(failed, dropped)`.
    fn alert_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.alert_stats().map_or((0, 0), |s| {
            (s.failed.load(Relaxed), s.dropped.load(Relaxed))
        })
    }

    /// Alerts handed to `on_alert` so far (in this process).
    fn alerts_delivered(&self) -> u64 {
        self.0.alert_stats().map_or(0, |s| {
            s.delivered.load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// Forces the audit log to disk and publishes its checkpoint; returns the head
    /// `"SEQ:HASH"` (None without an audit log).
    fn audit_checkpoint(&self, py: Python<'_>) -> PyResult<Option<String>> {
        detached(py, "audit_checkpoint", || match self.0.audit_log() {
            Some(l) => {
                l.sync()?;
                Ok(Some(l.head().to_string()))
            }
            None => Ok(None),
        })
    }

    /// The audit log's last record as `"SEQ:HASH"` (keep it elsewhere to detect a cut tail).
    fn audit_head(&self) -> Option<String> {
        self.0.audit_log().map(|l| l.head().to_string())
    }

    /// Customers whose data `employee` saw (recorded as an `audit_read` by `reader`).
    #[pyo3(signature = (employee, since=None, until=None, reader="python"))]
    fn audit_affected<'py>(
        &self,
        py: Python<'py>,
        employee: String,
        since: Option<&Bound<'py, PyAny>>,
        until: Option<&Bound<'py, PyAny>>,
        reader: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let since = since
            .map(|t| timestamp(t, "since"))
            .transpose()
            .map_err(|e| to_pyerr(py, e))?;
        let until = until
            .map(|t| timestamp(t, "until"))
            .transpose()
            .map_err(|e| to_pyerr(py, e))?;
        let rows = detached(py, "audit_affected", || {
            self.0.audit_affected(reader, &employee, since, until)
        })?;
        part(py, &rows)
    }

    /// Employees who saw customers who reported scam contact, most suspicious first:
    /// `[{employee, matched, revealed_customers, p_value}]` (recorded as an `audit_read`).
    #[pyo3(signature = (customers, field=None, reader="python"))]
    fn audit_suspects<'py>(
        &self,
        py: Python<'py>,
        customers: Vec<String>,
        field: Option<String>,
        reader: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = detached(py, "audit_suspects", || {
            self.0.audit_suspects(reader, &customers, field.as_deref())
        })?;
        part(py, &rows)
    }

    /// Every access to one customer (recorded as an `audit_read` by `reader`).
    #[pyo3(signature = (customer, reader="python"))]
    fn audit_customer<'py>(
        &self,
        py: Python<'py>,
        customer: String,
        reader: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rows = detached(py, "audit_customer", || {
            self.0.audit_customer(reader, &customer)
        })?;
        part(py, &rows)
    }

    fn __repr__(&self) -> String {
        format!("<Gate policy_version={}>", self.0.policy_version())
    }
}

fn grant_arg(py: Python<'_>, grant: &Bound<'_, PyAny>) -> PyResult<ticketgate::Grant> {
    from_py(grant, "grant", Strings::PerKey).map_err(|e| to_pyerr(py, e.into()))
}

fn request_or_raise(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    prefix: &str,
) -> PyResult<AccessRequest> {
    request(obj, prefix).map_err(|e| to_pyerr(py, e))
}

fn record(
    obj: &Bound<'_, PyAny>,
    key: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    Ok(from_py(obj, key, Strings::Loose)?)
}

fn record_or_raise(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    key: &str,
) -> PyResult<serde_json::Map<String, serde_json::Value>> {
    record(obj, key).map_err(|e| to_pyerr(py, e))
}

/// Hands each item of an iterable, with its index, to `each`; a conversion failure stays in
/// its slot (the caller keeps it), only a failing iteration raises.
fn each_item<'py>(
    items: &Bound<'py, PyAny>,
    mut each: impl FnMut(usize, Bound<'py, PyAny>),
) -> PyResult<()> {
    for (i, item) in items.try_iter()?.enumerate() {
        // an endless generator is refused once past the limit, not read to the end
        ffi::host::check_batch(i + 1).map_err(|e| to_pyerr(items.py(), e.into()))?;
        each(i, item?);
    }
    Ok(())
}

/// One Python object per item: the converted result, or the exception instance with `index`.
fn results<T>(
    py: Python<'_>,
    items: Vec<Result<T, Error>>,
    convert: impl Fn(Python<'_>, T) -> PyResult<Py<PyAny>>,
) -> PyResult<Vec<Py<PyAny>>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(t) => convert(py, t),
            Err(e) => {
                let err = to_pyerr(py, e);
                let value = err.value(py);
                value.setattr("index", i)?;
                Ok(value.clone().into_any().unbind())
            }
        })
        .collect()
}

/// Verifies audit files or directories (every segment, each chain on its own); returns
/// `{"records", "files", "segments", "head"}` or raises `AuditError` naming the file and
/// line of the first break.
#[pyfunction]
#[pyo3(signature = (paths, expect_head=None, key=None, checkpoint=None))]
fn verify_audit<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    expect_head: Option<String>,
    key: Option<&Bound<'py, PyAny>>,
    checkpoint: Option<PathBuf>,
) -> PyResult<Bound<'py, PyAny>> {
    let key = match key {
        None => None,
        Some(k) => Some(match k.extract::<String>() {
            Ok(s) => s.into_bytes(),
            Err(_) => k
                .extract()
                .map_err(|_| to_pyerr(py, invalid("key", "expected str or bytes")))?,
        }),
    };
    let report = detached(py, "verify_audit", || {
        ffi::verify_audit(
            &paths,
            expect_head.as_deref(),
            key,
            checkpoint,
            "expect_head",
        )
    })?;
    part(py, &report)
}

/// Applies the masking vector of `field` to `value`; None when the rules cannot mask it.
#[pyfunction]
fn mask(field: &str, value: &str) -> Option<String> {
    ticketgate::mask::mask_str(field, value)
}

/// Test-only: a panic inside the core, to show it arrives as `TicketgateError`.
#[pyfunction]
fn _test_panic(py: Python<'_>) -> PyResult<()> {
    detached(py, "_test_panic", ticketgate::ffi::test_panic)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Gate>()?;
    m.add_class::<Decision>()?;
    m.add_function(wrap_pyfunction!(verify_audit, m)?)?;
    m.add_function(wrap_pyfunction!(mask, m)?)?;
    m.add_function(wrap_pyfunction!(_test_panic, m)?)?;
    m.add(
        "OUTCOMES",
        pyo3::types::PyTuple::new(
            m.py(),
            [Outcome::Reveal, Outcome::Mask, Outcome::Withhold].map(Outcome::as_str),
        )?,
    )?;
    Ok(())
}
