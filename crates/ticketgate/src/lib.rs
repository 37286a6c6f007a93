#![doc = include_str!("../../../README.md")]
#![deny(missing_docs)]

mod alert;
pub mod audit;
mod cedar;
mod decision;
mod error;
pub mod forensics;
mod gate;
mod grant;
pub mod mask;
mod model;
mod pack;
#[cfg(feature = "redis")]
mod redis_store;
mod time;
pub mod vectors;
pub mod velocity;

pub use alert::{AlertSink, DeliveryStats};
pub use audit::{AuditLog, AuditOptions, Durability, Head};
pub use decision::{Alert, Decision, FieldDecision, Mode, Outcome, VelocityInfo};
pub use error::{
    AuditError, Error, InvalidRequest, PolicyDiagnostic, PolicyError, Result, StoreError,
};
pub use gate::{Gate, GateBuilder, View};
pub use grant::GrantKey;
pub use model::{
    AccessRequest, Customer, Employee, Grant, GrantKind, Purpose, Segment, SegmentOrDefault, Shift,
    Status, Ticket,
};
pub use pack::{PolicyPack, SourceFile};
#[cfg(feature = "redis")]
pub use redis_store::{redis_store, RedisOptions, RedisStore};
pub use time::Timestamp;
pub use velocity::{MemoryStore, Observation, Suspension, VelocityConfig, VelocityStore};
