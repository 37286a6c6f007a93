//! JavaScript values → JSON with the contract's snake_case keys; key paths back to camelCase.

use napi::bindgen_prelude::*;
use napi::{JsDate, JsValue, ValueType};
use serde_json::{Map, Number, Value};
use ticketgate::limits::{
    check_items, check_string, At, MAX_DEPTH, MAX_DOCUMENT, MAX_ITEMS, MAX_JUSTIFICATION,
};
use ticketgate::{InvalidRequest, Timestamp};

/// `officeCountry` → `office_country` (snake_case input is accepted unchanged).
pub fn to_snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `office_country` → `officeCountry`.
pub fn to_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut up = false;
    for c in key.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A core key path (`ticket.closed_at`, `fields[1]`) as the Node caller wrote it. Below a
/// contact record (`record.ticket_numbers`) keys are field names and stay as they are.
pub fn camel_path(path: &str) -> String {
    let mut in_record = false;
    path.split('.')
        .map(|seg| {
            let out = if in_record {
                seg.to_owned()
            } else {
                to_camel(seg)
            };
            in_record |= seg == "record" || seg.ends_with("].record");
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn bad(path: &str, reason: impl Into<String>) -> InvalidRequest {
    InvalidRequest {
        key: path.to_owned(),
        reason: reason.into(),
    }
}

/// How object keys are treated on the way in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// Request shapes: camelCase keys become snake_case.
    Snake,
    /// Contact records: keys are field names, kept as they are.
    Keep,
}

/// Walks a JS value within the input limits (depth, items, size: checked before anything
/// is read or allocated, so a claimed `length` costs nothing); `Date`s become RFC 3339
/// strings, `undefined` is absent.
pub fn to_json(
    v: &Unknown<'_>,
    path: &str,
    keys: Keys,
) -> std::result::Result<Value, InvalidRequest> {
    walk(v, &At::Root(path), keys, 0, &mut MAX_DOCUMENT.clone())
}

fn spend(left: &mut usize, at: &At<'_>, n: usize) -> std::result::Result<(), InvalidRequest> {
    *left = left.checked_sub(n).ok_or_else(|| {
        bad(
            &at.path(),
            format!("the request is larger than {MAX_DOCUMENT} bytes"),
        )
    })?;
    Ok(())
}

fn too_many(at: &At<'_>, n: u32) -> std::result::Result<(), InvalidRequest> {
    if n as usize > MAX_ITEMS {
        check_items(&at.path(), n as usize)?;
    }
    Ok(())
}

/// The length of an array-like object (`arguments`, a typed array, `{length: 2, 0: .., 1: ..}`):
/// a numeric `length` and no enumerable keys but its indices. A claimed length past the
/// limit is refused before any key is read.
fn array_like_len(
    obj: &Object<'_>,
    at: &At<'_>,
) -> std::result::Result<Option<u32>, InvalidRequest> {
    let js = |e: napi::Error| bad(&at.path(), e.reason.clone());
    let length: Unknown<'_> = obj.get_named_property("length").map_err(js)?;
    if length.get_type().map_err(js)? != ValueType::Number {
        return Ok(None);
    }
    let n = f64::from_unknown(length).map_err(js)?;
    if !(n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)) {
        return Ok(None);
    }
    let n = n as u32;
    too_many(at, n)?;
    let keys = Object::keys(obj).map_err(js)?;
    let indexed = keys
        .iter()
        .all(|k| k == "length" || k.parse::<u32>().is_ok_and(|i| i < n));
    Ok(indexed.then_some(n))
}

fn walk(
    v: &Unknown<'_>,
    at: &At<'_>,
    keys: Keys,
    depth: usize,
    left: &mut usize,
) -> std::result::Result<Value, InvalidRequest> {
    let js = |e: napi::Error| bad(&at.path(), e.reason.clone());
    if depth > MAX_DEPTH {
        return Err(bad(
            &at.path(),
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    spend(left, at, 8)?;
    Ok(match v.get_type().map_err(js)? {
        ValueType::Null | ValueType::Undefined => Value::Null,
        ValueType::Boolean => Value::Bool(bool::from_unknown(*v).map_err(js)?),
        ValueType::Number => {
            let n = f64::from_unknown(*v).map_err(js)?;
            if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                Value::Number(Number::from(n as i64))
            } else {
                Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| bad(&at.path(), "not a finite number"))?
            }
        }
        ValueType::String => {
            let s = String::from_unknown(*v).map_err(js)?;
            if s.len() > MAX_JUSTIFICATION {
                check_string(&at.path(), s.len())?;
            }
            spend(left, at, s.len())?;
            Value::String(s)
        }
        ValueType::Object => {
            if v.is_date().map_err(js)? {
                let ms = JsDate::from_unknown(*v)
                    .and_then(|d| d.value_of())
                    .map_err(js)?;
                if !ms.is_finite() {
                    return Err(bad(&at.path(), "invalid Date"));
                }
                let t = Timestamp::from_millis(ms as i64)
                    .ok_or_else(|| bad(&at.path(), "Date out of range"))?;
                return Ok(Value::String(t.to_string()));
            }
            let obj = Object::from_unknown(*v).map_err(js)?;
            let array_like = if v.is_array().map_err(js)? {
                Some(obj.get_array_length().map_err(js)?)
            } else {
                array_like_len(&obj, at)?
            };
            if let Some(n) = array_like {
                too_many(at, n)?;
                let mut out = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let item: Unknown<'_> = obj.get_element(i).map_err(js)?;
                    out.push(walk(
                        &item,
                        &At::Index(at, i as usize),
                        keys,
                        depth + 1,
                        left,
                    )?);
                }
                Value::Array(out)
            } else {
                let mut out = Map::new();
                let names = Object::keys(&obj).map_err(js)?;
                too_many(at, u32::try_from(names.len()).unwrap_or(u32::MAX))?;
                for k in names {
                    let item: Unknown<'_> = obj.get_named_property(&k).map_err(js)?;
                    if item.get_type().map_err(js)? == ValueType::Undefined {
                        continue;
                    }
                    let key = if keys == Keys::Snake {
                        to_snake(&k)
                    } else {
                        k.clone()
                    };
                    spend(left, at, k.len())?;
                    let value = walk(&item, &At::Key(at, &k), keys, depth + 1, left)?;
                    if out.insert(key.clone(), value).is_some() {
                        return Err(bad(
                            &At::Key(at, &k).path(),
                            format!("`{k}` is given twice (as `{key}` and in camelCase)"),
                        ));
                    }
                }
                Value::Object(out)
            }
        }
        other => {
            return Err(bad(
                &at.path(),
                format!("unsupported value of type {other}"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_cases_round_trip() {
        for k in ["office_country", "closed_at", "window_s", "id", "source_ip"] {
            assert_eq!(to_snake(&to_camel(k)), k);
        }
        assert_eq!(camel_path("ticket.closed_at"), "ticket.closedAt");
        assert_eq!(camel_path("fields[1]"), "fields[1]");
        assert_eq!(camel_path("record.ticket_numbers"), "record.ticket_numbers");
        assert_eq!(
            camel_path("[2].record.ticket_numbers"),
            "[2].record.ticket_numbers"
        );
    }
}
