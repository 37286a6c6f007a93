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
    /// Where the trail's numbering jumps (a file archived away, records cut out), passed
    /// over: anything recorded only there was not restored, and `verify` tells more.
    pub gaps: Vec<String>,
}

impl Gate {
    /// Restores from the gate's audit trail (every segment, other workers' included) what
    /// its velocity store forgot when the process restarted: the memory store keeps nothing,
    /// so a deploy would otherwise lift every suspension and revocation and start every
    /// employee's velocity windows empty. Call it once at startup, before deciding. It only
    /// adds: nothing the store holds is lifted, so a SQLite or Redis store, which keep their
    /// state, can be restored too (after losing it). The read is itself audited.
    pub fn restore(&self) -> Result<Restored> {
        let paths = self.audit_read("ticketgate", "restore")?;
        let long_ms = self.inner.velocity.windows().long_ms;
        let now = match self.inner.clock.clock {
            Clock::Live => Some(Timestamp::now()),
            Clock::Replay => None,
        };
        let trail = audit::in_force(&paths, long_ms, now)?;
        let reference = now.or(trail.latest).unwrap_or_else(Timestamp::now);
        let mut out = Restored {
            gaps: trail.gaps,
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
