//! The gate: takes an access request and decides each field, with velocity, grants,
//! suspensions, alerts and (when configured) the audit log.
//!
//! A request flows: [`decide`] checks it against the clock and the pack, verifies the
//! grant, admits it through the velocity store (which calls [`evaluate`] for each field
//! under the store's lock), applies the gate's own guards (suspension, shadow mode),
//! merges alerts ([`alerts`]), appends the audit record and dispatches alerts. [`view`]
//! applies a decision to a contact record with the same pack snapshot.

mod alerts;
mod batch;
mod builder;
mod decide;
mod evaluate;
mod grants;
mod restore;
mod view;

pub(crate) use batch::cores;
pub use batch::{Batch, BatchItem};
pub use builder::GateBuilder;
pub use decide::SUSPENDED_GUARD;
pub use restore::Restored;
pub(crate) use view::{check_value, mask_value};
pub use view::{View, ViewItem};

use crate::alert::{kinds, DeliveryStats, Dispatcher};
use crate::audit::{self, kind, AuditLog};
use crate::clock::ClockPolicy;
use crate::decision::{Alert, Mode};
use crate::error::{InvalidRequest, Result};
use crate::grant::GrantKeys;
use crate::model::Grant;
use crate::pack::PolicyPack;
use crate::time::Timestamp;
use crate::velocity::{Suspension, VelocityConfig, VelocityStore};
use cedar_policy::Authorizer;
use parking_lot::RwLock;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Decides, per contact field, what an employee may see. Cheap to clone and share.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    pack: RwLock<PolicyPack>,
    authorizer: Authorizer,
    store: Arc<dyn VelocityStore>,
    velocity: VelocityConfig,
    mode: Mode,
    clock: ClockPolicy,
    grant_keys: GrantKeys,
    alerts: Option<Dispatcher>,
    audit: Option<AuditLog>,
    /// Suspensions last read from the store: what the gate enforces while the store is down.
    known_suspended: RwLock<builder::Known>,
    canaries: std::collections::HashSet<String>,
    detector: crate::detect::Detector,
    decisions: AtomicU64,
    /// The process that made the gate, and the last process warned that it was forked from
    /// it with a per-process store.
    made_in: u32,
    fork_warned: AtomicU32,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("pack", &*self.inner.pack.read())
            .field("store", &self.inner.store)
            .field("velocity", &self.inner.velocity)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A builder with the defaults.
    pub fn builder() -> GateBuilder {
        GateBuilder::default()
    }

    /// The pack currently deciding.
    pub fn pack(&self) -> PolicyPack {
        self.inner.pack.read().clone()
    }

    /// Version of the pack currently deciding.
    pub fn policy_version(&self) -> String {
        self.inner.pack.read().version().to_owned()
    }

    /// Enforce or shadow.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The velocity limits in force.
    pub fn velocity_config(&self) -> VelocityConfig {
        self.inner.velocity
    }

    /// Swaps in a new pack atomically. Packs are validated when built, so an invalid
    /// pack never reaches here; use [`Gate::reload_dir`] to load and swap in one step.
    pub fn reload(&self, pack: PolicyPack) -> String {
        let v = pack.version().to_owned();
        *self.inner.pack.write() = pack;
        v
    }

    /// Loads a pack from a directory and swaps it in; on error the old pack keeps serving.
    pub fn reload_dir(&self, dir: impl AsRef<std::path::Path>) -> Result<String> {
        let pack = PolicyPack::from_dir(dir)?;
        Ok(self.reload(pack))
    }

    /// Suspends an employee (the kill switch): every field withheld, grants included, in
    /// every mode, on every gate sharing the store.
    pub fn suspend(&self, employee: &str, reason: &str) -> Result<()> {
        // keyed as the bindings' argument (`employee_id`, `employeeId`) names it
        crate::model::nonempty("employee_id", employee)?;
        // Known here first: even if the store write fails, this gate withholds.
        self.inner
            .known_suspended
            .write()
            .insert(employee.to_owned(), reason.to_owned());
        self.inner
            .store
            .suspend(employee, reason, Timestamp::now())?;
        if let Some(a) = &self.inner.audit {
            a.append_event(kind::SUSPEND, employee, reason)?;
        }
        Ok(())
    }

    /// Lifts a suspension; returns whether there was one.
    pub fn reinstate(&self, employee: &str) -> Result<bool> {
        let had = self.inner.store.reinstate(employee)?;
        self.inner.known_suspended.write().remove(employee);
        if let Some(a) = &self.inner.audit {
            a.append_event(kind::REINSTATE, employee, "")?;
        }
        Ok(had)
    }

    /// Current suspensions (and the gate's last-known list is refreshed from them).
    pub fn suspended(&self) -> Result<Vec<Suspension>> {
        let list = self.inner.store.suspended()?;
        *self.inner.known_suspended.write() = list
            .iter()
            .map(|s| (s.employee.clone(), s.reason.clone()))
            .collect();
        Ok(list)
    }

    /// Records a past reveal of `customer` to `employee` at `at`, so a restarted
    /// service (or a test) starts from the right velocity count.
    pub fn record_reveal(&self, employee: &str, customer: &str, at: Timestamp) -> Result<()> {
        Ok(self.inner.store.record(
            employee,
            customer,
            at,
            self.inner.velocity.windows().long_ms,
        )?)
    }

    /// Signs a grant as it is, without the issuing checks of [`Gate::request_grant`],
    /// [`Gate::approve_grant`] and [`Gate::issue_break_glass`]: for tests and for migrating
    /// grants issued elsewhere. The policies still decide whether it applies.
    pub fn sign_grant(&self, grant: Grant) -> Grant {
        self.inner.grant_keys.sign(grant)
    }

    /// Whether one of this gate's keys verifies the grant's signature.
    pub fn verify_grant(&self, grant: &Grant) -> bool {
        self.inner.grant_keys.verify(grant)
    }

    /// Alert deliveries that failed or were dropped.
    pub fn alert_stats(&self) -> Option<&DeliveryStats> {
        self.inner.alerts.as_ref().map(Dispatcher::stats)
    }

    /// Once in each process forked from the one that made this gate, while the velocity
    /// store is per process: an alert, since each worker then counts and suspends on its own
    /// (8 workers allow 8 times the hard limit, and a suspension reaches one worker).
    fn warn_if_forked(&self) {
        if !self.inner.store.per_process() {
            return;
        }
        let pid = std::process::id();
        if pid == self.inner.made_in || self.inner.fork_warned.swap(pid, Relaxed) == pid {
            return;
        }
        let message = format!(
            "process {pid} was forked from process {} that made the gate and counts velocity \
             and suspensions in memory on its own: use velocity_store=\"sqlite:///...\" (one \
             host) or a redis:// URL (a fleet)",
            self.inner.made_in
        );
        // on stderr, not only through `log`: a Python or Node host has no `log` logger, and
        // without an `on_alert` this misconfiguration would go unseen (gunicorn and PM2 keep
        // their workers' stderr)
        eprintln!("ticketgate: warning: {message}");
        if let Some(d) = &self.inner.alerts {
            d.send_event(Alert {
                kind: kinds::STORE_PER_PROCESS.into(),
                severity: crate::detect::severity(kinds::STORE_PER_PROCESS, 1),
                message,
                occurrence: 0,
            });
        }
    }

    /// Writes out and closes the audit log, when there is one: fsynced, its checkpoint
    /// published, its file and lock let go (a new gate may open it). Every clone of this gate
    /// shares the log: a decision after `close` is an `AuditError`, as no record can be kept.
    pub fn close(&self) -> Result<()> {
        if let Some(log) = &self.inner.audit {
            log.close()?;
        }
        Ok(())
    }

    /// The audit log, when configured.
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.inner.audit.as_ref()
    }

    /// Records the read as done by `reader` (who looks at the trail is part of the trail)
    /// and returns the log, whose [`AuditLog::trail`] holds the whole trail.
    fn audit_read(&self, reader: &str, query: &str) -> Result<&AuditLog> {
        let log = self
            .audit_log()
            .ok_or_else(|| InvalidRequest::new("audit_log", "this gate has no audit log"))?;
        log.append_event(kind::AUDIT_READ, reader, query)?;
        log.sync()?;
        Ok(log)
    }

    /// Customers with any field revealed to `employee` in `[since, until)`: the
    /// breach-notification list, over every segment. The read is itself audited.
    pub fn audit_affected(
        &self,
        reader: &str,
        employee: &str,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Vec<audit::Affected>> {
        audit::check_period(since, until)?;
        let log = self.audit_read(reader, &format!("affected employee={employee}"))?;
        Ok(audit::affected(log.trail(), employee, since, until)?)
    }

    /// Employees ranked by how unlikely their overlap with customers who reported scam
    /// contact is (see [`mod@audit::suspects`]). The read is itself audited.
    pub fn audit_suspects(
        &self,
        reader: &str,
        complainants: &[String],
        field: Option<&str>,
    ) -> Result<Vec<audit::Suspect>> {
        audit::check_complainants(complainants)?;
        let log = self.audit_read(
            reader,
            &format!(
                "suspects customers={} field={}",
                complainants.join(","),
                field.unwrap_or("any")
            ),
        )?;
        Ok(audit::suspects(
            log.trail(),
            complainants,
            field,
            None,
            None,
        )?)
    }

    /// Every decision about `customer`, over every segment. The read is itself audited.
    pub fn audit_customer(&self, reader: &str, customer: &str) -> Result<Vec<audit::Access>> {
        let log = self.audit_read(reader, &format!("customer {customer}"))?;
        Ok(audit::customer_accesses(log.trail(), customer)?)
    }
}
