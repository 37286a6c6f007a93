//! One mapping from core errors to the exception tree of `ticketgate._errors`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use ticketgate::Error;

static CLASSES: [PyOnceLock<Py<PyType>>; 5] = [
    PyOnceLock::new(),
    PyOnceLock::new(),
    PyOnceLock::new(),
    PyOnceLock::new(),
    PyOnceLock::new(),
];

fn class<'py>(py: Python<'py>, i: usize, name: &str) -> PyResult<&'py Bound<'py, PyType>> {
    match CLASSES.get(i) {
        Some(c) => c.import(py, "ticketgate._errors", name),
        None => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "unknown error class",
        )),
    }
}

fn raise(
    py: Python<'_>,
    i: usize,
    name: &str,
    message: String,
    attrs: &[(&str, Py<PyAny>)],
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = class(py, i, name)?;
        let exc = cls.call1((message.clone(),))?;
        for (k, v) in attrs {
            exc.setattr(*k, v)?;
        }
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// The Python exception for a core error, with its structured detail as attributes.
pub fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let msg = e.to_string();
    let s = |v: &str| {
        v.into_pyobject(py)
            .map(|o| o.into_any().unbind())
            .unwrap_or_else(|_| py.None())
    };
    let opt = |v: Option<&str>| v.map_or_else(|| py.None(), s);
    let num = |v: Option<usize>| {
        v.and_then(|n| n.into_pyobject(py).ok())
            .map_or_else(|| py.None(), |o| o.into_any().unbind())
    };
    match e {
        Error::InvalidRequest(i) => raise(
            py,
            1,
            "InvalidRequest",
            msg,
            &[("key", s(&i.key)), ("reason", s(&i.reason))],
        ),
        Error::Policy(p) => {
            let first = p.diagnostics.first();
            let diags: Vec<Py<PyAny>> = p
                .diagnostics
                .iter()
                .filter_map(|d| {
                    let dict = PyDict::new(py);
                    dict.set_item("file", opt(d.file.as_deref())).ok()?;
                    dict.set_item("line", num(d.line)).ok()?;
                    dict.set_item("column", num(d.column)).ok()?;
                    dict.set_item("policy_id", opt(d.policy_id.as_deref()))
                        .ok()?;
                    dict.set_item("message", s(&d.message)).ok()?;
                    Some(dict.into_any().unbind())
                })
                .collect();
            let list = pyo3::types::PyList::new(py, diags)
                .map(|l| l.into_any().unbind())
                .unwrap_or_else(|_| py.None());
            raise(
                py,
                2,
                "PolicyError",
                msg,
                &[
                    ("diagnostics", list),
                    ("file", opt(first.and_then(|d| d.file.as_deref()))),
                    ("line", num(first.and_then(|d| d.line))),
                    ("column", num(first.and_then(|d| d.column))),
                    ("policy_id", opt(first.and_then(|d| d.policy_id.as_deref()))),
                ],
            )
        }
        Error::Audit(a) => raise(
            py,
            3,
            "AuditError",
            msg,
            &[("path", opt(a.path.as_deref()))],
        ),
        Error::Store(_) => raise(py, 4, "StoreError", msg, &[]),
        _ => raise(py, 0, "TicketgateError", msg, &[]),
    }
}

/// A bug inside ticketgate surfaces as `TicketgateError`, never as a crash.
pub fn internal(py: Python<'_>, what: &str) -> PyErr {
    raise(
        py,
        0,
        "TicketgateError",
        format!("internal error in {what}; please report it"),
        &[],
    )
}
