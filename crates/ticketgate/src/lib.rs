#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod alert;
pub mod audit;
mod cedar;
mod clock;
mod decision;
pub mod detect;
mod error;
pub mod ffi;
mod gate;
mod grant;
pub mod host;
pub mod limits;
pub mod mask;
mod model;
mod pack;
mod plan;
mod shift;
mod time;
pub mod vectors;
pub mod velocity;

pub use alert::{kinds as alert_kinds, AlertSink, DeliveryStats};
pub use audit::{AuditLog, AuditOptions, ChainKey, Durability, Head};
pub use clock::Clock;
pub use decision::{Alert, DayCount, Decision, FieldDecision, Mode, Outcome, VelocityInfo};
pub use detect::{PeerSignals, Severity};
pub use error::{
    AuditError, Error, InvalidRequest, PolicyDiagnostic, PolicyError, Result, StoreError,
};
pub use ffi::GateOptions;
pub use gate::{Batch, BatchItem, Gate, GateBuilder, Restored, View, ViewItem, SUSPENDED_GUARD};
pub use grant::{GrantKey, GrantKeys};
pub use model::{
    AccessRequest, Customer, Employee, Grant, GrantKind, Intent, Purpose, Segment, Shift, Status,
    Ticket, Weekly,
};
pub use pack::{PolicyPack, SourceFile};
pub use time::Timestamp;
#[cfg(feature = "sqlite")]
pub use velocity::SqliteStore;
#[cfg(feature = "redis")]
pub use velocity::{redis_store, RedisOptions, RedisStore};
pub use velocity::{
    store_from_url, DayLimits, MemoryStore, Observation, Suspension, VelocityConfig, VelocityStore,
    Windows,
};
