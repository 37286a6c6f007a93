//! A batch decided while it is still being read: a binding pushes each request as it
//! converts it (from a Python object, a JavaScript value) and the other cores decide the ones
//! already pushed meanwhile, so reading on the calling thread no longer waits in front of the
//! whole batch. Each employee's requests are decided in order, never two at once, so
//! velocity counts exactly as a loop of single calls would; the batch's audit records share
//! one fsync at [`Batch::finish`].

use super::decide::Pending;
use super::Gate;
use crate::decision::Decision;
use crate::error::{Error, InvalidRequest, Result};
use crate::model::AccessRequest;
use crate::pack::PolicyPack;
use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;

type Decided = Vec<(usize, Result<Pending>)>;

/// The cores this process may use, asked once: on Linux the answer reads the cgroup's CPU
/// quota (a dozen system calls, about 25 µs), which asked per `view` cost more than half the
/// view.
pub(crate) fn cores() -> usize {
    static CORES: once_cell::sync::Lazy<usize> =
        once_cell::sync::Lazy::new(|| std::thread::available_parallelism().map_or(1, usize::from));
    *CORES
}

/// Requests pushed one by one and decided by workers meanwhile; see the module docs.
pub struct Batch {
    gate: Gate,
    /// One pack for the whole batch, as for `decide_many`.
    pack: PolicyPack,
    queue: Arc<Queue>,
    /// Started as requests arrive, up to one per core but one: the calling thread reads
    /// meanwhile, then decides beside them in [`Batch::finish`] rather than wait.
    workers: Vec<JoinHandle<Decided>>,
    cores: usize,
    /// One per pushed item: the error it was pushed as, or `None` when a worker decides it.
    slots: Vec<Option<Error>>,
}

/// Each employee's pending requests, and the employees a worker may take: those with
/// requests pending and no worker on them. A worker takes all of one employee's pending
/// requests, in order, so one employee's requests are never decided on two threads at once
/// and velocity counts as a loop would; which worker takes which employee is whoever is
/// free first, so a core that runs slower takes fewer.
#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Default)]
struct State {
    pending: HashMap<String, VecDeque<(usize, AccessRequest)>>,
    /// Employees with requests pending and no worker on them, oldest first.
    ready: VecDeque<String>,
    /// Employees a worker is on.
    busy: HashSet<String>,
    /// No more requests will come.
    closed: bool,
}

impl Gate {
    /// A batch to push requests into as they are read, decided on all cores meanwhile.
    pub fn batch(&self) -> Batch {
        Batch {
            gate: self.clone(),
            pack: self.pack(),
            queue: Arc::default(),
            workers: Vec::new(),
            cores: cores(),
            slots: Vec::new(),
        }
    }
}

impl Batch {
    /// Adds the next item: a request to decide, or the error it failed to convert with
    /// (which stays in its slot).
    pub fn push(&mut self, item: Result<AccessRequest>) {
        let i = self.slots.len();
        let req = match item {
            Ok(req) => req,
            Err(e) => return self.slots.push(Some(e)),
        };
        if self.workers.len() < (self.cores - 1).min(i + 1) {
            let (gate, pack, queue) = (self.gate.clone(), self.pack.clone(), self.queue.clone());
            self.workers
                .push(std::thread::spawn(move || queue.work(&gate, &pack)));
        }
        let mut st = self.queue.state.lock();
        let employee = req.employee.id.clone();
        let waiting = st.pending.entry(employee.clone()).or_default();
        let was_empty = waiting.is_empty();
        waiting.push_back((i, req));
        if was_empty && !st.busy.contains(&employee) {
            st.ready.push_back(employee);
            self.queue.ready.notify_one();
        }
        drop(st);
        self.slots.push(None);
    }

    /// Waits for every decision, makes the batch's audit records durable (one fsync) and
    /// hands out one result per pushed item, in order.
    pub fn finish(mut self) -> Vec<Result<Decision>> {
        let mut decided: Vec<Option<Result<Pending>>> = std::iter::repeat_with(|| None)
            .take(self.slots.len())
            .collect();
        for (i, r) in self.join() {
            if let Some(slot) = decided.get_mut(i) {
                *slot = Some(r);
            }
        }
        let batch = std::mem::take(&mut self.slots)
            .into_iter()
            .zip(decided)
            .map(|(failed, r)| match (failed, r) {
                (Some(e), _) => Err(e),
                (None, Some(r)) => r,
                (None, None) => Err(InvalidRequest::new("", "no decision").into()),
            })
            .collect();
        self.gate.commit(batch)
    }

    /// Closes the queue, decides what is left beside the workers and takes their decisions;
    /// a panic on a worker resumes here.
    fn join(&mut self) -> Decided {
        self.queue.close();
        let mut all = self.queue.work(&self.gate, &self.pack);
        let mut panic = None;
        for w in self.workers.drain(..) {
            match w.join() {
                Ok(decided) => all.extend(decided),
                Err(p) => panic = Some(p),
            }
        }
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
        all
    }
}

impl Queue {
    /// No more requests will come: idle workers wake and stop once nothing is left.
    fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_all();
    }

    /// A worker: takes the next ready employee's pending requests and decides them in
    /// order, until the batch is closed and nothing is left.
    fn work(&self, gate: &Gate, pack: &PolicyPack) -> Decided {
        let mut done = Vec::new();
        let mut st = self.state.lock();
        loop {
            let Some(employee) = st.ready.pop_front() else {
                if st.closed {
                    return done;
                }
                self.ready.wait(&mut st);
                continue;
            };
            let mine = st.pending.remove(&employee).unwrap_or_default();
            st.busy.insert(employee.clone());
            drop(st);
            done.extend(
                mine.into_iter()
                    .map(|(i, req)| (i, gate.decide_unsynced(pack, &req))),
            );
            st = self.state.lock();
            st.busy.remove(&employee);
            // requests that arrived meanwhile: the employee is ready again
            if st.pending.get(&employee).is_some_and(|q| !q.is_empty()) {
                st.ready.push_back(employee);
            }
        }
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("items", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Batch {
    /// A batch dropped unfinished (its reading failed) lets its workers finish what was
    /// pushed: what they decided is never handed out (its audit records stand; velocity
    /// counted it).
    fn drop(&mut self) {
        self.queue.close();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
