//! The tamper-evident audit trail: the line format ([`record`]), where its files live
//! ([`segments`]), the writer, verification and forensic queries. Dependencies run one
//! way: `record` ← `segments` ← `checkpoint` ← `writer`; `verify` and `query` read through `segments`.

pub mod anomalies;
mod checkpoint;
pub mod in_force;
pub mod query;
pub mod record;
pub mod segments;
pub mod suspects;
pub mod verify;
mod writer;

pub use crate::detect::Severity;
pub use anomalies::{anomalies, Anomaly, AnomalyOptions};
pub use checkpoint::read_checkpoint;
pub use in_force::{in_force, InForce};
pub use query::{
    affected, check_complainants, check_period, customer_accesses, for_each_record, Access,
    Affected,
};
pub use record::{kind, ChainKey, Head, Record, GENESIS, MIN_KEY_BYTES};
pub use segments::{expand, Segment};
pub use suspects::{hypergeometric_tail, suspects, RevealIndex, Suspect};
pub use verify::{verify, ChainBreak, SegmentReport, VerifyOptions, VerifyReport};
pub use writer::{AuditLog, AuditOptions, Durability, Recovery};

#[cfg(test)]
mod tests;
