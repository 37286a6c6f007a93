//! The `ticketgate._native` module: conversion and error mapping over the core, nothing else.

mod convert;
mod errors;

use convert::{to_json, to_py};
use errors::{internal, to_pyerr};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;
use ticketgate::{
    AccessRequest, Alert, AuditOptions, Durability, Error, Gate as CoreGate, GrantKey,
    InvalidRequest, Outcome, PolicyPack, Timestamp, VelocityConfig,
};

fn invalid(key: &str, reason: impl Into<String>) -> Error {
    Error::InvalidRequest(InvalidRequest {
        key: key.to_owned(),
        reason: reason.into(),
    })
}

fn request(obj: &Bound<'_, PyAny>, prefix: &str) -> Result<AccessRequest, Error> {
    let v = to_json(obj, prefix)?;
    AccessRequest::from_value(v).map_err(|e| Error::from(e.within(prefix)))
}

fn timestamp(obj: &Bound<'_, PyAny>, key: &str) -> Result<Timestamp, Error> {
    match to_json(obj, key)? {
        serde_json::Value::String(s) => Timestamp::parse(&s).map_err(|r| invalid(key, r)),
        _ => Err(invalid(
            key,
            "expected an RFC 3339 string or an aware datetime",
        )),
    }
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
        Err(_) => Err(internal(py, what)),
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
        self.part(py, "fields")
    }
    #[getter]
    fn alerts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "alerts")
    }
    #[getter]
    fn velocity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "velocity")
    }
    /// Shadow mode only: field → the outcome enforcement would have given.
    #[getter]
    fn would_enforce<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.part(py, "would_enforce")
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
        let v = serde_json::to_value(&self.0).map_err(|_| internal(py, "to_dict"))?;
        to_py(py, &v)
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

impl Decision {
    fn part<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(&self.0).map_err(|_| internal(py, key))?;
        to_py(py, v.get(key).unwrap_or(&serde_json::Value::Null))
    }
}

struct PySink(Py<PyAny>);

impl ticketgate::AlertSink for PySink {
    fn alert(&self, d: &ticketgate::Decision, a: &Alert) -> Result<(), String> {
        Python::attach(|py| {
            let alert = PyDict::new(py);
            alert.set_item("kind", &a.kind).map_err(|e| e.to_string())?;
            alert
                .set_item("message", &a.message)
                .map_err(|e| e.to_string())?;
            let dec = Py::new(py, Decision(d.clone())).map_err(|e| e.to_string())?;
            self.0
                .call1(py, (alert, dec))
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// The gate. See the package docstring for the arguments.
#[pyclass(module = "ticketgate._native", frozen)]
struct Gate(CoreGate);

#[pymethods]
impl Gate {
    #[new]
    #[pyo3(signature = (policies=None, audit_log=None, durability="always", velocity=None, redis_url=None, on_alert=None, grant_key=None, mode="enforce"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        policies: Option<PathBuf>,
        audit_log: Option<PathBuf>,
        durability: &str,
        velocity: Option<&Bound<'_, PyAny>>,
        redis_url: Option<String>,
        on_alert: Option<Py<PyAny>>,
        grant_key: Option<&Bound<'_, PyAny>>,
        mode: &str,
    ) -> PyResult<Self> {
        let build = || -> Result<CoreGate, Error> {
            let mut b = CoreGate::builder();
            if let Some(dir) = &policies {
                b = b.pack(PolicyPack::from_dir(dir)?);
            }
            let durability: Durability = durability
                .parse()
                .map_err(|r: String| invalid("durability", r))?;
            if let Some(path) = &audit_log {
                b = b.audit_log(AuditOptions::new(path).durability(durability));
            }
            if let Some(v) = velocity.filter(|v| !v.is_none()) {
                let cfg: VelocityConfig = serde_json::from_value(to_json(v, "velocity")?)
                    .map_err(|e| invalid("velocity", e.to_string()))?;
                b = b.velocity(cfg);
            }
            if let Some(url) = &redis_url {
                b = b.store(ticketgate::redis_store(url)?);
            }
            if let Some(cb) = on_alert {
                b = b.on_alert(Arc::new(PySink(cb)));
            }
            if let Some(k) = grant_key {
                let bytes: Vec<u8> = match k.extract::<String>() {
                    Ok(s) => s.into_bytes(),
                    Err(_) => k
                        .extract()
                        .map_err(|_| invalid("grant_key", "expected str or bytes"))?,
                };
                b = b.grant_key(GrantKey::new(bytes));
            }
            b = b.mode(match mode {
                "enforce" => ticketgate::Mode::Enforce,
                "shadow" => ticketgate::Mode::Shadow,
                other => {
                    return Err(invalid(
                        "mode",
                        format!("unknown mode `{other}`; expected enforce or shadow"),
                    ))
                }
            });
            b.build()
        };
        build().map(Gate).map_err(|e| to_pyerr(py, e))
    }

    /// Decides one request (a dict, any Mapping or a dataclass).
    fn decide(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let req = request_or_raise(py, request, "")?;
        detached(py, "decide", || self.0.decide(&req)).map(Decision)
    }

    /// Decides many requests; raises on the first bad one (its key names the index).
    fn decide_many(&self, py: Python<'_>, requests: &Bound<'_, PyAny>) -> PyResult<Vec<Decision>> {
        let reqs = requests_or_raise(py, requests)?;
        detached(py, "decide_many", || {
            self.0
                .decide_many(&reqs)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
        })
        .map(|v| v.into_iter().map(Decision).collect())
    }

    /// The contact record with the decision applied: revealed as is, masked, or None.
    fn view<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        record: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = request_or_raise(py, request, "")?;
        let rec = record_or_raise(py, record, "record")?;
        let view = detached(py, "view", || self.0.view(&req, &rec))?;
        to_py(py, &serde_json::Value::Object(view.record))
    }

    /// `view` over `(request, record)` pairs.
    fn view_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let mut pairs = Vec::new();
        for (i, item) in items.try_iter()?.enumerate() {
            let item = item?;
            let (r, rec): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract().map_err(|_| {
                to_pyerr(
                    py,
                    invalid(&format!("[{i}]"), "expected a (request, record) pair"),
                )
            })?;
            pairs.push((
                request_or_raise(py, &r, &format!("[{i}]"))?,
                record_or_raise(py, &rec, &format!("[{i}].record"))?,
            ));
        }
        let views = detached(py, "view_many", || {
            self.0
                .view_many(&pairs)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
        })?;
        views
            .into_iter()
            .map(|v| to_py(py, &serde_json::Value::Object(v.record)))
            .collect()
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
        to_py(
            py,
            &serde_json::to_value(s).map_err(|_| internal(py, "suspended"))?,
        )
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
        let v = to_json(grant, "grant").map_err(|e| to_pyerr(py, e.into()))?;
        let g: ticketgate::Grant =
            serde_json::from_value(v).map_err(|e| to_pyerr(py, invalid("grant", e.to_string())))?;
        let signed =
            serde_json::to_value(self.0.sign_grant(g)).map_err(|_| internal(py, "sign_grant"))?;
        to_py(py, &signed)
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

    /// Alert deliveries that failed or were dropped: `{"failed": n, "dropped": n}`.
    fn alert_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.alert_stats().map_or((0, 0), |s| {
            (s.failed.load(Relaxed), s.dropped.load(Relaxed))
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
        to_py(
            py,
            &serde_json::to_value(rows).map_err(|_| internal(py, "audit_affected"))?,
        )
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
        to_py(
            py,
            &serde_json::to_value(rows).map_err(|_| internal(py, "audit_customer"))?,
        )
    }

    fn __repr__(&self) -> String {
        format!("<Gate policy_version={}>", self.0.policy_version())
    }
}

fn request_or_raise(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    prefix: &str,
) -> PyResult<AccessRequest> {
    request(obj, prefix).map_err(|e| to_pyerr(py, e))
}

fn requests_or_raise(py: Python<'_>, objs: &Bound<'_, PyAny>) -> PyResult<Vec<AccessRequest>> {
    objs.try_iter()?
        .enumerate()
        .map(|(i, o)| request_or_raise(py, &o?, &format!("[{i}]")))
        .collect()
}

fn record_or_raise(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    key: &str,
) -> PyResult<serde_json::Map<String, serde_json::Value>> {
    match to_json(obj, key).map_err(|e| to_pyerr(py, e.into()))? {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(to_pyerr(
            py,
            invalid(key, "expected a mapping of field to value"),
        )),
    }
}

/// Verifies audit log files; returns `{"records", "files", "head"}` or raises `AuditError`
/// naming the file and line of the first break.
#[pyfunction]
#[pyo3(signature = (paths, expect_head=None))]
fn verify_audit<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    expect_head: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let head = expect_head
        .map(|h| h.parse::<ticketgate::Head>())
        .transpose()
        .map_err(|r| to_pyerr(py, invalid("expect_head", r)))?;
    let report = detached(py, "verify_audit", || {
        let files = ticketgate::forensics::expand(&paths);
        ticketgate::forensics::verify(&files, head.as_ref()).map_err(|b| {
            Error::Audit(ticketgate::AuditError {
                path: Some(b.file.display().to_string()),
                message: b.to_string(),
            })
        })
    })?;
    let d = PyDict::new(py);
    d.set_item("records", report.records)?;
    d.set_item(
        "files",
        PyList::new(py, report.files.iter().map(|f| f.display().to_string()))?,
    )?;
    d.set_item("head", report.head.to_string())?;
    Ok(d.into_any())
}

/// Applies the masking vector of `field` to `value` (for previews and tests).
#[pyfunction]
fn mask(field: &str, value: &str) -> String {
    ticketgate::mask::mask_str(field, value)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Gate>()?;
    m.add_class::<Decision>()?;
    m.add_function(wrap_pyfunction!(verify_audit, m)?)?;
    m.add_function(wrap_pyfunction!(mask, m)?)?;
    m.add(
        "OUTCOMES",
        pyo3::types::PyTuple::new(
            m.py(),
            [Outcome::Reveal, Outcome::Mask, Outcome::Withhold].map(Outcome::as_str),
        )?,
    )?;
    Ok(())
}
