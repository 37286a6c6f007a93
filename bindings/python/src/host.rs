//! What a Python object is, for the core's reader (`ticketgate::host`), which
//! deserializes it straight into the core's types within the input limits: dicts, lists,
//! tuples, str, int, float, bool, None and bytes here; anything else (any `Mapping`,
//! dataclasses, sets and other iterables, aware datetimes, `Enum`s, paths) is read as what
//! `ticketgate._host.stand_in` says it stands for.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use ticketgate::ffi::{view_item, ViewItem};
use ticketgate::host::{from_host, variant_from_host, within_items, Host, Keys, Read, Strings};
use ticketgate::limits::MAX_ITEMS;
use ticketgate::InvalidRequest;

static STAND_IN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Reads `obj` as a `T`; errors name the key path under `path`.
pub fn from_py<T: DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    path: &str,
    strings: Strings,
) -> Result<T, InvalidRequest> {
    from_host(&Objects(PhantomData), obj, path, Keys::Exact, strings)
}

/// Reads `args`, a dict of arguments by name, as the operation `op` of `T`.
pub fn op_from_py<T: DeserializeOwned>(
    op: &str,
    args: &Bound<'_, PyAny>,
) -> Result<T, InvalidRequest> {
    variant_from_host(&Objects(PhantomData), op, args, Keys::Exact)
}

/// Reads a `(request, record)` pair (a tuple or list), errors' keys under `prefix`.
pub fn pair_from_py(obj: &Bound<'_, PyAny>, prefix: &str) -> Result<ViewItem, InvalidRequest> {
    view_item(&Objects(PhantomData), obj, prefix, Keys::Exact)
}

struct Objects<'py>(PhantomData<&'py ()>);

fn reason(e: PyErr) -> String {
    e.to_string()
}

impl<'py> Host for Objects<'py> {
    type Value = Bound<'py, PyAny>;
    type Text = PyBackedStr;

    #[inline]
    fn read(
        &self,
        obj: &Bound<'py, PyAny>,
    ) -> Result<Read<Bound<'py, PyAny>, PyBackedStr>, String> {
        if obj.is_none() {
            return Ok(Read::Null);
        }
        // first, as most values are: no type is also one of those below (layouts conflict)
        if let Ok(s) = obj.cast::<PyString>() {
            return s.clone().try_into().map(Read::Str).map_err(reason);
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return Ok(Read::Bool(b.is_true()));
        }
        if obj.is_instance_of::<PyInt>() {
            return obj
                .extract()
                .map(Read::Int)
                .map_err(|_| "integer out of range".into());
        }
        if obj.is_instance_of::<PyFloat>() {
            return obj.extract().map(Read::Float).map_err(reason);
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            // secrets (grant and audit keys) may be bytes
            return Ok(Read::Bytes(b.as_bytes().to_vec()));
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            within_items(d.len())?;
            let mut entries = Vec::with_capacity(d.len());
            for (k, v) in d.iter() {
                let k = k
                    .cast_into::<PyString>()
                    .map_err(|_| "mapping keys must be strings")?;
                entries.push((PyBackedStr::try_from(k).map_err(reason)?, v));
            }
            return Ok(Read::Map(entries));
        }
        if let Ok(l) = obj.cast::<PyList>() {
            return Ok(Read::List(l.len()));
        }
        if let Ok(t) = obj.cast::<PyTuple>() {
            return Ok(Read::List(t.len()));
        }
        let stand_in = STAND_IN
            .import(obj.py(), "ticketgate._host", "stand_in")
            .map_err(reason)?;
        match stand_in.call1((obj, MAX_ITEMS)) {
            Ok(v) => Ok(Read::Alias(v)),
            Err(e) => Err(e.value(obj.py()).to_string()),
        }
    }

    fn is_null(&self, obj: &Bound<'py, PyAny>) -> bool {
        obj.is_none()
    }

    fn item(&self, list: &Bound<'py, PyAny>, i: usize) -> Result<Bound<'py, PyAny>, String> {
        list.get_item(i).map_err(reason)
    }
}
