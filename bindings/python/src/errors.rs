//! One mapping from core errors to the exception tree of `ticketgate._errors` (declared in
//! Python, where `InvalidRequest` can also be a `ValueError`), imported with pyo3's macro.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use ticketgate::Error;

pyo3::import_exception!(ticketgate._errors, TicketgateError);
pyo3::import_exception!(ticketgate._errors, InvalidRequest);
pyo3::import_exception!(ticketgate._errors, PolicyError);
pyo3::import_exception!(ticketgate._errors, AuditError);
pyo3::import_exception!(ticketgate._errors, StoreError);

fn with_attrs(py: Python<'_>, err: PyErr, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
    let value = err.value(py);
    for (k, v) in attrs {
        if let Err(e) = value.setattr(*k, v) {
            return e;
        }
    }
    err
}

fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> Py<PyAny> {
    use pyo3::IntoPyObjectExt;
    v.into_py_any(py).unwrap_or_else(|_| py.None())
}

/// The Python exception for a core error, with its structured detail as attributes.
pub fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let msg = e.to_string();
    let code = obj(py, e.code());
    match e {
        Error::InvalidRequest(i) => with_attrs(
            py,
            InvalidRequest::new_err(msg),
            &[
                ("key", obj(py, i.key)),
                ("reason", obj(py, i.reason)),
                ("code", code),
            ],
        ),
        Error::Policy(p) => {
            let first = p.diagnostics.first().cloned();
            let diags = PyList::empty(py);
            for d in &p.diagnostics {
                let dict = PyDict::new(py);
                let _ = dict.set_item("file", d.file.as_deref());
                let _ = dict.set_item("line", d.line);
                let _ = dict.set_item("column", d.column);
                let _ = dict.set_item("policy_id", d.policy_id.as_deref());
                let _ = dict.set_item("message", &d.message);
                let _ = diags.append(dict);
            }
            let f = first.as_ref();
            with_attrs(
                py,
                PolicyError::new_err(msg),
                &[
                    ("diagnostics", diags.into_any().unbind()),
                    ("file", obj(py, f.and_then(|d| d.file.clone()))),
                    ("line", obj(py, f.and_then(|d| d.line))),
                    ("column", obj(py, f.and_then(|d| d.column))),
                    ("policy_id", obj(py, f.and_then(|d| d.policy_id.clone()))),
                    ("code", code),
                ],
            )
        }
        Error::Audit(a) => with_attrs(
            py,
            AuditError::new_err(msg),
            &[("path", obj(py, a.path)), ("code", code)],
        ),
        Error::Store(_) => with_attrs(py, StoreError::new_err(msg), &[("code", code)]),
        _ => TicketgateError::new_err(msg),
    }
}

/// A bug inside ticketgate surfaces as `TicketgateError`, never as a crash.
pub fn internal(what: &str) -> PyErr {
    TicketgateError::new_err(format!("internal error in {what}; please report it"))
}
