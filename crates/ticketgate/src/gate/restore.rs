//! Putting back, after a restart, what the velocity store forgot, from the gate's own trail.

use super::Gate;
use crate::audit;
use crate::clock::Clock;
use crate::error::Result;
use crate::grant::REVOCATION_KEEP_MS;
use crate::time::Timestamp;
use serde::Serialize;

/// What [`Gate::restore`] put back into the velocity store.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// Employees the trail leaves suspended, suspended again.
    pub suspended: Vec<String>,
    /// Grants revoked recently enough to be presented still, revoked again.
    pub revoked: Vec<String>,
    /// Employee and customer pairs with a reveal in the long velocity window, counted again.
    pub counted: u64,
    /// What was passed over, and where: a gap in the trail's numbering (a file archived
    /// away, records cut out), a line that is not a record, a file that cannot be read (what
    /// was recorded only there is not restored), and a reinstatement that does not verify
    /// under the audit key (not honoured, so the suspension it would lift stays). `verify`
    /// tells more.
    pub skipped: Vec<String>,
}

impl Gate {
    /// Whether this gate should [`restore`](Self::restore) before it decides: its velocity
    /// store keeps nothing across a restart (the memory store) and it has an audit trail to
    /// restore from. A SQLite or Redis store keeps its state itself, and restoring a shared
    /// store from this host's trail could bring back a suspension lifted on another host.
    pub fn needs_restore(&self) -> bool {
        self.inner.store.per_process() && self.inner.audit.is_some()
    }

    /// Restores from the gate's audit trail (every segment, other workers' included) what
    /// its velocity store forgot when the process restarted: the memory store keeps nothing,
    /// so a deploy would otherwise lift every suspension and revocation and start every
    /// employee's velocity windows empty. Call it once at startup, before deciding. It only
    /// adds: nothing the store holds is lifted, so a SQLite or Redis store, which keep their
    /// state, can be restored too (after losing it; a Redis store from a trail holding every
    /// host's segments, or a suspension lifted on another host comes back). The read is
    /// itself audited.
    pub fn restore(&self) -> Result<Restored> {
        let log = self.audit_read("ticketgate", "restore")?;
        let long_ms = self.inner.velocity.windows().long_ms;
        let now = match self.inner.clock.clock {
            Clock::Live => Some(Timestamp::now()),
            Clock::Replay => None,
        };
        let trail = audit::in_force(log.trail(), log.key(), long_ms, now)?;
        let reference = now.or(trail.latest).unwrap_or_else(Timestamp::now);
        let mut out = Restored {
            skipped: trail.skipped,
            ..Restored::default()
        };
        for (employee, (at, reason)) in trail.suspended {
            // known here first, as for `suspend`: this gate withholds even if the store fails
            self.inner
                .known_suspended
                .write()
                .insert(employee.clone(), reason.clone());
            self.inner.store.suspend(&employee, &reason, at)?;
            out.suspended.push(employee);
        }
        for (grant, at) in trail.revoked {
            let until = Timestamp::from_millis(at.millis().saturating_add(REVOCATION_KEEP_MS));
            if let Some(until) = until.filter(|u| *u > reference) {
                self.inner.store.revoke(&grant, until)?;
                out.revoked.push(grant);
            }
        }
        for ((employee, customer), at) in &trail.reveals {
            self.inner.store.record(employee, customer, *at, long_ms)?;
            out.counted += 1;
        }
        Ok(out)
    }
}
