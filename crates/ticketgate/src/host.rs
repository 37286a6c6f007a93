//! A host language's values (JavaScript values, Python objects) deserialized straight into
//! the core's serde types, with no JSON in between. A binding says only what a value is
//! ([`Host::read`]); the input limits, the key paths of errors and the matching of keys to a
//! struct's fields are decided here, once, for every binding.
//!
//! The limits hold before anything is read or allocated: a host reports a list's or an
//! object's claimed size first, and the walk refuses depth, size and string length as it
//! goes, so no value can make it recurse or allocate without end.

use crate::error::InvalidRequest;
use crate::ffi::camel;
use crate::limits::{check_items, string_limit, At, MAX_DEPTH, MAX_DOCUMENT, MAX_ITEMS};
use crate::limits::{MAX_BATCH, MAX_JUSTIFICATION};
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::marker::PhantomData;

/// What a host value is. Strings are already text: dates, enums and paths arrive as the
/// text the contract reads.
#[derive(Debug)]
// A whole-word tag keeps every payload 8-byte aligned: with a byte tag, moving a `Read`
// copied 7 bytes as two overlapping words, which stalled on store forwarding (a tenth of
// reading a request).
#[repr(u64)]
pub enum Read<V, K = String> {
    /// `null`, `None`, `undefined`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits `i64` (a JavaScript number without a fraction).
    Int(i64),
    /// Any other finite number.
    Float(f64),
    /// Text.
    Str(K),
    /// Raw bytes (a secret).
    Bytes(Vec<u8>),
    /// A list of this many items, read one by one with [`Host::item`].
    List(usize),
    /// An object or mapping: its keys and values (a value absent, like JavaScript's
    /// `undefined`, left out, as not given).
    Map(Vec<(K, V)>),
    /// The value stands for another (an `Enum` for its value).
    Alias(V),
}

/// A host language's values, as the bindings teach the core to read them.
pub trait Host {
    /// A value of the host language.
    type Value: Clone;
    /// Text (a string, an object's key), ideally borrowed from the host rather than copied:
    /// keys are only compared with field names, and many strings only parsed (times, enums).
    type Text: AsRef<str>;

    /// What `v` is; an error is the reason it cannot be read.
    fn read(&self, v: &Self::Value) -> Result<Read<Self::Value, Self::Text>, String>;
    /// Whether `v` is null (`None`, `null`, `undefined`): cheaper than [`Host::read`], and
    /// asked of every optional value.
    fn is_null(&self, v: &Self::Value) -> bool;
    /// Item `i` of a list that [`Host::read`] reported.
    fn item(&self, list: &Self::Value, i: usize) -> Result<Self::Value, String>;
}

/// How a struct's keys are matched to its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// As the contract spells them (`office_country`).
    Exact,
    /// Also in camelCase (`officeCountry`), as JavaScript writes them; both spellings of
    /// one field in one object are an error.
    CamelToo,
}

/// How strings are bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strings {
    /// Requests: each key's own limit (`justification` is longer).
    PerKey,
    /// Records and options: the longest any key may hold.
    Loose,
}

/// Reads `value` as a `T`; an error names the key path under `path` as the caller wrote it.
pub fn from_host<H: Host, T: DeserializeOwned>(
    host: &H,
    value: &H::Value,
    path: &str,
    keys: Keys,
    strings: Strings,
) -> Result<T, InvalidRequest> {
    from_host_skipping(host, value, path, keys, strings, None)
}

/// JSON text as a host value: a binding may hand over text it knows to say exactly what
/// its value says (moving one string is faster than a value key by key), and it is read
/// as that value would be: the same limits, key paths and key matching. Object keys keep
/// their order in the text, as a host's do, so the first bad key is the same one. Strings
/// and keys without escapes borrow from the text (a third of parsing was copying them).
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true`, `false`.
    Bool(bool),
    /// A number that fits `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array.
    List(Vec<Json<'a>>),
    /// An object, its keys in order.
    Map(Vec<(Cow<'a, str>, Json<'a>)>),
    /// An array or object nested past the input limit, passed over unread: the reader names
    /// the key where the limit is passed, as it does for a host's value (serde_json would
    /// refuse a deep document whole, at its own limit of 128, naming no key).
    Deep,
}

impl<'a> Json<'a> {
    /// The value of `text`; `None` if it is not JSON that a host could have said (the
    /// binding then reads its own value).
    pub fn parse(text: &'a str) -> Option<Json<'a>> {
        serde_json::from_str(text).ok()
    }

    /// Reads this value as a `T`; an error names the key path under `path`.
    pub fn read<T: DeserializeOwned>(
        &self,
        path: &str,
        keys: Keys,
        strings: Strings,
    ) -> Result<T, InvalidRequest> {
        from_host(&JsonHost(PhantomData), &self, path, keys, strings)
    }

    /// The items of an array.
    pub fn items(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::List(items) => Some(items),
            _ => None,
        }
    }
}

impl From<serde_json::Value> for Json<'static> {
    fn from(v: serde_json::Value) -> Json<'static> {
        use serde_json::Value;
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Json::Int(i),
                None => Json::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Json::Str(Cow::Owned(s)),
            Value::Array(items) => Json::List(items.into_iter().map(Json::from).collect()),
            Value::Object(o) => Json::Map(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Json::from(v)))
                    .collect(),
            ),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        JsonVisitor(0).deserialize(d)
    }
}

/// A value at this nesting depth.
struct JsonVisitor(usize);

impl<'de> DeserializeSeed<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        if self.0 > MAX_DEPTH + 1 {
            // skipped by serde_json without recursing: its syntax is still checked
            d.deserialize_ignored_any(de::IgnoredAny)?;
            return Ok(Json::Deep);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Json<'de>, E> {
        Ok(Json::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Json<'de>, E> {
        Ok(i64::try_from(u).map_or(Json::Float(u as f64), Json::Int))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Json<'de>, E> {
        Ok(Json::Float(f))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Json<'de>, E> {
        KeySeed.visit_borrowed_str(s).map(Json::Str)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json<'de>, E> {
        KeySeed.visit_str(s).map(Json::Str)
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Json<'de>, E> {
        KeySeed.visit_string(s).map(Json::Str)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(JsonVisitor(self.0 + 1))? {
            items.push(item);
        }
        Ok(Json::List(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            entries.push((key, map.next_value_seed(JsonVisitor(self.0 + 1))?));
        }
        Ok(Json::Map(entries))
    }
}

/// A key or a string, borrowed from the text when it has no escapes (serde's own `Cow`
/// always copies).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

/// [`Json`] values as a host, borrowed.
#[derive(Debug)]
pub struct JsonHost<'a>(PhantomData<&'a Json<'a>>);

impl Default for JsonHost<'_> {
    fn default() -> Self {
        JsonHost(PhantomData)
    }
}

impl<'a> Host for JsonHost<'a> {
    type Value = &'a Json<'a>;
    type Text = &'a str;

    #[inline]
    fn read(&self, v: &&'a Json<'a>) -> Result<Read<&'a Json<'a>, &'a str>, String> {
        Ok(match v {
            Json::Null => Read::Null,
            Json::Bool(b) => Read::Bool(*b),
            Json::Int(i) => Read::Int(*i),
            Json::Float(f) => Read::Float(*f),
            Json::Str(s) => Read::Str(s.as_ref()),
            Json::List(items) => Read::List(items.len()),
            Json::Map(entries) => Read::Map(entries.iter().map(|(k, v)| (k.as_ref(), v)).collect()),
            Json::Deep => return Err(too_deep()),
        })
    }

    fn is_null(&self, v: &&'a Json<'a>) -> bool {
        matches!(v, Json::Null)
    }

    fn item(&self, list: &&'a Json<'a>, i: usize) -> Result<&'a Json<'a>, String> {
        list.items()
            .and_then(|items| items.get(i))
            .ok_or_else(|| "no such item".into())
    }
}

/// Why a value past the depth limit is refused: by the reader, or as JSON text skipped there.
fn too_deep() -> String {
    format!("nested deeper than {MAX_DEPTH} levels")
}

/// [`from_host`], passing over the top-level key `skip` (a callback among data options).
pub fn from_host_skipping<H: Host, T: DeserializeOwned>(
    host: &H,
    value: &H::Value,
    path: &str,
    keys: Keys,
    strings: Strings,
    skip: Option<&str>,
) -> Result<T, InvalidRequest> {
    walk(host, value, path, keys, strings, skip, None)
}

/// Reads `value` as a `T` (as the variant `variant` of the enum `T` if given) in a walk
/// with its own size budget; an error as the caller's key path and reason.
fn walk<H: Host, T: DeserializeOwned>(
    host: &H,
    value: &H::Value,
    path: &str,
    keys: Keys,
    strings: Strings,
    skip: Option<&str>,
    variant: Option<&str>,
) -> Result<T, InvalidRequest> {
    let left = Cell::new(MAX_DOCUMENT);
    let de = De {
        host,
        v: value.clone(),
        at: At::Root(path),
        depth: 0,
        left: &left,
        keys,
        strings,
        skip,
    };
    let read = match variant {
        Some(name) => T::deserialize(Variant { name, de }),
        None => T::deserialize(de),
    };
    read.map_err(|e| {
        let Failure { key, reason, names } = *e.0;
        let reason = names.map_or(reason, |n| n.reason(keys));
        // an error of the value itself (not an object, a missing field) is at its own path:
        // a record that is not an object is `record`'s fault, not the request's
        let key = key.unwrap_or_else(|| path.to_owned());
        InvalidRequest {
            as_written: true,
            ..InvalidRequest::new(key, reason)
        }
    })
}

/// Reads `args` as the variant `name` of the enum `T` (an operation and its arguments by
/// name, as in [`crate::ffi::Call`]); errors name keys of `args` as the caller wrote them.
pub fn variant_from_host<H: Host, T: DeserializeOwned>(
    host: &H,
    name: &str,
    args: &H::Value,
    keys: Keys,
) -> Result<T, InvalidRequest> {
    walk(host, args, "", keys, Strings::PerKey, None, Some(name))
}

/// For a host: refuses an object or mapping of `n` keys before its entries are read (the
/// reason; the reader names the key path).
pub fn within_items(n: usize) -> Result<(), String> {
    check_items("", n).map_err(|e| e.reason)
}

/// A batch given as anything but a list of items (a dict, a number, an object).
pub fn not_a_batch() -> InvalidRequest {
    InvalidRequest::new("", "expected a list (an array) of items")
}

/// Refuses a batch of `n` items past [`MAX_BATCH`] before any item is read.
pub fn check_batch(n: usize) -> Result<(), InvalidRequest> {
    if n > MAX_BATCH {
        return Err(InvalidRequest::new(
            "",
            format!("a batch of {n} items; at most {MAX_BATCH} are accepted"),
        ));
    }
    Ok(())
}

/// A conversion error; `key` is set by the innermost value that knows where it is. Boxed:
/// every step of a read returns a `Result` with it, and errors are rare.
#[derive(Debug)]
pub struct HostError(Box<Failure>);

#[derive(Debug)]
struct Failure {
    key: Option<String>,
    reason: String,
    /// A struct's field names the reason quotes, spelled as the caller spells keys when the
    /// error is handed out (serde makes these errors knowing nothing of the spelling).
    names: Option<Names>,
}

/// The field names an error quotes.
#[derive(Debug)]
enum Names {
    /// A key (as written) that is no field, and the fields there are.
    Unknown(String, &'static [&'static str]),
    /// A required field not given.
    Missing(&'static str),
}

impl Names {
    /// The reason, field names in camelCase when keys are read so; worded as serde words it.
    fn reason(&self, keys: Keys) -> String {
        let name = |f: &'static str| match keys {
            Keys::CamelToo => format!("`{}`", camel::name(f)),
            Keys::Exact => format!("`{f}`"),
        };
        match self {
            Names::Missing(f) => format!("missing field {}", name(f)),
            Names::Unknown(key, []) => format!("unknown field `{key}`, there are no fields"),
            Names::Unknown(key, fields) => {
                let names: Vec<String> = fields.iter().map(|f| name(f)).collect();
                format!("unknown field `{key}`, expected {}", one_of(&names))
            }
        }
    }
}

/// Names to choose from, as serde lists them: `a`, `a or b`, `one of a, b, c`.
fn one_of(names: &[String]) -> String {
    match names {
        [] => "nothing".into(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", names.join(", ")),
    }
}

impl HostError {
    fn new(key: Option<String>, reason: String) -> Self {
        Self(Box::new(Failure {
            key,
            reason,
            names: None,
        }))
    }

    fn named(names: Names) -> Self {
        let mut e = Self::new(None, String::new());
        e.0.reason = names.reason(Keys::Exact);
        e.0.names = Some(names);
        e
    }

    fn at(at: &At<'_>, reason: impl Into<String>) -> Self {
        Self::new(Some(at.path()), reason.into())
    }

    fn placed(mut self, at: &At<'_>) -> Self {
        if self.0.key.is_none() {
            self.0.key = Some(at.path());
        }
        self
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.reason)
    }
}

impl std::error::Error for HostError {}

impl de::Error for HostError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Self::new(None, msg.to_string())
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::named(Names::Unknown(field.to_owned(), expected))
    }
    fn missing_field(field: &'static str) -> Self {
        Self::named(Names::Missing(field))
    }
    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid type: {}, expected {}",
            given(unexpected),
            wanted(expected)
        ))
    }
    fn unknown_variant(value: &str, expected: &'static [&'static str]) -> Self {
        // an enum is a value from a list to the caller (a purpose, a status), not a variant
        let names: Vec<String> = expected.iter().map(|v| format!("`{v}`")).collect();
        Self::custom(format_args!(
            "unknown value `{value}`, expected {}",
            one_of(&names)
        ))
    }
    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid value: {}, expected {}",
            given(unexpected),
            wanted(expected)
        ))
    }
}

/// What the caller gave, in the words of the data shapes rather than of serde's data model
/// ("unit value", "map", "sequence"), which mean nothing to a Python or JavaScript caller.
fn given(unexpected: de::Unexpected<'_>) -> String {
    match unexpected {
        de::Unexpected::Unit | de::Unexpected::Option => "null".into(),
        de::Unexpected::Map => "an object".into(),
        de::Unexpected::Seq => "a list".into(),
        other => other.to_string(),
    }
}

/// What was asked for, likewise: serde names a struct by its Rust name ("struct
/// VelocityConfig") and a number by its Rust type ("u64").
fn wanted(expected: &dyn de::Expected) -> String {
    let expected = expected.to_string();
    let plain = match expected.as_str() {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "a list",
        "a map" => "an object",
        "path string" => "a path (a string)",
        // the key path says which object
        s if s.starts_with("struct ") => "an object",
        _ => return expected,
    };
    plain.into()
}

impl From<InvalidRequest> for HostError {
    fn from(e: InvalidRequest) -> Self {
        Self::new(Some(e.key), e.reason)
    }
}

/// `office_country` written as `officeCountry`.
fn camel_names(key: &str, field: &str) -> bool {
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

/// What a host's value is.
type HostRead<H> = Read<<H as Host>::Value, <H as Host>::Text>;

struct De<'p, H: Host> {
    host: &'p H,
    v: H::Value,
    at: At<'p>,
    depth: usize,
    left: &'p Cell<usize>,
    keys: Keys,
    strings: Strings,
    /// A key of this object that is not data.
    skip: Option<&'p str>,
}

impl<'p, H: Host> De<'p, H> {
    fn err(&self, reason: impl Into<String>) -> HostError {
        HostError::at(&self.at, reason)
    }

    fn spend(&self, n: usize) -> Result<(), HostError> {
        match self.left.get().checked_sub(n) {
            Some(l) => {
                self.left.set(l);
                Ok(())
            }
            None => Err(self.err(format!("the request is larger than {MAX_DOCUMENT} bytes"))),
        }
    }

    fn items(&self, n: usize) -> Result<(), HostError> {
        if n > MAX_ITEMS {
            check_items(&self.at.path(), n)?;
        }
        Ok(())
    }

    /// What the value is, within depth and size; an alias is followed (and stands for
    /// the value from then on).
    fn read(&mut self) -> Result<HostRead<H>, HostError> {
        loop {
            if self.depth > MAX_DEPTH {
                return Err(self.err(too_deep()));
            }
            self.spend(8)?;
            match self.host.read(&self.v).map_err(|r| self.err(r))? {
                Read::Alias(next) => {
                    self.v = next;
                    self.depth += 1;
                }
                other => return Ok(other),
            }
        }
    }

    fn string<'s>(&self, s: &'s str) -> Result<&'s str, HostError> {
        let limit = match (self.strings, self.at) {
            (Strings::PerKey, At::Key(_, k)) => string_limit(k),
            (Strings::PerKey, _) => string_limit(""),
            (Strings::Loose, _) => MAX_JUSTIFICATION,
        };
        if s.len() > limit {
            return Err(self.err(format!(
                "is {} bytes long; at most {limit} are accepted",
                s.len()
            )));
        }
        self.spend(s.len())?;
        Ok(s)
    }

    fn visit<'de, V: Visitor<'de>>(
        self,
        read: HostRead<H>,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, HostError> {
        match read {
            Read::Null => visitor.visit_unit(),
            Read::Bool(b) => visitor.visit_bool(b),
            Read::Int(i) => visitor.visit_i64(i),
            Read::Float(f) if f.is_finite() => visitor.visit_f64(f),
            Read::Float(_) => Err(self.err("not a finite number")),
            Read::Str(s) => visitor.visit_str(self.string(s.as_ref())?),
            Read::Bytes(b) => {
                self.items(b.len())?;
                self.spend(b.len())?;
                visitor.visit_seq(de::value::SeqDeserializer::<_, HostError>::new(
                    b.into_iter(),
                ))
            }
            Read::List(n) => {
                self.items(n)?;
                visitor.visit_seq(Seq { de: self, i: 0, n })
            }
            Read::Map(entries) => {
                self.items(entries.len())?;
                visitor.visit_map(Map {
                    left: entries.len(),
                    entries: entries.into_iter(),
                    key: None,
                    value: None,
                    fields,
                    seen: 0,
                    seen_as_named: 0,
                    de: self,
                })
            }
            Read::Alias(_) => Err(self.err("an alias was not followed")),
        }
    }

    /// Reads `v`, the item or value at `at` inside this one (or the reason it could not be
    /// had), with `seed`; an error that names no key is placed at `at`.
    fn read_child<'de, 'q, S: DeserializeSeed<'de>>(
        &self,
        v: Result<H::Value, String>,
        at: At<'q>,
        seed: S,
    ) -> Result<S::Value, HostError>
    where
        'p: 'q,
    {
        let v = v.map_err(|r| HostError::at(&at, r))?;
        let child = De {
            host: self.host,
            v,
            at,
            depth: self.depth + 1,
            left: self.left,
            keys: self.keys,
            strings: self.strings,
            skip: None,
        };
        seed.deserialize(child).map_err(|e| e.placed(&at))
    }
}

impl<'de, H: Host> de::Deserializer<'de> for De<'_, H> {
    type Error = HostError;

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, HostError> {
        let read = self.read()?;
        self.visit(read, visitor, None)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, HostError> {
        if self.host.is_null(&self.v) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, HostError> {
        if self.host.is_null(&self.v) {
            // serde_json's map takes null for an empty one: a contact record given as null
            // would be viewed as one holding nothing, decided and audited
            return Err(de::Error::invalid_type(de::Unexpected::Unit, &visitor));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, HostError> {
        let mut de = self;
        let read = de.read()?;
        if matches!(read, Read::List(_) | Read::Bytes(_)) {
            // serde would take a list for the fields in their declared order: `decide([...])`
            // or `new Gate([])` would be read by position rather than refused
            return Err(de.err("expected an object with named keys, not a list"));
        }
        de.visit(read, visitor, Some(fields))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, HostError> {
        let mut de = self;
        match de.read()? {
            Read::Str(s) => visitor.visit_enum(de.string(s.as_ref())?.into_deserializer()),
            _ => Err(de.err("expected a string")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, HostError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct identifier ignored_any
    }
}

/// An enum given as a variant's name and the value of its fields.
struct Variant<'p, H: Host> {
    name: &'p str,
    de: De<'p, H>,
}

impl<'de, H: Host> de::Deserializer<'de> for Variant<'_, H> {
    type Error = HostError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, HostError> {
        Err(self.de.err("expected an operation"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, HostError> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string option
        bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl<'de, 'p, H: Host> de::EnumAccess<'de> for Variant<'p, H> {
    type Error = HostError;
    type Variant = De<'p, H>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, De<'p, H>), HostError> {
        let v = seed.deserialize(de::value::StrDeserializer::<HostError>::new(self.name))?;
        Ok((v, self.de))
    }
}

impl<'de, H: Host> de::VariantAccess<'de> for De<'_, H> {
    type Error = HostError;

    fn unit_variant(self) -> Result<(), HostError> {
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, HostError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, HostError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, HostError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

struct Seq<'p, H: Host> {
    de: De<'p, H>,
    i: usize,
    n: usize,
}

impl<'de, H: Host> de::SeqAccess<'de> for Seq<'_, H> {
    type Error = HostError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, HostError> {
        if self.i == self.n {
            return Ok(None);
        }
        let at = At::Index(&self.de.at, self.i);
        let item = self.de.host.item(&self.de.v, self.i);
        self.i += 1;
        self.de.read_child(item, at, seed).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.n - self.i)
    }
}

struct Map<'p, H: Host> {
    de: De<'p, H>,
    entries: std::vec::IntoIter<(H::Text, H::Value)>,
    left: usize,
    /// The key whose value is read next, and that value.
    key: Option<H::Text>,
    value: Option<H::Value>,
    /// The fields of the struct being read; `None` for a map, whose keys are data.
    fields: Option<&'static [&'static str]>,
    /// The fields given so far, as bits (structs here have far fewer than 128 fields).
    seen: u128,
    /// Those of them given with the contract's spelling (not in camelCase).
    seen_as_named: u128,
}

/// The field of `fields` (a struct's; `None` for a map) that `key` names.
fn field(
    fields: Option<&'static [&'static str]>,
    keys: Keys,
    key: &str,
) -> Option<(usize, &'static str)> {
    let camel = keys == Keys::CamelToo;
    fields?
        .iter()
        .enumerate()
        .find(|(_, f)| **f == key || (camel && camel_names(key, f)))
        .map(|(i, f)| (i, *f))
}

impl<'de, H: Host> de::MapAccess<'de> for Map<'_, H> {
    type Error = HostError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, HostError> {
        for (key, v) in self.entries.by_ref() {
            self.left -= 1;
            let k = key.as_ref();
            if self.de.skip == Some(k) {
                continue;
            }
            let at = At::Key(&self.de.at, k);
            self.de.spend(k.len())?;
            self.value = Some(v);
            let read = match field(self.fields, self.de.keys, k) {
                Some((i, name)) => {
                    let bit = 1u128.checked_shl(i as u32).unwrap_or(0);
                    // a camelCase spelling is shorter by its underscores: no second compare
                    let as_named = if k.len() == name.len() { bit } else { 0 };
                    if self.seen & bit != 0 {
                        let reason = if self.seen_as_named & bit == as_named {
                            format!("`{k}` is given twice")
                        } else {
                            let other = if as_named == 0 {
                                name
                            } else {
                                camel::name(name)
                            };
                            format!("`{k}` and `{other}` name the same field: give one")
                        };
                        return Err(HostError::at(&at, reason));
                    }
                    self.seen |= bit;
                    self.seen_as_named |= as_named;
                    seed.deserialize(BorrowedStrDeserializer::new(name))
                }
                None => seed.deserialize(de::value::StrDeserializer::new(k)),
            };
            let read = read.map_err(|e: HostError| e.placed(&at));
            self.key = Some(key);
            return read.map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, HostError> {
        let at = At::Key(&self.de.at, self.key.as_ref().map_or("", AsRef::as_ref));
        let v = self
            .value
            .take()
            .ok_or_else(|| "a value without a key".into());
        self.de.read_child(v, at, seed)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccessRequest;
    use serde_json::{json, Value};

    /// `v` through its text, as a binding hands it over (leaked: a test's few bytes).
    fn json(v: &Value) -> Json<'static> {
        Json::parse(Box::leak(v.to_string().into_boxed_str())).unwrap()
    }

    fn read(v: Value, keys: Keys) -> Result<AccessRequest, InvalidRequest> {
        json(&v).read("", keys, Strings::PerKey)
    }

    fn request() -> Value {
        json!({"employee": {"id": 7, "segments": ["consumer"], "office_country": "DE"},
               "customer": {"id": "c1", "segment": "consumer", "vip": false, "employee": false},
               "ticket": {"id": "T-1", "customer": "c1", "assignee": "7", "queue": "billing",
                          "status": "open", "opened_at": "2026-11-28T07:00:00Z"},
               "purpose": "support", "at": "2026-11-28T10:00:00Z"})
    }

    #[test]
    fn a_wrong_type_is_named_in_the_words_of_the_data_shapes_not_of_rust() {
        let reason = |at: &str, v: Value| {
            let mut r = request();
            *r.pointer_mut(at).unwrap() = v;
            read(r, Keys::Exact).unwrap_err().reason
        };
        let cases = [
            (
                "/customer",
                json!(5),
                "invalid type: integer `5`, expected an object",
            ),
            (
                "/employee/segments",
                json!({}),
                "invalid type: an object, expected a list",
            ),
            (
                "/ticket/queue",
                json!(["billing"]),
                "invalid type: a list, expected a string",
            ),
            (
                "/customer/vip",
                Value::Null,
                "invalid type: null, expected a boolean",
            ),
        ];
        for (at, v, want) in cases {
            assert_eq!(reason(at, v), want, "{at}");
        }
        let mut r = request();
        r["employee"]["shift"] = json!(8);
        let shift = read(r, Keys::Exact).unwrap_err().reason;
        assert!(shift.ends_with("expected a shift object: `{start, end}`, or `{days, start, end, tz}` for a weekly one"), "{shift}");
        let velocity: Result<crate::velocity::VelocityConfig, _> =
            json(&json!({"soft": -1})).read("velocity", Keys::Exact, Strings::Loose);
        let e = velocity.unwrap_err();
        assert_eq!(
            e.reason,
            "invalid value: integer `-1`, expected a whole number of 0 or more"
        );
    }

    #[test]
    fn a_host_value_reads_as_the_same_request_as_its_json() {
        let v = request();
        let direct = read(v.clone(), Keys::Exact).unwrap();
        assert_eq!(direct, AccessRequest::from_value(v).unwrap());
    }

    #[test]
    fn escaped_keys_and_strings_read_as_their_plain_spelling() {
        let plain = request().to_string();
        let escaped = plain
            .replace("\"employee\":{", "\"\\u0065mployee\":{")
            .replace("\"opened_at\"", "\"opened\\u005fat\"")
            .replace("\"billing\"", "\"bill\\u0069ng\"");
        assert_ne!(plain, escaped);
        let json = Json::parse(&escaped).unwrap();
        // escaped text is copied, the rest borrowed from the text
        let Json::Map(entries) = &json else {
            panic!("not a map")
        };
        let kinds: Vec<(&str, bool)> = entries
            .iter()
            .map(|(k, _)| (k.as_ref(), matches!(k, Cow::Borrowed(_))))
            .collect();
        assert!(kinds.contains(&("employee", false)) && kinds.contains(&("purpose", true)));
        let read = |j: &Json<'_>| j.read::<AccessRequest>("", Keys::Exact, Strings::PerKey);
        assert_eq!(
            read(&json).unwrap(),
            read(&Json::parse(&plain).unwrap()).unwrap()
        );
    }

    #[test]
    fn errors_quote_fields_as_the_caller_spells_keys() {
        let mut v = request();
        v["ticket"].as_object_mut().unwrap().remove("opened_at");
        let reason = |v: &Value, keys| read(v.clone(), keys).unwrap_err().reason;
        assert_eq!(reason(&v, Keys::CamelToo), "missing field `openedAt`");
        assert_eq!(reason(&v, Keys::Exact), "missing field `opened_at`");
        let mut v = request();
        v["employee"]["office_Country"] = json!("DE");
        let camel = read(v.clone(), Keys::CamelToo).unwrap_err();
        assert_eq!(camel.key, "employee.office_Country");
        // the caller's own key is quoted as written, the fields as they would write them
        assert!(
            camel
                .reason
                .starts_with("unknown field `office_Country`, expected one of `id`")
                && camel.reason.contains("`officeCountry`, `shift`"),
            "{camel:?}"
        );
        assert!(reason(&v, Keys::Exact).contains("`office_country`, `shift`"));
    }

    #[test]
    fn camel_case_keys_name_fields_and_both_spellings_are_refused() {
        let mut v = request();
        v["employee"]["officeCountry"] = v["employee"]["office_country"].take();
        v["employee"]
            .as_object_mut()
            .unwrap()
            .remove("office_country");
        assert_eq!(
            read(v.clone(), Keys::CamelToo)
                .unwrap()
                .employee
                .office_country
                .as_deref(),
            Some("DE")
        );
        assert_eq!(
            read(v.clone(), Keys::Exact).unwrap_err().key,
            "employee.officeCountry"
        );
        v["ticket"]["openedAt"] = json!("2026-11-28T07:00:00Z");
        let e = read(v, Keys::CamelToo).unwrap_err();
        assert_eq!(e.key, "ticket.openedAt");
        assert_eq!(
            e.reason,
            "`openedAt` and `opened_at` name the same field: give one"
        );
    }

    #[test]
    fn errors_name_the_key_as_written() {
        let mut v = request();
        v["customer"]["vip"] = json!("yes");
        assert_eq!(read(v, Keys::Exact).unwrap_err().key, "customer.vip");
        let mut v = request();
        v["employee"]["teams"] = json!(vec!["t"; MAX_ITEMS + 1]);
        assert_eq!(read(v, Keys::Exact).unwrap_err().key, "employee.teams");
        let mut v = request();
        v["client"] = json!("x".repeat(2000));
        assert_eq!(read(v, Keys::Exact).unwrap_err().key, "client");
        let mut v = request();
        let mut deep = json!("x");
        for _ in 0..MAX_DEPTH + 2 {
            deep = json!([deep]);
        }
        v["justification"] = deep.clone();
        assert_eq!(read(v, Keys::Exact).unwrap_err().key, "justification");
        let record = json!({ "name": deep });
        let e = json(&record)
            .read::<serde_json::Map<String, Value>>("record", Keys::Exact, Strings::Loose)
            .unwrap_err();
        assert!(e.reason.contains("nested"), "{e:?}");
        assert!(e.key.starts_with("record.name"), "{e:?}");
    }

    #[test]
    fn json_text_nested_past_any_parser_limit_names_the_key() {
        // 5,000 levels fit the document limit and are far past serde_json's own 128
        for (open, close) in [("{\"a\":", "}"), ("[", "]")] {
            let mut v = request();
            v["client"] = json!("@");
            let (n, text) = (5_000, v.to_string());
            let text = text.replace("\"@\"", &format!("{}1{}", open.repeat(n), close.repeat(n)));
            let e = AccessRequest::from_json(&text).unwrap_err();
            assert_eq!(e.key, "client", "{e:?}");
            let record = format!("{{\"notes\": {}1{}}}", open.repeat(n), close.repeat(n));
            let e = Json::parse(&record)
                .unwrap()
                .read::<serde_json::Map<String, Value>>("record", Keys::Exact, Strings::Loose)
                .unwrap_err();
            assert!(e.reason.contains("nested deeper than 16"), "{e:?}");
            assert!(e.key.starts_with("record.notes"), "{e:?}");
            assert_eq!(e.key.matches(['[', '.']).count(), MAX_DEPTH + 1, "{e:?}");
        }
        // what is passed over is still JSON: a syntax error deep down is not skipped
        let bad = format!("{{\"notes\": {}1,{}}}", "[".repeat(40), "]".repeat(40));
        assert!(Json::parse(&bad).is_none());
    }

    /// A request with one part changed: a key dropped, a value replaced by another type, a
    /// long string, a deep list, an unknown key.
    fn mutated(path: usize, change: usize, n: usize) -> Value {
        let mut v = request();
        let pointers = [
            "/employee/id",
            "/employee/segments",
            "/employee/office_country",
            "/customer/vip",
            "/customer/segment",
            "/ticket/status",
            "/ticket/opened_at",
            "/ticket",
            "/purpose",
            "/at",
            "/employee",
            "/ticket/assignee",
        ];
        let pointer = pointers[path % pointers.len()];
        let replacement = match change % 8 {
            0 => Value::Null,
            1 => json!(n),
            2 => json!("x".repeat(n * 40)),
            3 => json!(vec!["consumer"; n * 30]),
            4 => json!({"nickname": "x"}),
            5 => json!(true),
            6 => json!(-1.5),
            _ => {
                let mut deep = json!("x");
                for _ in 0..n {
                    deep = json!([deep]);
                }
                deep
            }
        };
        if let Some(slot) = v.pointer_mut(pointer) {
            *slot = replacement;
        }
        v
    }

    proptest::proptest! {
        /// Every surface reads through this reader: it reads a request as serde's own
        /// reading of the JSON does, and refuses more only for the input limits.
        #[test]
        fn the_reader_reads_as_serde_does_within_the_limits(
            path in 0usize..12, change in 0usize..8, n in 0usize..40,
        ) {
            use serde::Deserialize;
            let v = mutated(path, change, n);
            let by_reader = read(v.clone(), Keys::Exact);
            let by_serde = AccessRequest::deserialize(&v);
            match (by_reader, by_serde) {
                (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
                (Ok(a), Err(e)) => proptest::prop_assert!(false, "read {a:?} where serde says {e}"),
                (Err(e), Ok(_)) => proptest::prop_assert!(
                    ["at most", "nested", "larger than"].iter().any(|l| e.reason.contains(l)),
                    "refused {e:?}, which is no limit"
                ),
                (Err(_), Err(_)) => {}
            }
            // the Rust API's and the CLI's reading of JSON is this reader too
            proptest::prop_assert_eq!(read(v.clone(), Keys::Exact), AccessRequest::from_value(v));
        }
    }

    #[test]
    fn an_operation_reads_its_arguments_by_name_and_names_a_bad_one() {
        use crate::ffi::Call;
        let op = |name: &str, args: Value, keys| {
            variant_from_host::<_, Call>(&JsonHost(PhantomData), name, &&json(&args), keys)
        };
        let at = "2026-11-28T10:00:00Z";
        let args = json!({"employeeId": "e1", "customer_id": "c1", "at": at});
        assert!(matches!(
            op("record_reveal", args.clone(), Keys::CamelToo),
            Ok(Call::RecordReveal { .. })
        ));
        assert_eq!(
            op("record_reveal", args, Keys::Exact).unwrap_err().key,
            "employeeId"
        );
        let args = json!({"employee_id": "e1", "customer_id": "c1", "at": "yesterday"});
        assert_eq!(
            op("record_reveal", args, Keys::Exact).unwrap_err().key,
            "at"
        );
        let grant = json!({"grant": {"id": "g1", "expires_at": 7}});
        assert!(op("sign_grant", grant, Keys::Exact)
            .unwrap_err()
            .key
            .starts_with("grant."));
        let e = op("drop_tables", json!({}), Keys::Exact).unwrap_err();
        assert!(e.reason.contains("unknown value `drop_tables`"), "{e:?}");
        let e = op("suspended", json!({"all": true}), Keys::Exact).unwrap_err();
        assert_eq!(e.key, "all");
    }

    #[test]
    fn a_key_given_twice_in_json_text_is_refused_not_overwritten() {
        // serde_json's `Value` would keep the last; two readers could then disagree
        let text = r#"{"purpose": "support", "purpose": "fraud"}"#;
        let e = Json::parse(text)
            .unwrap()
            .read::<AccessRequest>("", Keys::Exact, Strings::PerKey)
            .unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.reason.as_str()),
            ("purpose", "`purpose` is given twice")
        );
        let e = AccessRequest::from_json(text).unwrap_err();
        assert!(e.reason.contains("given twice"), "{e:?}");
    }

    #[test]
    fn a_list_is_not_read_as_an_object_by_position() {
        // serde's derive would take `[employee, customer, ...]` for the fields in order
        let e = AccessRequest::from_json(r#"[{"id": "alice"}, {"id": "c1"}]"#).unwrap_err();
        assert_eq!(e.key, "");
        assert!(e.reason.contains("not a list"), "{e:?}");
        let e = AccessRequest::from_json(r#"{"employee": ["alice"]}"#).unwrap_err();
        assert_eq!(e.key, "employee");
    }

    #[test]
    fn camel_names_match_only_the_camel_spelling() {
        assert!(camel_names("officeCountry", "office_country"));
        assert!(camel_names("windowS", "window_s"));
        assert!(!camel_names("officecountry", "office_country"));
        assert!(!camel_names("officeCountryX", "office_country"));
        assert!(!camel_names("office", "office_country"));
        assert!(!camel_names("OfficeCountry", "office_country"));
    }
}
