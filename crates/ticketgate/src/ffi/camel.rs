//! Results as JavaScript sees them: a struct's fields in camelCase, the keys of maps (field
//! names, contact records) as they are, the counterpart of [`crate::host::Keys::CamelToo`]
//! on the way in. Renamed while serialising, by the fields each type declares, never by
//! rewriting the keys of a finished document.

use crate::ffi::Encode;
use crate::Error;
use serde::ser::{self, Serialize, Serializer};
use std::cell::RefCell;
use std::collections::HashMap;

/// `t` as JSON text with camelCase fields.
pub fn to_json_text<T: Serialize + ?Sized>(t: &T) -> serde_json::Result<String> {
    serde_json::to_string(&Renamed(t))
}

/// Answers as JavaScript reads them: camelCase fields, as JSON text (for one `JSON.parse`)
/// or as a value; core key paths in errors camelCased by [`path`].
#[derive(Debug, Clone, Copy)]
pub struct Camel;

impl crate::ffi::Encode for Camel {
    type Out = serde_json::Value;
    fn encode<T: Serialize + ?Sized>(&self, t: &T) -> Result<serde_json::Value, crate::Error> {
        serde_json::to_value(Renamed(t)).map_err(|e| crate::ffi::call::unserialisable(&e))
    }
    fn key_path(&self, key: &str) -> String {
        path(key)
    }
}

/// [`Camel`], as JSON text.
#[derive(Debug, Clone, Copy)]
pub struct CamelText;

impl crate::ffi::Encode for CamelText {
    type Out = String;
    fn encode<T: Serialize + ?Sized>(&self, t: &T) -> Result<String, crate::Error> {
        to_json_text(t).map_err(|e| crate::ffi::call::unserialisable(&e))
    }
    fn key_path(&self, key: &str) -> String {
        path(key)
    }
}

/// A batch's results as one JSON array (`null` where an item failed) and its failures.
pub type Texts = (String, Vec<(usize, Error)>);

/// A batch's results as one JSON array of camelCase text, `null` where an item failed, and
/// the failures by index: each core encodes its share of a large batch (a list page's fifty
/// are encoded on the calling thread, cheaper than starting one).
pub fn array<T: Serialize + Send>(items: Vec<Result<T, Error>>) -> Texts {
    let cores = crate::gate::cores();
    let share = items.len().div_ceil(cores).max(256);
    let mut items = items.into_iter();
    let parts: Vec<Vec<Result<T, Error>>> = (0..cores)
        .map(|_| items.by_ref().take(share).collect())
        .collect();
    let encode = |part: Vec<Result<T, Error>>| -> Vec<Result<String, Error>> {
        let text = |t: T| CamelText.encode(&t);
        part.into_iter().map(|r| r.and_then(text)).collect()
    };
    let texts: Vec<Result<String, Error>> = std::thread::scope(|s| {
        let mut parts = parts.into_iter().filter(|p| !p.is_empty());
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|p| s.spawn(move || encode(p))).collect();
        let mut texts = encode(first);
        for h in others {
            // a panic goes on up, never a short list that would shift every later result
            texts.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        texts
    });
    let size = texts.iter().map(|t| t.as_ref().map_or(4, String::len) + 1);
    let mut text = String::with_capacity(size.sum::<usize>() + 2);
    let mut failed = Vec::new();
    text.push('[');
    for (i, t) in texts.into_iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        match t {
            Ok(t) => text.push_str(&t),
            Err(e) => {
                text.push_str("null");
                failed.push((i, e));
            }
        }
    }
    text.push(']');
    (text, failed)
}

/// A key path from the core's own checks (`ticket.closed_at`, `fields[1]`) as a JavaScript
/// caller writes it; keys below a contact record (`record.ticket_numbers`) are field names
/// and stay. Paths from reading the caller's values are already as written and are not
/// respelt ([`crate::InvalidRequest`] says which it has).
pub fn path(key: &str) -> String {
    let mut in_record = false;
    let mut out = String::with_capacity(key.len());
    for (i, seg) in key.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        let mut up = false;
        for c in seg.chars() {
            match c {
                '_' if !in_record => up = true,
                c if up => {
                    out.push(c.to_ascii_uppercase());
                    up = false;
                }
                c => out.push(c),
            }
        }
        in_record |= seg == "record" || seg.ends_with("].record");
    }
    out
}

/// `office_country` → `officeCountry`. Field names are a fixed, small set, so each is
/// converted once per thread and kept.
pub fn name(field: &'static str) -> &'static str {
    if !field.contains('_') {
        return field;
    }
    thread_local! {
        static NAMES: RefCell<HashMap<&'static str, &'static str>> = RefCell::new(HashMap::new());
    }
    NAMES.with(|names| {
        *names.borrow_mut().entry(field).or_insert_with(|| {
            let mut out = String::with_capacity(field.len());
            let mut up = false;
            for c in field.chars() {
                if c == '_' {
                    up = true;
                } else {
                    out.push(if up { c.to_ascii_uppercase() } else { c });
                    up = false;
                }
            }
            Box::leak(out.into_boxed_str())
        })
    })
}

struct Renamed<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Renamed<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(CamelSer(s))
    }
}

struct CamelSer<S>(S);

/// A compound serializer whose elements are camelCased in turn.
struct Each<C>(C);

macro_rules! forward {
    ($($f:ident($($a:ident: $t:ty),*);)*) => {
        $(fn $f(self $(, $a: $t)*) -> Result<S::Ok, S::Error> { self.0.$f($($a),*) })*
    };
}

impl<S: Serializer> Serializer for CamelSer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Each<S::SerializeSeq>;
    type SerializeTuple = Each<S::SerializeTuple>;
    type SerializeTupleStruct = Each<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Each<S::SerializeTupleVariant>;
    type SerializeMap = Each<S::SerializeMap>;
    type SerializeStruct = Each<S::SerializeStruct>;
    type SerializeStructVariant = Each<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool); serialize_i8(v: i8); serialize_i16(v: i16);
        serialize_i32(v: i32); serialize_i64(v: i64); serialize_i128(v: i128);
        serialize_u8(v: u8); serialize_u16(v: u16); serialize_u32(v: u32);
        serialize_u64(v: u64); serialize_u128(v: u128); serialize_f32(v: f32);
        serialize_f64(v: f64); serialize_char(v: char); serialize_str(v: &str);
        serialize_bytes(v: &[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Renamed(v))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Renamed(v))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Renamed(v))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Each)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Each)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Each)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Each)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Each)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Each)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Each)
    }
}

macro_rules! elements {
    ($($tr:ident :: $f:ident),*) => {
        $(impl<C: ser::$tr> ser::$tr for Each<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $f<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
                self.0.$f(&Renamed(v))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        })*
    };
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<C: ser::SerializeMap> ser::SerializeMap for Each<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    /// A map's keys are data (field names, record keys): as they are.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), C::Error> {
        self.0.serialize_key(k)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Renamed(v))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

macro_rules! fields {
    ($($tr:ident),*) => {
        $(impl<C: ser::$tr> ser::$tr for Each<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), C::Error> {
                self.0.serialize_field(name(key), &Renamed(v))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.0.skip_field(name(key))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        })*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::{array, path, to_json_text};
    use crate::{Error, InvalidRequest};

    #[test]
    fn a_batch_array_keeps_every_result_in_its_place() {
        for n in [0, 1, 50, 257, 2_000] {
            let items: Vec<Result<u64, Error>> = (0..n)
                .map(|i| match i % 7 {
                    3 => Err(InvalidRequest::new(format!("[{i}]"), "bad").into()),
                    _ => Ok(i),
                })
                .collect();
            let (text, failed) = array(items);
            let got: Vec<Option<u64>> = serde_json::from_str(&text).unwrap();
            assert_eq!(got.len() as u64, n);
            for (i, v) in got.iter().enumerate() {
                assert_eq!(*v, (i % 7 != 3).then_some(i as u64), "item {i} of {n}");
            }
            let at: Vec<usize> = failed.iter().map(|(i, _)| *i).collect();
            assert_eq!(
                at,
                (0..n as usize).filter(|i| i % 7 == 3).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn core_key_paths_read_as_written_in_javascript() {
        assert_eq!(path("ticket.closed_at"), "ticket.closedAt");
        assert_eq!(path("fields[1]"), "fields[1]");
        assert_eq!(path("record.ticket_numbers"), "record.ticket_numbers");
        assert_eq!(
            path("[2].record.ticket_numbers"),
            "[2].record.ticket_numbers"
        );
        assert_eq!(path("peerSignals.ratio"), "peerSignals.ratio");
    }

    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct Inner {
        closed_at: Option<u8>,
    }

    #[derive(serde::Serialize)]
    struct Outer {
        would_enforce: BTreeMap<String, Inner>,
        list: Vec<Inner>,
    }

    #[test]
    fn struct_fields_are_camel_case_and_map_keys_are_kept() {
        let mut m = BTreeMap::new();
        m.insert("ticket_numbers".to_owned(), Inner { closed_at: Some(1) });
        let text = to_json_text(&Outer {
            would_enforce: m,
            list: vec![Inner { closed_at: None }],
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"wouldEnforce":{"ticket_numbers":{"closedAt":1}},"list":[{"closedAt":null}]}"#
        );
    }
}
