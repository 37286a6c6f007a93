//! Python values ⇄ JSON values, naming the key path of anything unusable.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value};
use ticketgate::limits::{
    check_items, check_string, At, MAX_DEPTH, MAX_DOCUMENT, MAX_ITEMS, MAX_JUSTIFICATION,
};
use ticketgate::InvalidRequest;

static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static ENUM: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PATHLIKE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Bounds a walk by the input limits before anything deep is converted: depth, items per
/// container and total size, so no Python value can make the walk recurse or allocate
/// without end (the core checks each key's exact limit afterwards).
struct Budget {
    left: usize,
}

impl Budget {
    fn spend(&mut self, at: &At<'_>, n: usize) -> Result<(), InvalidRequest> {
        self.left = self.left.checked_sub(n).ok_or_else(|| {
            bad(
                &at.path(),
                format!("the request is larger than {MAX_DOCUMENT} bytes"),
            )
        })?;
        Ok(())
    }
}

fn bad(path: &str, reason: impl Into<String>) -> InvalidRequest {
    InvalidRequest::new(path, reason)
}

/// Converts a request-like Python value (dict, any Mapping, dataclass, list, tuple, set or
/// other iterable, str, int, float, bool, None, aware datetime, Enum, path) to JSON,
/// within the input limits.
pub fn to_json(obj: &Bound<'_, PyAny>, path: &str) -> Result<Value, InvalidRequest> {
    walk(obj, &At::Root(path), 0, &mut Budget { left: MAX_DOCUMENT })
}

fn walk(
    obj: &Bound<'_, PyAny>,
    at: &At<'_>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Value, InvalidRequest> {
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(bad(
            &at.path(),
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    budget.spend(at, 8)?;
    let type_err = |e: PyErr| bad(&at.path(), e.to_string());
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        let v: i64 = obj
            .extract()
            .map_err(|_| bad(&at.path(), "integer out of range"))?;
        return Ok(Value::Number(v.into()));
    }
    if obj.is_instance_of::<PyFloat>() {
        let v: f64 = obj.extract().map_err(type_err)?;
        return Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| bad(&at.path(), "not a finite number"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow().map_err(type_err)?;
        if s.len() > MAX_JUSTIFICATION {
            check_string(&at.path(), s.len())?;
        }
        budget.spend(at, s.len())?;
        return Ok(Value::String(s.into_owned()));
    }
    if let Ok(b) = obj.cast::<pyo3::types::PyBytes>() {
        // secrets (grant and audit keys) may be bytes
        let b = b.as_bytes();
        items(at, b.len())?;
        budget.spend(at, b.len())?;
        return Ok(Value::Array(b.iter().map(|x| Value::from(*x)).collect()));
    }
    // the common containers before the `isinstance` checks below (`os.PathLike` is an ABC,
    // whose check is slow)
    if let Ok(d) = obj.cast::<PyDict>() {
        items(at, d.len())?;
        return map(d.iter(), at, depth, budget);
    }
    if let Ok(l) = obj.cast::<PyList>() {
        items(at, l.len())?;
        return seq(l.iter(), at, depth, budget);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        items(at, t.len())?;
        return seq(t.iter(), at, depth, budget);
    }
    let datetime = DATETIME
        .import(py, "datetime", "datetime")
        .map_err(type_err)?;
    if obj.is_instance(datetime).map_err(type_err)? {
        if obj.call_method0("utcoffset").map_err(type_err)?.is_none() {
            return Err(bad(
                &at.path(),
                "naive datetime; pass a timezone-aware datetime (e.g. tzinfo=timezone.utc)",
            ));
        }
        let iso: String = obj
            .call_method0("isoformat")
            .and_then(|s| s.extract())
            .map_err(type_err)?;
        return Ok(Value::String(iso));
    }
    let date = DATE.import(py, "datetime", "date").map_err(type_err)?;
    if obj.is_instance(date).map_err(type_err)? {
        return Err(bad(
            &at.path(),
            "a date is not an instant; pass an aware datetime",
        ));
    }
    let enum_ty = ENUM.import(py, "enum", "Enum").map_err(type_err)?;
    if obj.is_instance(enum_ty).map_err(type_err)? {
        return walk(
            &obj.getattr("value").map_err(type_err)?,
            at,
            depth + 1,
            budget,
        );
    }
    let pathlike = PATHLIKE.import(py, "os", "PathLike").map_err(type_err)?;
    if obj.is_instance(pathlike).map_err(type_err)? {
        let s = py
            .import("os")
            .and_then(|os| os.call_method1("fspath", (obj,)))
            .map_err(type_err)?;
        return walk(&s, at, depth + 1, budget);
    }
    if let Ok(m) = obj.cast::<PyMapping>() {
        items(at, m.len().map_err(type_err)?)?;
        let items = m.items().map_err(type_err)?;
        let pairs: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = items
            .iter()
            .map(|i| i.extract())
            .collect::<PyResult<_>>()
            .map_err(type_err)?;
        return map(pairs.into_iter(), at, depth, budget);
    }
    let dataclasses = py.import("dataclasses").map_err(type_err)?;
    let is_dc: bool = dataclasses
        .call_method1("is_dataclass", (obj,))
        .and_then(|b| b.extract())
        .map_err(type_err)?;
    if is_dc && !obj.is_instance_of::<PyType>() {
        // Field by field rather than `asdict`, which deep-copies (and fails on e.g. mappingproxy).
        let mut pairs = Vec::new();
        for f in dataclasses
            .call_method1("fields", (obj,))
            .and_then(|f| f.try_iter())
            .map_err(type_err)?
        {
            let name = f.and_then(|f| f.getattr("name")).map_err(type_err)?;
            let value = obj
                .getattr(
                    name.cast::<PyString>()
                        .map_err(|e| bad(&at.path(), e.to_string()))?,
                )
                .map_err(type_err)?;
            pairs.push((name, value));
        }
        return map(pairs.into_iter(), at, depth, budget);
    }
    let is_text_like = obj.is_instance_of::<pyo3::types::PyByteArray>();
    if !is_text_like {
        if let Ok(it) = obj.try_iter() {
            // sets, frozensets, generators: at most MAX_ITEMS are taken, never more
            let mut items = Vec::new();
            for (i, x) in it.enumerate() {
                self::items(at, i + 1)?;
                items.push(x.map_err(type_err)?);
            }
            return seq(items.into_iter(), at, depth, budget);
        }
    }
    let ty = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(bad(&at.path(), format!("unsupported type `{ty}`")))
}

fn items(at: &At<'_>, n: usize) -> Result<(), InvalidRequest> {
    if n > MAX_ITEMS {
        check_items(&at.path(), n)?;
    }
    Ok(())
}

fn map<'py>(
    items: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
    at: &At<'_>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Value, InvalidRequest> {
    let mut out = Map::new();
    for (k, v) in items {
        let key: String = k
            .extract()
            .map_err(|_| bad(&at.path(), "mapping keys must be strings"))?;
        budget.spend(at, key.len())?;
        let val = walk(&v, &At::Key(at, &key), depth + 1, budget)?;
        out.insert(key, val);
    }
    Ok(Value::Object(out))
}

fn seq<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    at: &At<'_>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Value, InvalidRequest> {
    let mut out = Vec::new();
    for (i, v) in items.enumerate() {
        out.push(walk(&v, &At::Index(at, i), depth + 1, budget)?);
    }
    Ok(Value::Array(out))
}

/// Converts JSON to plain Python objects (dict, list, str, int, float, bool, None).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}
