//! An operation of a binding whose answers cross as text (Node): its arguments read into the
//! core's types, by the binding's own host or from JSON text the binding vouches for, and
//! run to a result as camelCase JSON, or a decision's wire form ([`super::wire`]).

use super::camel::{self, CamelText, Texts};
use super::{finish_batch, push_items, view_item, wire, Call, Encode, Feed, ViewItem};
use crate::error::{Error, InvalidRequest};
use crate::gate::{Batch, Gate};
use crate::host::{from_host, variant_from_host, Host, Json, JsonHost, Keys, Strings};
use crate::model::AccessRequest;

/// Keys in camelCase, as JavaScript writes them (the contract's spelling is accepted too).
const CAMEL: Keys = Keys::CamelToo;

/// An operation read and ready to run.
#[derive(Debug)]
pub enum Work {
    /// `decide`.
    Decide(AccessRequest),
    /// `view`.
    View(ViewItem),
    /// `decide_many`, its requests pushed as they were read.
    DecideMany(Batch),
    /// `view_many`, its pairs pushed as they were read.
    ViewMany(Batch<ViewItem>),
    /// Any other operation.
    Call(Call),
    /// A batch given as parts of text.
    Fed(Feed),
    /// An operation and its arguments as JSON text not read yet (read where the work runs).
    Text(String, String),
}

/// A result as text.
#[derive(Debug)]
pub enum Done {
    /// One result: JSON, or a decision's wire form.
    One(String),
    /// A batch's results.
    Many(Texts),
}

/// A request, its errors' keys under `key`.
fn request<H: Host>(host: &H, v: &H::Value, key: &str) -> Result<AccessRequest, InvalidRequest> {
    from_host(host, v, key, CAMEL, Strings::PerKey)
}

/// A `[request, record]` pair, its errors' keys under `key`.
fn pair<H: Host>(host: &H, v: &H::Value, key: &str) -> Result<ViewItem, InvalidRequest> {
    view_item(host, v, key, CAMEL)
}

impl Work {
    /// Reads `op`'s arguments `args` by `host`.
    pub fn read<H: Host>(gate: &Gate, host: &H, op: &str, args: &H::Value) -> Result<Work, Error> {
        Ok(match op {
            "decide" => Work::Decide(request(host, args, "")?),
            "view" => Work::View(pair(host, args, "")?),
            "decide_many" => {
                let each = |v: &H::Value, key: &str| request(host, v, key);
                Work::DecideMany(push_items(gate.batch(), host, args, 0, each)?)
            }
            "view_many" => {
                let each = |v: &H::Value, key: &str| pair(host, v, key);
                Work::ViewMany(push_items(gate.view_batch(), host, args, 0, each)?)
            }
            _ => Work::Call(variant_from_host(host, op, args, CAMEL)?),
        })
    }

    /// A `decide_many` batch (`view_many` when `view`) to be given its items as parts of text,
    /// each item read as [`Work::read`] reads a batch's.
    pub fn feed(gate: &Gate, view: bool) -> Feed {
        if view {
            Feed::start(gate.view_batch(), |host, v, key| pair(host, v, key))
        } else {
            Feed::start(gate.batch(), |host, v, key| request(host, v, key))
        }
    }

    /// Runs the operation.
    pub fn run(self, gate: &Gate) -> Result<Done, Error> {
        let one = |r: Result<String, Error>| r.map(Done::One);
        match self {
            Work::Decide(r) => one(gate.decide(&r).and_then(|d| wire::decision(&d))),
            Work::View((r, rec)) => one(gate.view(&r, &rec).and_then(|v| CamelText.encode(&v))),
            // made where the batch ran: off the main thread for Node's `callAsync`
            Work::DecideMany(batch) => Ok(Done::Many(camel::array(finish_batch(batch)))),
            Work::ViewMany(batch) => Ok(Done::Many(camel::array(finish_batch(batch)))),
            Work::Call(c) => one(c.run(gate, &CamelText)),
            Work::Fed(f) => f.finish().map(Done::Many),
            Work::Text(op, text) => {
                // the binding sends text only for values its JSON writer writes whole
                let json = Json::parse(&text)
                    .ok_or_else(|| InvalidRequest::new("", "internal error: unreadable JSON"))?;
                Work::read(gate, &JsonHost::default(), &op, &&json)?.run(gate)
            }
        }
    }
}
