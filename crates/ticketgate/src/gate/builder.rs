//! Building a gate: every setting checked once, here, whoever builds it (Rust, the
//! bindings through [`crate::GateOptions`], or the CLI).

use super::{Gate, Inner};
use crate::alert::{AlertSink, Dispatcher};
use crate::audit::{AuditLog, AuditOptions};
use crate::clock::{Clock, ClockPolicy};
use crate::decision::Mode;
use crate::detect::{Detector, PeerSignals};
use crate::error::{InvalidRequest, Result};
use crate::grant::{GrantKey, GrantKeys};
use crate::pack::PolicyPack;
use crate::velocity::{MemoryStore, VelocityConfig, VelocityStore};
use cedar_policy::Authorizer;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Gate`].
#[derive(Default)]
pub struct GateBuilder {
    pack: Option<PolicyPack>,
    store: Option<Arc<dyn VelocityStore>>,
    velocity: VelocityConfig,
    mode: Mode,
    clock: ClockPolicy,
    grant_keys: Option<GrantKeys>,
    sink: Option<Arc<dyn AlertSink>>,
    audit: Option<AuditOptions>,
    canaries: std::collections::HashSet<String>,
    peer_signals: PeerSignals,
}

impl fmt::Debug for GateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateBuilder").finish_non_exhaustive()
    }
}

impl GateBuilder {
    /// The policy pack (default: the embedded pack).
    pub fn pack(mut self, pack: PolicyPack) -> Self {
        self.pack = Some(pack);
        self
    }

    /// Where velocity counts and suspensions live (default: in memory).
    pub fn store(mut self, store: Arc<dyn VelocityStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Velocity window and limits (default: 60 min, soft 15, hard 30).
    pub fn velocity(mut self, config: VelocityConfig) -> Self {
        self.velocity = config;
        self
    }

    /// Enforce (default) or shadow: compute, audit and alert, but refuse nothing (except to
    /// a suspended employee, who gets nothing in any mode).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Live (default) or replay clock.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock.clock = clock;
        self
    }

    /// How far ahead of the gate's clock `at` (and ticket times after `at`) may be (30 s;
    /// at most an hour).
    pub fn max_skew(mut self, d: Duration) -> Self {
        self.clock.max_skew = d;
        self
    }

    /// How far behind the gate's clock a live request's `at` may be (10 min; at most a day).
    pub fn max_age(mut self, d: Duration) -> Self {
        self.clock.max_age = d;
        self
    }

    /// Key that signs and verifies grants (default: random, this process only).
    pub fn grant_key(mut self, key: GrantKey) -> Self {
        self.grant_keys = Some(GrantKeys::from_one(key));
        self
    }

    /// Keys for rotation: the first signs, every one verifies.
    pub fn grant_keys(mut self, keys: GrantKeys) -> Self {
        self.grant_keys = Some(keys);
        self
    }

    /// Receives every alert, off the deciding thread.
    pub fn on_alert(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Canary customers: decoy records no legitimate work touches. Any reveal or mask of one
    /// raises a `canary` alert. Kept in the gate's configuration, never in a request.
    pub fn canaries(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.canaries = ids.into_iter().collect();
        self
    }

    /// Thresholds of the live peer signals `reveal_volume` and `self_assigned` (see
    /// [`crate::detect`]).
    pub fn peer_signals(mut self, signals: PeerSignals) -> Self {
        self.peer_signals = signals;
        self
    }

    /// Records every decision in a hash-chained audit log.
    pub fn audit_log(mut self, options: AuditOptions) -> Self {
        self.audit = Some(options);
        self
    }

    /// Builds the gate; fails when a setting is unusable.
    pub fn build(self) -> Result<Gate> {
        let v = self.velocity;
        if let Some((key, problem)) = v.problem() {
            return Err(InvalidRequest::new(key, problem).into());
        }
        if let Some((key, problem)) = self.clock.problem() {
            return Err(InvalidRequest::new(key, problem).into());
        }
        let p = self.peer_signals;
        if let Some(problem) = p.problem() {
            return Err(InvalidRequest::new("peer_signals.ratio", problem).into());
        }
        let audit = self.audit.map(AuditLog::open).transpose()?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        // Seed the last-known suspensions, so an outage from the first decision on still
        // withholds everything from those already suspended.
        let known = store
            .suspended()
            .map(|l| l.into_iter().map(|s| (s.employee, s.reason)).collect())
            .unwrap_or_default();
        Ok(Gate {
            inner: Arc::new(Inner {
                pack: RwLock::new(self.pack.unwrap_or_default()),
                authorizer: Authorizer::new(),
                store,
                velocity: v,
                mode: self.mode,
                clock: self.clock,
                grant_keys: self.grant_keys.unwrap_or_else(GrantKeys::random),
                alerts: self.sink.map(Dispatcher::new),
                audit,
                known_suspended: RwLock::new(known),
                canaries: self.canaries,
                detector: Detector::new(p),
                decisions: AtomicU64::new(0),
                made_in: std::process::id(),
                fork_warned: Default::default(),
            }),
        })
    }
}

pub(crate) type Known = HashMap<String, String>;
