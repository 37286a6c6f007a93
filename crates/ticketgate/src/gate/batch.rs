//! A batch decided while it is still being read: a binding pushes each request as it
//! converts it (from a Python object, a JavaScript value) and the other cores decide the ones
//! already pushed meanwhile, so reading on the calling thread no longer waits in front of the
//! whole batch. Each employee's requests go to one lane, in order, so velocity counts exactly
//! as a loop of single calls would; the batch's audit records share one fsync at
//! [`Batch::finish`].

use super::decide::Pending;
use super::Gate;
use crate::decision::Decision;
use crate::error::{Error, InvalidRequest, Result};
use crate::model::AccessRequest;
use crate::pack::PolicyPack;
use std::collections::HashMap;
use std::sync::mpsc;
use std::thread::JoinHandle;

type Decided = Vec<(usize, Result<Pending>)>;

/// Requests pushed one by one and decided on lanes meanwhile; see the module docs.
pub struct Batch {
    gate: Gate,
    /// One pack for the whole batch, as for `decide_many`.
    pack: PolicyPack,
    lanes: Vec<Lane>,
    lane_of: HashMap<String, usize>,
    /// One per pushed item: the error it was pushed as, or `None` when a lane decides it.
    slots: Vec<Option<Error>>,
}

#[derive(Default)]
struct Lane {
    tx: Option<mpsc::Sender<(usize, AccessRequest)>>,
    worker: Option<JoinHandle<Decided>>,
    load: usize,
}

impl Gate {
    /// A batch to push requests into as they are read, decided on all cores meanwhile.
    pub fn batch(&self) -> Batch {
        let lanes = std::thread::available_parallelism().map_or(1, usize::from);
        Batch {
            gate: self.clone(),
            pack: self.pack(),
            lanes: std::iter::repeat_with(Lane::default).take(lanes).collect(),
            lane_of: HashMap::new(),
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
        // an employee seen before keeps their lane; a new one goes to the least loaded
        let lane = match self.lane_of.get(&req.employee.id) {
            Some(&lane) => lane,
            None => {
                let lane = (0..self.lanes.len())
                    .min_by_key(|l| self.lanes.get(*l).map_or(0, |l| l.load))
                    .unwrap_or(0);
                self.lane_of.insert(req.employee.id.clone(), lane);
                lane
            }
        };
        let sent = match self.lanes.get_mut(lane) {
            Some(l) => {
                l.load += 1;
                l.sender(&self.gate, &self.pack).send((i, req)).is_ok()
            }
            None => false,
        };
        self.slots.push(if sent {
            None
        } else {
            Some(InvalidRequest::new("", "the batch's lane stopped").into())
        });
    }

    /// Waits for every decision, makes the batch's audit records durable (one fsync) and
    /// hands out one result per pushed item, in order.
    pub fn finish(mut self) -> Vec<Result<Decision>> {
        let mut decided: Vec<Option<Result<Pending>>> = std::iter::repeat_with(|| None)
            .take(self.slots.len())
            .collect();
        for lane in &mut self.lanes {
            for (i, r) in lane.join() {
                if let Some(slot) = decided.get_mut(i) {
                    *slot = Some(r);
                }
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
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("items", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Lane {
    /// The lane's sender, starting its thread on its first request.
    fn sender(&mut self, gate: &Gate, pack: &PolicyPack) -> &mpsc::Sender<(usize, AccessRequest)> {
        self.tx.get_or_insert_with(|| {
            let (tx, rx) = mpsc::channel::<(usize, AccessRequest)>();
            let (gate, pack) = (gate.clone(), pack.clone());
            self.worker = Some(std::thread::spawn(move || {
                rx.into_iter()
                    .map(|(i, req)| (i, gate.decide_unsynced(&pack, &req)))
                    .collect()
            }));
            tx
        })
    }

    /// Closes the lane and takes its decisions; a panic on the lane resumes here.
    fn join(&mut self) -> Decided {
        self.tx = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(decided)) => decided,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Vec::new(),
        }
    }
}

impl Drop for Batch {
    /// A batch dropped unfinished (its reading failed) stops its lanes: what they decided
    /// is never handed out (its audit records stand; velocity counted it).
    fn drop(&mut self) {
        for lane in &mut self.lanes {
            lane.tx = None;
            if let Some(w) = lane.worker.take() {
                let _ = w.join();
            }
        }
    }
}
