//! What a JavaScript value is, for the core's reader (`ticketgate::host`), which
//! deserializes it straight into the core's types within the input limits. `Date`s are read
//! as RFC 3339 text, `undefined` as absent, array-likes (`arguments`, typed arrays,
//! `{length, 0, 1}`) as lists whose claimed length is checked before any item is read.

use napi::bindgen_prelude::*;
use napi::{JsDate, JsValue, ValueType};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::result::Result;
use ticketgate::host::{from_host_skipping, within_items};
use ticketgate::host::{Host, Keys, Read, Strings};
use ticketgate::{InvalidRequest, Timestamp};

/// Reads `v` as a `T`, keys in camelCase or as the contract spells them, passing over the
/// top-level key `skip`; errors name the key path under `path` as the caller wrote it.
pub fn from_js<T: DeserializeOwned>(
    v: &Unknown<'_>,
    path: &str,
    strings: Strings,
    skip: Option<&str>,
) -> Result<T, InvalidRequest> {
    from_host_skipping(&Js::default(), v, path, Keys::CamelToo, strings, skip)
}

/// JavaScript values as a host.
#[derive(Default)]
pub struct Js<'e>(PhantomData<&'e ()>);

fn reason(e: napi::Error) -> String {
    e.reason.clone()
}

impl<'e> Host for Js<'e> {
    type Value = Unknown<'e>;
    type Text = String;

    fn read(&self, v: &Unknown<'e>) -> Result<Read<Unknown<'e>>, String> {
        Ok(match v.get_type().map_err(reason)? {
            ValueType::Null | ValueType::Undefined => Read::Null,
            ValueType::Boolean => Read::Bool(bool::from_unknown(*v).map_err(reason)?),
            ValueType::Number => {
                let n = f64::from_unknown(*v).map_err(reason)?;
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    Read::Int(n as i64)
                } else {
                    Read::Float(n)
                }
            }
            ValueType::String => Read::Str(text(*v).map_err(|e| format!("has {e}"))?),
            ValueType::Object if v.is_date().map_err(reason)? => {
                let ms = JsDate::from_unknown(*v)
                    .and_then(|d| d.value_of())
                    .map_err(reason)?;
                if !ms.is_finite() {
                    return Err("invalid Date".into());
                }
                let t = Timestamp::from_millis(ms as i64).ok_or("Date out of range")?;
                Read::Str(t.to_string())
            }
            ValueType::Object => {
                let obj = Object::from_unknown(*v).map_err(reason)?;
                if v.is_array().map_err(reason)? {
                    Read::List(obj.get_array_length().map_err(reason)? as usize)
                } else {
                    // each key is looked up as the JavaScript string it is: one with a lone
                    // surrogate, made U+FFFD as UTF-8, would find no value and vanish.
                    // N-API lists inherited keys too; only own ones are data, as for
                    // JSON.stringify (a polluted `Object.prototype` adds no `grant`)
                    let names = obj.get_property_names().map_err(reason)?;
                    let mut keys = Vec::new();
                    for i in 0..names.get_array_length().map_err(reason)? {
                        let k: Unknown<'e> = names.get_element(i).map_err(reason)?;
                        if obj.has_own_property_js(k).map_err(reason)? {
                            keys.push((text(k).map_err(|e| format!("a key has {e}"))?, k));
                        }
                    }
                    if keys.is_empty() {
                        collection(v)?;
                    }
                    match array_like_len(&obj, &keys)? {
                        Some(n) => Read::List(n),
                        None => {
                            within_items(keys.len())?;
                            let mut entries = Vec::with_capacity(keys.len());
                            for (name, k) in keys {
                                let v: Unknown<'e> = obj.get_property(k).map_err(reason)?;
                                if v.get_type().map_err(reason)? != ValueType::Undefined {
                                    entries.push((name, v));
                                }
                            }
                            Read::Map(entries)
                        }
                    }
                }
            }
            other => return Err(format!("unsupported value of type {other}")),
        })
    }

    fn is_null(&self, v: &Unknown<'e>) -> bool {
        matches!(v.get_type(), Ok(ValueType::Null | ValueType::Undefined))
    }

    fn item(&self, list: &Unknown<'e>, i: usize) -> Result<Unknown<'e>, String> {
        let obj = Object::from_unknown(*list).map_err(reason)?;
        let i = u32::try_from(i).map_err(|_| "index out of range".to_owned())?;
        obj.get_element(i).map_err(reason)
    }
}

/// A JavaScript string read as UTF-16, so that a lone surrogate is refused (as in Python)
/// rather than made U+FFFD.
fn text(v: Unknown<'_>) -> Result<String, String> {
    let units = Utf16String::from_unknown(v).map_err(reason)?;
    String::from_utf16(&units).map_err(|_| "a lone surrogate: not valid Unicode".into())
}

/// Refuses a `Map` or a `Set`, whose entries are not keys: read as an object it would be empty
/// (as `JSON.stringify` writes it), and the error would name a missing field, not the cause.
fn collection(v: &Unknown<'_>) -> Result<(), String> {
    let global = Env::from_raw(v.value().env).get_global().map_err(reason)?;
    for (class, instead) in [("Map", "`Object.fromEntries(map)`"), ("Set", "`[...set]`")] {
        let constructor: Function<'_> = global.get_named_property(class).map_err(reason)?;
        if v.instanceof(constructor).map_err(reason)? {
            return Err(format!(
                "a {class}, not a plain object or array: pass {instead}"
            ));
        }
    }
    Ok(())
}

/// The length of an array-like object: a numeric `length` and no keys but its indices.
fn array_like_len(
    obj: &Object<'_>,
    keys: &[(String, Unknown<'_>)],
) -> Result<Option<usize>, String> {
    // an object with a named key is not array-like: no `length` lookup for it
    if !keys
        .iter()
        .all(|(k, _)| k == "length" || k.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(None);
    }
    let length: Unknown<'_> = obj.get_named_property("length").map_err(reason)?;
    if length.get_type().map_err(reason)? != ValueType::Number {
        return Ok(None);
    }
    let n = f64::from_unknown(length).map_err(reason)?;
    if !(n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)) {
        return Ok(None);
    }
    let indexed = keys
        .iter()
        .all(|(k, _)| k == "length" || k.parse::<u32>().is_ok_and(|i| f64::from(i) < n));
    Ok(indexed.then_some(n as usize))
}
