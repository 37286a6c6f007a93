//! A batch decided while it is still being read: a binding pushes each item (a request, or
//! a request and the contact record it is for) as it converts it from a Python object or a
//! JavaScript value, and the other cores decide the ones already pushed meanwhile, so
//! reading on the calling thread no longer waits in front of the whole batch. Each
//! employee's requests are decided in order, never two at once, so velocity counts exactly
//! as a loop of single calls would; the batch's audit records share one fsync at
//! [`Batch::finish`].

use super::decide::Pending;
use super::view::{apply, check_record, View, ViewItem};
use super::Gate;
use crate::decision::Decision;
use crate::error::{Error, InvalidRequest, Result};
use crate::model::AccessRequest;
use crate::pack::PolicyPack;
use parking_lot::{Condvar, Mutex};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A worker's items, each with its index, what is kept of it and what deciding it gave.
type Decided<T> = Vec<(usize, <T as BatchItem>::Kept, Result<Pending>)>;

/// The cores this process may use, asked once: on Linux the answer reads the cgroup's CPU
/// quota (about fifteen system calls, some 40 µs), which asked per `view` was nearly half of
/// the view's time.
pub(crate) fn cores() -> usize {
    static CORES: once_cell::sync::Lazy<usize> =
        once_cell::sync::Lazy::new(|| std::thread::available_parallelism().map_or(1, usize::from));
    *CORES
}

/// What a batch decides, and what it hands out for it.
pub trait BatchItem: Send + 'static {
    /// A decision, or a view.
    type Out;
    /// What [`BatchItem::out`] needs of the item once it is decided (a view's record): the
    /// rest is dropped on the worker, not kept to the end of the batch.
    type Kept: Send + 'static;
    /// The request to decide.
    fn request(&self) -> &AccessRequest;
    /// Refuses the item before it is decided (and audited).
    fn check(&self, pack: &PolicyPack) -> Result<()>;
    /// What is kept of the item once it is decided.
    fn keep(self) -> Self::Kept;
    /// What the batch hands out once `decision` is durable.
    fn out(kept: Self::Kept, pack: &PolicyPack, decision: Decision) -> Self::Out;
}

impl BatchItem for AccessRequest {
    type Out = Decision;
    type Kept = ();
    fn request(&self) -> &AccessRequest {
        self
    }
    fn check(&self, _: &PolicyPack) -> Result<()> {
        Ok(())
    }
    fn keep(self) {}
    fn out((): (), _: &PolicyPack, decision: Decision) -> Decision {
        decision
    }
}

/// A request and the contact record its decision is applied to, as [`Gate::view`] does.
impl BatchItem for ViewItem {
    type Out = View;
    type Kept = Map<String, Value>;
    fn request(&self) -> &AccessRequest {
        &self.0
    }
    fn check(&self, pack: &PolicyPack) -> Result<()> {
        Ok(check_record(pack, &self.1)?)
    }
    fn keep(self) -> Map<String, Value> {
        self.1
    }
    fn out(record: Map<String, Value>, pack: &PolicyPack, decision: Decision) -> View {
        View {
            record: apply(pack, &decision, &record),
            decision,
        }
    }
}

/// Items pushed one by one and decided by workers meanwhile; see the module docs.
pub struct Batch<T: BatchItem = AccessRequest> {
    gate: Gate,
    /// One pack for the whole batch, as for `decide_many`.
    pack: PolicyPack,
    queue: Arc<Queue<T>>,
    /// Started as items arrive, up to one per core but one: the calling thread reads
    /// meanwhile, then decides beside them in [`Batch::finish`] rather than wait.
    workers: Vec<JoinHandle<Decided<T>>>,
    cores: usize,
    /// One per pushed item: the error it was pushed as, or `None` when a worker decides it.
    slots: Vec<Option<Error>>,
}

/// Each employee's pending items, and the employees a worker may take: those with items
/// pending and no worker on them. A worker takes all of one employee's pending items, in
/// order, so one employee's requests are never decided on two threads at once and velocity
/// counts as a loop would; which worker takes which employee is whoever is free first, so a
/// core that runs slower takes fewer.
struct Queue<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

struct State<T> {
    pending: HashMap<String, VecDeque<(usize, T)>>,
    /// Employees with items pending and no worker on them, oldest first.
    ready: VecDeque<String>,
    /// Employees a worker is on.
    busy: HashSet<String>,
    /// No more items will come.
    closed: bool,
}

impl Gate {
    /// A batch to push requests into as they are read, decided on all cores meanwhile.
    pub fn batch(&self) -> Batch {
        self.batch_of()
    }

    /// A batch of (request, contact record) pairs, viewed as [`Gate::view_many`] views them
    /// but decided while the pairs are still being pushed.
    pub fn view_batch(&self) -> Batch<ViewItem> {
        self.batch_of()
    }

    fn batch_of<T: BatchItem>(&self) -> Batch<T> {
        let state = State {
            pending: HashMap::new(),
            ready: VecDeque::new(),
            busy: HashSet::new(),
            closed: false,
        };
        Batch {
            gate: self.clone(),
            pack: self.pack(),
            queue: Arc::new(Queue {
                state: Mutex::new(state),
                ready: Condvar::new(),
            }),
            workers: Vec::new(),
            cores: cores(),
            slots: Vec::new(),
        }
    }
}

impl<T: BatchItem> Batch<T> {
    /// Adds the next item, or the error it failed to convert with (which stays in its slot).
    pub fn push(&mut self, item: Result<T>) {
        let i = self.slots.len();
        let item = match item {
            Ok(item) => item,
            Err(e) => return self.slots.push(Some(e)),
        };
        if self.workers.len() < (self.cores - 1).min(i + 1) {
            let (gate, pack, queue) = (self.gate.clone(), self.pack.clone(), self.queue.clone());
            self.workers
                .push(std::thread::spawn(move || queue.work(&gate, &pack)));
        }
        let mut st = self.queue.state.lock();
        let employee = item.request().employee.id.clone();
        let waiting = st.pending.entry(employee.clone()).or_default();
        let was_empty = waiting.is_empty();
        waiting.push_back((i, item));
        if was_empty && !st.busy.contains(&employee) {
            st.ready.push_back(employee);
            self.queue.ready.notify_one();
        }
        drop(st);
        self.slots.push(None);
    }

    /// Waits for every decision, makes the batch's audit records durable (one fsync) and
    /// hands out one result per pushed item, in order.
    pub fn finish(mut self) -> Vec<Result<T::Out>> {
        let mut decided: Vec<Option<(T::Kept, Result<Pending>)>> = std::iter::repeat_with(|| None)
            .take(self.slots.len())
            .collect();
        for (i, item, r) in self.join() {
            if let Some(slot) = decided.get_mut(i) {
                *slot = Some((item, r));
            }
        }
        let mut items = Vec::with_capacity(decided.len());
        let batch = std::mem::take(&mut self.slots)
            .into_iter()
            .zip(decided)
            .map(|(failed, d)| {
                let (item, r) = match (failed, d) {
                    (Some(e), _) => (None, Err(e)),
                    (None, Some((item, r))) => (Some(item), r),
                    (None, None) => (None, Err(InvalidRequest::new("", "no decision").into())),
                };
                items.push(item);
                r
            })
            .collect();
        let pack = &self.pack;
        self.gate
            .commit(batch)
            .into_iter()
            .zip(items)
            .map(|(d, item)| match (d, item) {
                (Ok(d), Some(kept)) => Ok(T::out(kept, pack, d)),
                (Err(e), _) => Err(e),
                (Ok(_), None) => Err(InvalidRequest::new("", "no item").into()),
            })
            .collect()
    }

    /// Closes the queue, decides what is left beside the workers and takes their decisions;
    /// a panic on a worker resumes here.
    fn join(&mut self) -> Decided<T> {
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

impl<T: BatchItem> Queue<T> {
    /// No more items will come: idle workers wake and stop once nothing is left.
    fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_all();
    }

    /// A worker: takes the next ready employee's pending items and decides them in order,
    /// until the batch is closed and nothing is left.
    fn work(&self, gate: &Gate, pack: &PolicyPack) -> Decided<T> {
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
            done.extend(mine.into_iter().map(|(i, item)| {
                let r = item
                    .check(pack)
                    .and_then(|()| gate.decide_unsynced(pack, item.request()));
                (i, item.keep(), r)
            }));
            st = self.state.lock();
            st.busy.remove(&employee);
            // items that arrived meanwhile: the employee is ready again
            if st.pending.get(&employee).is_some_and(|q| !q.is_empty()) {
                st.ready.push_back(employee);
            }
        }
    }
}

impl<T: BatchItem> std::fmt::Debug for Batch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("items", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl<T: BatchItem> Drop for Batch<T> {
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
