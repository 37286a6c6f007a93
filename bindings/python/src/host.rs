//! What a Python object is, for the core's reader (`ticketgate::ffi::host`), which
//! deserializes it straight into the core's types within the input limits: dicts, any
//! `Mapping`, dataclasses, lists, tuples, sets and other iterables, str, int, float, bool,
//! None, bytes, aware datetimes (as RFC 3339 text), `Enum`s (as their value) and paths.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping};
use pyo3::types::{PyString, PyTuple, PyType};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use ticketgate::ffi::host::{from_host, within_items, Host, Keys, Read, Strings};
use ticketgate::limits::MAX_ITEMS;
use ticketgate::InvalidRequest;

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ENUM: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PATHLIKE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Reads `obj` as a `T`; errors name the key path under `path`.
pub fn from_py<T: DeserializeOwned>(
    obj: &Bound<'_, PyAny>,
    path: &str,
    strings: Strings,
) -> Result<T, InvalidRequest> {
    from_host(&Objects(PhantomData), obj, path, Keys::Exact, strings)
}

struct Objects<'py>(PhantomData<&'py ()>);

fn reason(e: PyErr) -> String {
    e.to_string()
}

impl<'py> Host for Objects<'py> {
    type Value = Bound<'py, PyAny>;

    fn read(&self, obj: &Bound<'py, PyAny>) -> Result<Read<Bound<'py, PyAny>>, String> {
        let py = obj.py();
        if obj.is_none() {
            return Ok(Read::Null);
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
        if let Ok(s) = obj.cast::<PyString>() {
            return Ok(Read::Str(s.to_cow().map_err(reason)?.into_owned()));
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            // secrets (grant and audit keys) may be bytes
            return Ok(Read::Bytes(b.as_bytes().to_vec()));
        }
        // the common containers before the `isinstance` checks below (`os.PathLike` is an
        // ABC, whose check is slow)
        if let Ok(d) = obj.cast::<PyDict>() {
            within_items(d.len())?;
            return entries(d.iter());
        }
        if let Ok(l) = obj.cast::<PyList>() {
            return Ok(Read::List(l.len()));
        }
        if let Ok(t) = obj.cast::<PyTuple>() {
            return Ok(Read::List(t.len()));
        }
        let datetime = DATETIME
            .import(py, "datetime", "datetime")
            .map_err(reason)?;
        if obj.is_instance(datetime).map_err(reason)? {
            if obj.call_method0("utcoffset").map_err(reason)?.is_none() {
                return Err(
                    "naive datetime; pass a timezone-aware datetime (e.g. tzinfo=timezone.utc)"
                        .into(),
                );
            }
            return obj
                .call_method0("isoformat")
                .and_then(|s| s.extract())
                .map(Read::Str)
                .map_err(reason);
        }
        if obj
            .is_instance(DATE.import(py, "datetime", "date").map_err(reason)?)
            .map_err(reason)?
        {
            return Err("a date is not an instant; pass an aware datetime".into());
        }
        if obj
            .is_instance(ENUM.import(py, "enum", "Enum").map_err(reason)?)
            .map_err(reason)?
        {
            return obj.getattr("value").map(Read::Alias).map_err(reason);
        }
        if obj
            .is_instance(PATHLIKE.import(py, "os", "PathLike").map_err(reason)?)
            .map_err(reason)?
        {
            return py
                .import("os")
                .and_then(|os| os.call_method1("fspath", (obj,)))
                .map(Read::Alias)
                .map_err(reason);
        }
        if let Ok(m) = obj.cast::<PyMapping>() {
            within_items(m.len().map_err(reason)?)?;
            let items = m.items().map_err(reason)?;
            let pairs = items
                .iter()
                .map(|i| i.extract())
                .collect::<PyResult<Vec<_>>>();
            return entries(pairs.map_err(reason)?.into_iter());
        }
        let dataclasses = py.import("dataclasses").map_err(reason)?;
        let is_dc: bool = dataclasses
            .call_method1("is_dataclass", (obj,))
            .and_then(|b| b.extract())
            .map_err(reason)?;
        if is_dc && !obj.is_instance_of::<PyType>() {
            // field by field rather than `asdict`, which deep-copies
            let fields = dataclasses
                .call_method1("fields", (obj,))
                .and_then(|f| f.try_iter())
                .map_err(reason)?
                .map(|f| {
                    let name = f.and_then(|f| f.getattr("name"))?;
                    Ok((name.clone(), obj.getattr(name.cast::<PyString>()?)?))
                });
            return entries(
                fields
                    .collect::<PyResult<Vec<_>>>()
                    .map_err(reason)?
                    .into_iter(),
            );
        }
        if !obj.is_instance_of::<PyByteArray>() {
            if let Ok(it) = obj.try_iter() {
                // sets, frozensets, generators: one more than the limit is taken, never more
                let items = it.take(MAX_ITEMS + 1).collect::<PyResult<Vec<_>>>();
                return Ok(Read::Alias(
                    PyList::new(py, items.map_err(reason)?)
                        .map_err(reason)?
                        .into_any(),
                ));
            }
        }
        let ty = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        Err(format!("unsupported type `{ty}`"))
    }

    fn is_null(&self, obj: &Bound<'py, PyAny>) -> bool {
        obj.is_none()
    }

    fn item(&self, list: &Bound<'py, PyAny>, i: usize) -> Result<Bound<'py, PyAny>, String> {
        list.get_item(i).map_err(reason)
    }
}

fn entries<'py>(
    pairs: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
) -> Result<Read<Bound<'py, PyAny>>, String> {
    pairs
        .map(|(k, v)| Some((k.cast::<PyString>().ok()?.to_cow().ok()?.into_owned(), v)))
        .collect::<Option<Vec<_>>>()
        .map(Read::Map)
        .ok_or_else(|| "mapping keys must be strings".into())
}
