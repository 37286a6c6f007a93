//! One mapping from core errors to the exception tree of `ticketgate._errors` (declared in
//! Python, where `InvalidRequest` can also be a `ValueError`), imported with pyo3's macro;
//! the attributes each exception carries are the core's (`ffi::describe`).

use pyo3::prelude::*;
use pythonize::pythonize;
use ticketgate::ffi::{self, describe, Plain};
use ticketgate::Error;

pyo3::import_exception!(ticketgate._errors, TicketgateError);
pyo3::import_exception!(ticketgate._errors, InvalidRequest);
pyo3::import_exception!(ticketgate._errors, PolicyError);
pyo3::import_exception!(ticketgate._errors, AuditError);
pyo3::import_exception!(ticketgate._errors, StoreError);

/// A core error raised as its Python exception.
pub fn raise(e: impl Into<Error>) -> PyErr {
    Python::attach(|py| to_pyerr(py, e.into()))
}

/// The Python exception for a core error, with its detail as attributes.
pub fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let ffi::Described { message, attrs } = match describe(&e, &Plain) {
        Ok(d) => d,
        Err(_) => return internal("an error's description"),
    };
    let err = match e {
        Error::InvalidRequest(_) => InvalidRequest::new_err(message),
        Error::Policy(_) => PolicyError::new_err(message),
        Error::Audit(_) => AuditError::new_err(message),
        Error::Store(_) => StoreError::new_err(message),
        _ => TicketgateError::new_err(message),
    };
    let value = err.value(py);
    for (name, v) in attrs {
        if let Err(e) = pythonize(py, &v)
            .map_err(PyErr::from)
            .and_then(|v| value.setattr(name, v))
        {
            return e;
        }
    }
    err
}

/// A bug inside ticketgate surfaces as `TicketgateError`, never as a crash.
pub fn internal(what: &str) -> PyErr {
    TicketgateError::new_err(format!("internal error in {what}; please report it"))
}
