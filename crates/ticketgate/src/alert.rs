//! Alert delivery. Callbacks run on a dedicated thread behind a bounded queue, so a
//! callback that panics, raises or hangs can never break or slow a decision.

use crate::decision::{Alert, Decision};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;

/// Receives every alert a gate raises.
pub trait AlertSink: Send + Sync {
    /// Called once per alert, off the deciding thread, with the decision that raised it.
    /// An `Err` (or a panic) is counted in [`DeliveryStats::failed`] and reported on stderr.
    fn alert(&self, decision: &Decision, alert: &Alert) -> Result<(), String>;
}

impl<F: Fn(&Decision, &Alert) -> Result<(), String> + Send + Sync> AlertSink for F {
    fn alert(&self, decision: &Decision, alert: &Alert) -> Result<(), String> {
        self(decision, alert)
    }
}

/// Counts of alert deliveries that did not go through.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    /// Alerts dropped because the queue was full (a slow or hung callback).
    pub dropped: AtomicU64,
    /// Callback invocations that panicked or raised.
    pub failed: AtomicU64,
}

const QUEUE: usize = 10_000;

pub(crate) struct Dispatcher {
    tx: SyncSender<(Arc<Decision>, Alert)>,
    pub(crate) stats: Arc<DeliveryStats>,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("stats", &self.stats)
            .finish()
    }
}

impl Dispatcher {
    pub(crate) fn new(sink: Arc<dyn AlertSink>) -> Self {
        let (tx, rx) = sync_channel::<(Arc<Decision>, Alert)>(QUEUE);
        let stats = Arc::new(DeliveryStats::default());
        let st = stats.clone();
        // The thread ends when the gate (the only sender) is dropped.
        let spawned = std::thread::Builder::new()
            .name("ticketgate-alerts".into())
            .spawn(move || {
                for (d, a) in rx {
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        sink.alert(&d, &a)
                    }));
                    let why = match run {
                        Ok(Ok(())) => continue,
                        Ok(Err(e)) => e,
                        Err(_) => "it panicked".to_owned(),
                    };
                    st.failed.fetch_add(1, Ordering::Relaxed);
                    eprintln!("ticketgate: alert callback failed for `{}`: {why}", a.kind);
                }
            });
        if spawned.is_err() {
            eprintln!("ticketgate: could not start the alert thread; alerts stay in decisions and the audit log only");
        }
        Self { tx, stats }
    }

    pub(crate) fn send(&self, decision: &Decision) {
        if decision.alerts.is_empty() {
            return;
        }
        let d = Arc::new(decision.clone());
        for a in &decision.alerts {
            match self.tx.try_send((d.clone(), a.clone())) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    let n = self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    if n.is_power_of_two() {
                        eprintln!("ticketgate: alert queue full, {} alerts dropped so far (slow callback?)", n + 1);
                    }
                }
            }
        }
    }
}
