//! Alert delivery. Callbacks run on a dedicated thread behind a bounded queue, so a
//! callback that panics, raises or hangs can never break or slow a decision. The thread
//! is restarted in a process forked after the gate was made (threads do not survive
//! `fork()`), so a gate made at import time still delivers in every worker.

use crate::decision::{Alert, Decision};
use parking_lot::Mutex;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

/// The alert kinds the gate raises itself (policies name theirs with `@alert`).
pub mod kinds {
    /// Contact data asked for `support` without a ticket.
    pub const NO_TICKET: &str = "no_ticket";
    /// A request by a suspended employee.
    pub const SUSPENDED: &str = "suspended";
    /// The velocity count is at or above the soft limit.
    pub const VELOCITY_SOFT: &str = "velocity_soft";
    /// A grant whose signature does not verify.
    pub const GRANT_INVALID: &str = "grant_invalid";
    /// A revoked grant was presented.
    pub const GRANT_REVOKED: &str = "grant_revoked";
    /// A break-glass grant was presented.
    pub const BREAK_GLASS: &str = "break_glass";
    /// A canary customer's data was shown (revealed or masked).
    pub const CANARY: &str = "canary";
    /// The velocity store could not be reached.
    pub const STORE_UNAVAILABLE: &str = "store_unavailable";
    /// A process forked from the one that made the gate decides with a per-process store.
    pub const STORE_PER_PROCESS: &str = "store_per_process";
}

/// Receives every alert a gate raises.
pub trait AlertSink: Send + Sync {
    /// Called off the deciding thread, with the decision that raised it, for each alert that
    /// opens an episode (one employee, kind and UTC day) or raises its severity: not once
    /// per decision (see [`crate::detect`]).
    /// An `Err` (or a panic) is counted in [`DeliveryStats::failed`] and logged.
    fn alert(&self, decision: &Decision, alert: &Alert) -> Result<(), String>;

    /// Called for an alert raised outside a decision (a break-glass grant issued). The
    /// default drops it: it is in the audit trail either way.
    fn event(&self, _alert: &Alert) -> Result<(), String> {
        Ok(())
    }
}

impl<F: Fn(&Decision, &Alert) -> Result<(), String> + Send + Sync> AlertSink for F {
    fn alert(&self, decision: &Decision, alert: &Alert) -> Result<(), String> {
        self(decision, alert)
    }
}

/// Counts of alert deliveries that did not go through.
#[derive(Debug, Default, serde::Serialize)]
pub struct DeliveryStats {
    /// Alerts dropped because the queue was full (a slow or hung callback).
    pub dropped: AtomicU64,
    /// Callback invocations that panicked or raised.
    pub failed: AtomicU64,
    /// Alerts handed to the callback successfully.
    pub delivered: AtomicU64,
}

const QUEUE: usize = 10_000;

/// An alert, with the decision that raised it (none for an event outside a decision).
type Item = (Option<Arc<Decision>>, Alert);
type Queue = SyncSender<Item>;

pub(crate) struct Dispatcher {
    sink: Arc<dyn AlertSink>,
    /// The delivery thread's queue, and the process it runs in.
    tx: Mutex<(u32, Option<Queue>)>,
    stats: Arc<DeliveryStats>,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("stats", &self.stats)
            .finish()
    }
}

fn spawn(sink: Arc<dyn AlertSink>, stats: Arc<DeliveryStats>) -> Option<Queue> {
    let (tx, rx) = sync_channel::<Item>(QUEUE);
    // The thread ends when the dispatcher (the only sender) is dropped.
    let spawned = std::thread::Builder::new()
        .name("ticketgate-alerts".into())
        .spawn(move || {
            for (d, a) in rx {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &d {
                    Some(d) => sink.alert(d, &a),
                    None => sink.event(&a),
                }));
                let why = match run {
                    Ok(Ok(())) => {
                        stats.delivered.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Ok(Err(e)) => e,
                    Err(_) => "it panicked".to_owned(),
                };
                stats.failed.fetch_add(1, Ordering::Relaxed);
                log::warn!("ticketgate: alert callback failed for `{}`: {why}", a.kind);
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            log::error!("ticketgate: cannot start the alert thread ({e}); alerts stay in decisions and the audit log only");
            None
        }
    }
}

impl Dispatcher {
    pub(crate) fn new(sink: Arc<dyn AlertSink>) -> Self {
        let stats = Arc::new(DeliveryStats::default());
        let tx = spawn(sink.clone(), stats.clone());
        Self {
            sink,
            tx: Mutex::new((std::process::id(), tx)),
            stats,
        }
    }

    pub(crate) fn stats(&self) -> &DeliveryStats {
        &self.stats
    }

    pub(crate) fn send(&self, decision: &Decision) {
        // episodes, not decisions: an alert is delivered when it opens its episode or
        // raises its severity (see `crate::detect`); the trail keeps every one
        if !decision.alerts.iter().any(Alert::is_news) {
            return;
        }
        let d = Arc::new(decision.clone());
        for a in decision.alerts.iter().filter(|a| a.is_news()) {
            self.enqueue((Some(d.clone()), a.clone()));
        }
    }

    /// An alert raised outside a decision.
    pub(crate) fn send_event(&self, alert: Alert) {
        self.enqueue((None, alert));
    }

    fn enqueue(&self, item: Item) {
        let tx = {
            let mut guard = self.tx.lock();
            let pid = std::process::id();
            if guard.0 != pid {
                // forked: the parent's thread is not here; start this process's own
                *guard = (pid, spawn(self.sink.clone(), self.stats.clone()));
            }
            guard.1.clone()
        };
        let sent = tx.as_ref().map(|tx| tx.try_send(item));
        if !matches!(sent, Some(Ok(()))) {
            let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                log::warn!(
                    "ticketgate: alert queue full, {} alerts dropped so far (slow callback?)",
                    n + 1
                );
            }
        }
    }
}
