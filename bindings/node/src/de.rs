//! JavaScript values deserialized straight into the core's serde types, with no JSON in
//! between. A struct's keys are matched against the fields its type declares (`closedAt`
//! or `closed_at` for `closed_at`); the keys of maps (contact records, field maps) are data
//! and stay as written. The input limits hold before anything is read or allocated: depth,
//! items, string length and total size, so a claimed `length` costs nothing.

use napi::bindgen_prelude::*;
use napi::{JsDate, JsValue, ValueType};
use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use std::cell::Cell;
use std::result::Result;
use ticketgate::limits::{check_items, string_limit, At, MAX_DEPTH, MAX_DOCUMENT};
use ticketgate::limits::{MAX_ITEMS, MAX_JUSTIFICATION};
use ticketgate::{InvalidRequest, Timestamp};

/// How strings are bounded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Strings {
    /// Requests: each key's own limit (`justification` is longer).
    PerKey,
    /// Records and options: the longest any key may hold.
    Loose,
}

/// Converts `v` to `T`; an error names the key path as the caller wrote it under `path`.
pub fn from_js<T: DeserializeOwned>(
    v: &Unknown<'_>,
    path: &str,
    strings: Strings,
) -> Result<T, InvalidRequest> {
    from_js_skipping(v, path, strings, None)
}

/// [`from_js`], passing over the top-level key `skip` (a callback among data options).
pub fn from_js_skipping<T: DeserializeOwned>(
    v: &Unknown<'_>,
    path: &str,
    strings: Strings,
    skip: Option<&str>,
) -> Result<T, InvalidRequest> {
    let left = Cell::new(MAX_DOCUMENT);
    let de = De {
        v: *v,
        at: At::Root(path),
        depth: 0,
        left: &left,
        strings,
        skip,
    };
    T::deserialize(de).map_err(|e| InvalidRequest::new(e.key.unwrap_or_default(), e.reason))
}

/// A conversion error; `key` is set by the innermost value that knows where it is.
#[derive(Debug)]
pub struct DeError {
    key: Option<String>,
    reason: String,
}

impl DeError {
    fn at(at: &At<'_>, reason: impl Into<String>) -> Self {
        Self {
            key: Some(at.path()),
            reason: reason.into(),
        }
    }

    fn placed(mut self, at: &At<'_>) -> Self {
        if self.key.is_none() {
            self.key = Some(at.path());
        }
        self
    }
}

impl std::fmt::Display for DeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self {
            key: None,
            reason: msg.to_string(),
        }
    }
}

impl From<InvalidRequest> for DeError {
    fn from(e: InvalidRequest) -> Self {
        Self {
            key: Some(e.key),
            reason: e.reason,
        }
    }
}

/// `office_country` is written `officeCountry` (or as it is).
fn names_field(key: &str, field: &str) -> bool {
    if key == field {
        return true;
    }
    let mut k = key.bytes();
    let mut f = field.bytes();
    while let Some(c) = f.next() {
        let want = if c == b'_' {
            match f.next() {
                Some(n) => n.to_ascii_uppercase(),
                None => return false,
            }
        } else {
            c
        };
        if k.next() != Some(want) {
            return false;
        }
    }
    k.next().is_none()
}

#[derive(Clone, Copy)]
struct De<'p, 'e> {
    v: Unknown<'e>,
    at: At<'p>,
    depth: usize,
    left: &'p Cell<usize>,
    strings: Strings,
    /// A key of this object that is not data.
    skip: Option<&'p str>,
}

impl<'p, 'e> De<'p, 'e> {
    fn js(&self) -> impl Fn(napi::Error) -> DeError + '_ {
        move |e| DeError::at(&self.at, e.reason.clone())
    }

    fn spend(&self, n: usize) -> Result<(), DeError> {
        match self.left.get().checked_sub(n) {
            Some(l) => {
                self.left.set(l);
                Ok(())
            }
            None => Err(DeError::at(
                &self.at,
                format!("the request is larger than {MAX_DOCUMENT} bytes"),
            )),
        }
    }

    fn kind(&self) -> Result<ValueType, DeError> {
        if self.depth > MAX_DEPTH {
            return Err(DeError::at(
                &self.at,
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.spend(8)?;
        self.v.get_type().map_err(self.js())
    }

    fn items(&self, n: usize) -> Result<(), DeError> {
        if n > MAX_ITEMS {
            check_items(&self.at.path(), n)?;
        }
        Ok(())
    }

    fn string(&self) -> Result<String, DeError> {
        let s = String::from_unknown(self.v).map_err(self.js())?;
        let limit = match (self.strings, self.at) {
            (Strings::PerKey, At::Key(_, k)) => string_limit(k),
            (Strings::PerKey, _) => string_limit(""),
            (Strings::Loose, _) => MAX_JUSTIFICATION,
        };
        if s.len() > limit {
            return Err(DeError::at(
                &self.at,
                format!("is {} bytes long; at most {limit} are accepted", s.len()),
            ));
        }
        self.spend(s.len())?;
        Ok(s)
    }

    /// A `Date` as RFC 3339 text.
    fn date(&self) -> Result<Option<String>, DeError> {
        if !self.v.is_date().map_err(self.js())? {
            return Ok(None);
        }
        let ms = JsDate::from_unknown(self.v)
            .and_then(|d| d.value_of())
            .map_err(self.js())?;
        if !ms.is_finite() {
            return Err(DeError::at(&self.at, "invalid Date"));
        }
        let t = Timestamp::from_millis(ms as i64)
            .ok_or_else(|| DeError::at(&self.at, "Date out of range"))?;
        Ok(Some(t.to_string()))
    }

    /// The length of an array, or of an array-like object (`arguments`, a typed array,
    /// `{length: 2, 0: .., 1: ..}`: a numeric `length` and no keys but its indices).
    fn array_len(&self, obj: &Object<'_>) -> Result<Option<u32>, DeError> {
        if self.v.is_array().map_err(self.js())? {
            return obj.get_array_length().map(Some).map_err(self.js());
        }
        let length: Unknown<'_> = obj.get_named_property("length").map_err(self.js())?;
        if length.get_type().map_err(self.js())? != ValueType::Number {
            return Ok(None);
        }
        let n = f64::from_unknown(length).map_err(self.js())?;
        if !(n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)) {
            return Ok(None);
        }
        self.items(n as usize)?;
        let keys = Object::keys(obj).map_err(self.js())?;
        let indexed = keys
            .iter()
            .all(|k| k == "length" || k.parse::<u32>().is_ok_and(|i| i < n as u32));
        Ok(indexed.then_some(n as u32))
    }

    fn object<'de, V: Visitor<'de>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, DeError> {
        if let Some(s) = self.date()? {
            return visitor.visit_string(s);
        }
        let obj = Object::from_unknown(self.v).map_err(self.js())?;
        if let Some(n) = self.array_len(&obj)? {
            self.items(n as usize)?;
            return visitor.visit_seq(Seq {
                de: self,
                obj,
                i: 0,
                n,
            });
        }
        let names = Object::keys(&obj).map_err(self.js())?;
        self.items(names.len())?;
        visitor.visit_map(Map {
            de: self,
            obj,
            left: names.len(),
            names: names.into_iter(),
            key: String::new(),
            fields,
            seen: Vec::new(),
            value: None,
        })
    }

    fn value<'de, V: Visitor<'de>>(
        self,
        kind: ValueType,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, DeError> {
        match kind {
            ValueType::Null | ValueType::Undefined => visitor.visit_unit(),
            ValueType::Boolean => {
                visitor.visit_bool(bool::from_unknown(self.v).map_err(self.js())?)
            }
            ValueType::Number => {
                let n = f64::from_unknown(self.v).map_err(self.js())?;
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    visitor.visit_i64(n as i64)
                } else if n.is_finite() {
                    visitor.visit_f64(n)
                } else {
                    Err(DeError::at(&self.at, "not a finite number"))
                }
            }
            ValueType::String => visitor.visit_string(self.string()?),
            ValueType::Object => self.object(visitor, fields),
            other => Err(DeError::at(
                &self.at,
                format!("unsupported value of type {other}"),
            )),
        }
    }

    fn child<'q>(&self, v: Unknown<'e>, at: At<'q>) -> De<'q, 'e>
    where
        'p: 'q,
    {
        De {
            v,
            at,
            depth: self.depth + 1,
            left: self.left,
            strings: self.strings,
            skip: None,
        }
    }
}

impl<'de> de::Deserializer<'de> for De<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let kind = self.kind()?;
        self.value(kind, visitor, None)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v.get_type().map_err(self.js())? {
            ValueType::Null | ValueType::Undefined => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let kind = self.kind()?;
        self.value(kind, visitor, Some(fields))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.kind()? {
            ValueType::String => visitor.visit_enum(self.string()?.into_deserializer()),
            _ => Err(DeError::at(&self.at, "expected a string")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Seq<'p, 'e> {
    de: De<'p, 'e>,
    obj: Object<'e>,
    i: u32,
    n: u32,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if self.i == self.n {
            return Ok(None);
        }
        let at = At::Index(&self.de.at, self.i as usize);
        let item: Unknown<'_> = self
            .obj
            .get_element(self.i)
            .map_err(|e| DeError::at(&at, e.reason.clone()))?;
        self.i += 1;
        seed.deserialize(self.de.child(item, at))
            .map(Some)
            .map_err(|e| e.placed(&at))
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.n - self.i) as usize)
    }
}

struct Map<'p, 'e> {
    de: De<'p, 'e>,
    obj: Object<'e>,
    names: std::vec::IntoIter<String>,
    left: usize,
    /// The key whose value is read next.
    key: String,
    /// The fields of the struct being read; `None` for a map, whose keys are data.
    fields: Option<&'static [&'static str]>,
    seen: Vec<usize>,
    value: Option<Unknown<'e>>,
}

impl<'de> MapAccess<'de> for Map<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for k in self.names.by_ref() {
            self.left -= 1;
            self.key = k;
            let k = &self.key;
            if self.de.skip == Some(k.as_str()) {
                continue;
            }
            let at = At::Key(&self.de.at, k);
            let v: Unknown<'_> = self
                .obj
                .get_named_property(k)
                .map_err(|e| DeError::at(&at, e.reason.clone()))?;
            if v.get_type()
                .map_err(|e| DeError::at(&at, e.reason.clone()))?
                == ValueType::Undefined
            {
                continue;
            }
            self.de.spend(k.len())?;
            self.value = Some(v);
            let field = self
                .fields
                .and_then(|fs| fs.iter().enumerate().find(|(_, f)| names_field(k, f)));
            let key = match field {
                Some((i, &name)) => {
                    if self.seen.contains(&i) {
                        return Err(DeError::at(
                            &at,
                            format!("`{k}` is given twice (as `{name}` and in camelCase)"),
                        ));
                    }
                    self.seen.push(i);
                    seed.deserialize(BorrowedStrDeserializer::new(name))
                }
                None => seed.deserialize(StringDeserializer::new(k.clone())),
            };
            return key.map(Some).map_err(|e: DeError| e.placed(&at));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let at = At::Key(&self.de.at, &self.key);
        let v = self
            .value
            .take()
            .ok_or_else(|| DeError::at(&at, "a value without a key"))?;
        seed.deserialize(self.de.child(v, at))
            .map_err(|e| e.placed(&at))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::names_field;

    #[test]
    fn a_key_names_a_field_in_either_case() {
        assert!(names_field("officeCountry", "office_country"));
        assert!(names_field("office_country", "office_country"));
        assert!(names_field("windowS", "window_s"));
        assert!(!names_field("officecountry", "office_country"));
        assert!(!names_field("officeCountryX", "office_country"));
        assert!(!names_field("office", "office_country"));
        assert!(!names_field("OfficeCountry", "office_country"));
    }
}
