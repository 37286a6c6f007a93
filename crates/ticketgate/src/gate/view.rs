//! Applying a decision to a contact record: revealed values as they are, masked values
//! masked, withheld values null, other keys untouched (a key is a field however it is cased
//! or separated). Deciding and masking use one pack snapshot, so a reload between the two
//! cannot mix packs.

use super::decide::parallel_map;
use super::Gate;
use crate::decision::{Decision, Outcome};
use crate::error::{InvalidRequest, Result};
use crate::mask;
use crate::model::AccessRequest;
use crate::pack::PolicyPack;
use serde_json::{Map, Value};

/// A contact record with the decision applied, and the decision itself.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct View {
    /// Revealed values as they are, masked values masked, withheld values null (also a
    /// masked value the masking rules cannot mask), keys that are not fields untouched; a key
    /// spelling a field with another case or separator (`ticketNumbers`) is that field.
    #[cfg_attr(feature = "typescript", ts(type = "Record<string, unknown>"))]
    pub record: Map<String, Value>,
    /// The decision that was applied (one decision, one audit record).
    pub decision: Decision,
}

/// A request and the contact record its decision is applied to.
pub type ViewItem = (AccessRequest, Map<String, Value>);

impl Gate {
    /// Decides `req` and applies the outcome to a contact record.
    pub fn view(&self, req: &AccessRequest, record: &Map<String, Value>) -> Result<View> {
        self.view_refs(&[(req, record)])
            .pop()
            .unwrap_or_else(|| Err(InvalidRequest::new("", "no view").into()))
    }

    /// [`Gate::view`] for many (request, record) pairs: one result per pair, in order, on
    /// all cores, with one fsync for the batch.
    pub fn view_many(&self, items: &[ViewItem]) -> Vec<Result<View>> {
        let refs: Vec<(&AccessRequest, &Map<String, Value>)> =
            items.iter().map(|(r, m)| (r, m)).collect();
        self.view_refs(&refs)
    }

    /// Both of the above, on borrowed pairs so a single view copies nothing.
    fn view_refs(&self, items: &[(&AccessRequest, &Map<String, Value>)]) -> Vec<Result<View>> {
        let pack = self.pack();
        let pending = parallel_map(
            items,
            |(req, _)| req.employee.id.as_str(),
            |(req, rec)| {
                check_record(&pack, rec)?;
                self.decide_unsynced(&pack, req)
            },
        );
        self.commit(pending)
            .into_iter()
            .zip(items)
            .map(|(d, (_, rec))| {
                d.map(|decision| View {
                    record: apply(&pack, &decision, rec),
                    decision,
                })
            })
            .collect()
    }
}

/// The field a record key holds: the field spelled exactly, else spelled with another case
/// or with `_`, `-` and spaces put elsewhere (`ticketNumbers`, `TICKET-NUMBERS`, `Phone`,
/// `e-mail`, `Ticket Numbers`). A JavaScript record naturally says `ticketNumbers`, a record
/// keyed by display labels `Ticket Numbers`; taking such a key for "not a field" would show
/// a withheld value in full.
fn field_of<'p>(pack: &'p PolicyPack, key: &str) -> Option<&'p str> {
    let fields = pack.fields();
    let same = |f: &&String| {
        let mut k = key.bytes().filter(|b| !matches!(b, b'_' | b'-' | b' '));
        let mut f = f.bytes().filter(|b| !matches!(b, b'_' | b'-' | b' '));
        loop {
            match (k.next(), f.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if a.eq_ignore_ascii_case(&b) => {}
                _ => return false,
            }
        }
    };
    let exact = fields.iter().find(|f| f.as_str() == key);
    exact
        .or_else(|| fields.iter().find(same))
        .map(String::as_str)
}

pub(super) fn check_record(
    pack: &PolicyPack,
    record: &Map<String, Value>,
) -> Result<(), InvalidRequest> {
    for (key, v) in record {
        if field_of(pack, key).is_some() {
            check_value(v, || format!("record.{key}"))?;
        }
    }
    Ok(())
}

/// Refuses a field's value that [`mask_value`] cannot take, naming it `key` (made only then).
pub(crate) fn check_value(v: &Value, key: impl Fn() -> String) -> Result<(), InvalidRequest> {
    match v {
        Value::Null | Value::String(_) => Ok(()),
        Value::Array(items) => match items.iter().position(|i| !i.is_string()) {
            None => Ok(()),
            Some(i) => Err(InvalidRequest::new(
                format!("{}[{i}]", key()),
                "must be a string",
            )),
        },
        _ => Err(InvalidRequest::new(
            key(),
            "must be a string, a list of strings or null",
        )),
    }
}

/// A field's value masked: a string, or each string of a list (a record's ticket numbers);
/// null wherever the masking rules cannot mask.
pub(crate) fn mask_value(field: &str, v: Value) -> Value {
    match v {
        Value::String(s) => mask::mask_str(field, &s).map_or(Value::Null, Value::String),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::String(_) => mask_value(field, item),
                    _ => Value::Null,
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

pub(super) fn apply(
    pack: &PolicyPack,
    d: &Decision,
    record: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = record.clone();
    for (key, v) in out.iter_mut() {
        let Some(f) = field_of(pack, key) else {
            continue;
        };
        match d.outcome(f) {
            Outcome::Reveal => {}
            Outcome::Withhold => *v = Value::Null,
            Outcome::Mask => *v = mask_value(f, v.take()),
        }
    }
    out
}
