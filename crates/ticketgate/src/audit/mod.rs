//! The tamper-evident audit trail: the line format ([`record`]), where its files live
//! ([`segments`]), the writer, verification and forensic queries. Dependencies run one
//! way: `record` ← `segments` ← `writer` ← `verify`, `query`.

pub mod query;
pub mod record;
pub mod segments;
pub mod verify;
mod writer;

pub use query::{affected, customer_accesses, for_each_record, Access, Affected};
pub use record::{kind, ChainKey, Head, Record, GENESIS, MIN_KEY_BYTES};
pub use segments::{expand, Segment};
pub use verify::{verify, ChainBreak, SegmentReport, VerifyOptions, VerifyReport};
pub use writer::{read_checkpoint, AuditLog, AuditOptions, Durability, Recovery};

#[cfg(test)]
mod tests;
