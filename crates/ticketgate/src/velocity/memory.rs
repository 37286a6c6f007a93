//! The default store: in process, sharded, bounded by the window.

use super::{Observation, Suspension, VelocityStore, Windows};
use crate::error::StoreError;
use crate::time::Timestamp;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

const SHARDS: usize = 32;

/// The default store: in process, sharded, bounded by the window.
pub struct MemoryStore {
    shards: Vec<Mutex<HashMap<String, Arc<Mutex<Window>>>>>,
    hasher: std::collections::hash_map::RandomState,
    suspensions: RwLock<HashMap<String, Suspension>>,
    /// grant id → until (ms)
    revoked: RwLock<HashMap<String, i64>>,
}

#[derive(Default)]
struct Window {
    /// customer → latest reveal (ms since epoch)
    seen: HashMap<String, i64>,
}

impl Window {
    fn prune(&mut self, at_ms: i64, window_ms: i64) {
        let cutoff = at_ms.saturating_sub(window_ms);
        self.seen.retain(|_, t| *t > cutoff);
    }

    fn touch(&mut self, customer: &str, at_ms: i64) {
        let t = self.seen.entry(customer.to_owned()).or_insert(at_ms);
        *t = (*t).max(at_ms);
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: Default::default(),
            suspensions: RwLock::new(HashMap::new()),
            revoked: RwLock::new(HashMap::new()),
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, employee: &str) -> &Mutex<HashMap<String, Arc<Mutex<Window>>>> {
        let i = usize::try_from(self.hasher.hash_one(employee) % SHARDS as u64).unwrap_or(0);
        // `shards` always has SHARDS entries
        self.shards.get(i).unwrap_or_else(|| self.first_shard())
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "shards is built with SHARDS > 0 entries"
    )]
    fn first_shard(&self) -> &Mutex<HashMap<String, Arc<Mutex<Window>>>> {
        &self.shards[0]
    }

    fn window(&self, employee: &str) -> Arc<Mutex<Window>> {
        self.shard(employee)
            .lock()
            .entry(employee.to_owned())
            .or_default()
            .clone()
    }

    /// Drops employees with nothing left in their window at `now_ms`.
    fn sweep_at(&self, now_ms: i64, window_ms: i64) {
        for shard in &self.shards {
            shard.lock().retain(|_, w| {
                if Arc::strong_count(w) > 1 {
                    return true;
                }
                let mut w = w.lock();
                w.prune(now_ms, window_ms);
                !w.seen.is_empty()
            });
        }
    }

    /// Employees currently tracked (for tests and metrics).
    pub fn tracked_employees(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

impl VelocityStore for MemoryStore {
    fn admit(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        windows: Windows,
        decide: &mut dyn FnMut(&Observation) -> bool,
    ) -> Result<Observation, StoreError> {
        let at_ms = at.millis();
        let suspended = self
            .suspensions
            .read()
            .get(employee)
            .map(|s| s.reason.clone());
        let cell = self.window(employee);
        let obs = {
            // Held across `decide`: this is what makes check-and-record atomic.
            let mut w = cell.lock();
            w.prune(at_ms, windows.long_ms);
            let short_cutoff = at_ms.saturating_sub(windows.short_ms);
            let in_short = |t: &i64| *t > short_cutoff;
            let day_counted = w.seen.contains_key(customer);
            let counted = w.seen.get(customer).is_some_and(in_short);
            let short = w.seen.values().filter(|t| in_short(t)).count() as u64;
            let obs = Observation {
                count: short - u64::from(counted),
                counted,
                day_count: w.seen.len() as u64 - u64::from(day_counted),
                day_counted,
                suspended,
            };
            if decide(&obs) {
                w.touch(customer, at_ms);
            }
            obs
        };
        Ok(obs)
    }

    fn record(
        &self,
        employee: &str,
        customer: &str,
        at: Timestamp,
        _window_ms: i64,
    ) -> Result<(), StoreError> {
        self.window(employee).lock().touch(customer, at.millis());
        Ok(())
    }

    fn suspend(&self, employee: &str, reason: &str, at: Timestamp) -> Result<(), StoreError> {
        self.suspensions.write().insert(
            employee.to_owned(),
            Suspension {
                employee: employee.to_owned(),
                reason: reason.to_owned(),
                at,
            },
        );
        Ok(())
    }

    fn reinstate(&self, employee: &str) -> Result<bool, StoreError> {
        Ok(self.suspensions.write().remove(employee).is_some())
    }

    fn suspended(&self) -> Result<Vec<Suspension>, StoreError> {
        let mut v: Vec<Suspension> = self.suspensions.read().values().cloned().collect();
        v.sort_by(|a, b| a.employee.cmp(&b.employee));
        Ok(v)
    }

    fn sweep(&self, now: Timestamp, window_ms: i64) {
        self.sweep_at(now.millis(), window_ms);
        self.revoked
            .write()
            .retain(|_, until| *until > now.millis());
    }

    fn revoke(&self, grant: &str, until: Timestamp) -> Result<(), StoreError> {
        self.revoked
            .write()
            .insert(grant.to_owned(), until.millis());
        Ok(())
    }

    fn per_process(&self) -> bool {
        true
    }

    fn is_revoked(&self, grant: &str, _now: Timestamp) -> Result<bool, StoreError> {
        Ok(self.revoked.read().contains_key(grant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn t(min: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + min * 60_000).unwrap()
    }

    const HOUR: i64 = 3_600_000;

    #[test]
    fn counts_distinct_customers_in_a_sliding_window() {
        let s = MemoryStore::new();
        for (i, c) in ["a", "b", "a", "c"].iter().enumerate() {
            s.admit("e", c, t(i as i64), HOUR.into(), &mut |_| true)
                .unwrap();
        }
        let o = s
            .admit("e", "d", t(10), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!((o.count, o.counted), (3, false));
        let o = s
            .admit("e", "a", t(10), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!((o.count, o.counted), (2, true));
        // `a` was re-revealed at minute 2, so at minute 61 only `a` and `c` remain
        let o = s
            .admit("e", "z", t(61), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!(o.count, 2);
        let o = s
            .admit("e", "z", t(63), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!(o.count, 0);
    }

    #[test]
    fn refused_reveals_are_not_recorded() {
        let s = MemoryStore::new();
        s.admit("e", "a", t(0), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!(
            s.admit("e", "b", t(1), HOUR.into(), &mut |_| false)
                .unwrap()
                .count,
            0
        );
    }

    #[test]
    fn sweep_forgets_idle_employees() {
        let s = MemoryStore::new();
        s.record("old", "a", t(0), HOUR).unwrap();
        s.record("new", "a", t(120), HOUR).unwrap();
        s.sweep(t(121), HOUR);
        assert_eq!(s.tracked_employees(), 1);
    }

    #[test]
    fn admit_is_atomic_under_threads() {
        let s = Arc::new(MemoryStore::new());
        let hard = 30;
        let admitted = Arc::new(AtomicU64::new(0));
        std::thread::scope(|scope| {
            for th in 0..8 {
                let s = s.clone();
                let admitted = admitted.clone();
                scope.spawn(move || {
                    for i in 0..50 {
                        let c = format!("c{th}-{i}");
                        s.admit("e", &c, t(0), HOUR.into(), &mut |o| {
                            let ok = o.counted || o.count < hard;
                            if ok {
                                admitted.fetch_add(1, Ordering::Relaxed);
                            }
                            ok
                        })
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(admitted.load(Ordering::Relaxed), hard);
    }

    #[test]
    fn suspensions() {
        let s = MemoryStore::new();
        s.suspend("e", "sold data", t(0)).unwrap();
        let o = s
            .admit("e", "a", t(1), HOUR.into(), &mut |_| false)
            .unwrap();
        assert_eq!(o.suspended.as_deref(), Some("sold data"));
        assert_eq!(s.suspended().unwrap().len(), 1);
        assert!(s.reinstate("e").unwrap());
        assert!(!s.reinstate("e").unwrap());
    }
}
