//! A batch whose items arrive as JSON text in parts. A binding that moves a batch as text
//! (Node) makes the text on its main thread; sent whole, nothing is decided until the last
//! item is written and the whole text parsed. Sent in parts, each part is parsed and its items
//! pushed on a reader thread while the binding makes the next, and the gate decides the
//! items already pushed meanwhile (about 10% off a 10,000-view `viewManyAsync` on 2 cores;
//! docs/benchmarks.md).

use super::camel::{self, Texts};
use super::{finish_batch, push_items};
use crate::error::{Error, InvalidRequest};
use crate::gate::{Batch, BatchItem};
use crate::host::{Json, JsonHost};
use serde::Serialize;
use std::sync::mpsc::{channel, Sender};
use std::thread::JoinHandle;

/// A batch being fed parts of its items as JSON text; see the module docs.
#[derive(Debug)]
pub struct Feed {
    parts: Sender<String>,
    reader: JoinHandle<Result<Texts, Error>>,
}

impl Feed {
    /// Starts the reader: each part's items are read with `read` (given the item and its key,
    /// `[i]` in the whole batch) and pushed into `batch`.
    pub(crate) fn start<T>(
        mut batch: Batch<T>,
        read: impl Fn(&JsonHost<'_>, &&Json<'_>, &str) -> Result<T, InvalidRequest> + Send + 'static,
    ) -> Feed
    where
        T: BatchItem,
        T::Out: Serialize + Send,
    {
        let (parts, received) = channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut n = 0;
            // an error here drops the batch: what was pushed is decided and audited, never
            // handed out, as when a Python iterable fails part-way
            for text in received {
                let bad = || {
                    InvalidRequest::new("", "internal error: a batch part that is not a JSON array")
                };
                let json = Json::parse(&text).ok_or_else(bad)?;
                let len = json.items().ok_or_else(bad)?.len();
                let host = JsonHost::default();
                batch = push_items(batch, &host, &&json, n, |v, key| read(&host, v, key))?;
                n += len;
            }
            // the reader decides beside the workers, as the calling thread does in `Batch::finish`
            Ok(camel::array(finish_batch(batch)))
        });
        Feed { parts, reader }
    }

    /// Hands over the next part, a JSON array of items; never waits.
    pub fn push(&self, part: String) {
        // the reader stops early only on an error, which `finish` reports
        let _ = self.parts.send(part);
    }

    /// Waits until every item is decided and durable: the results as [`camel::array`]
    /// writes them.
    pub fn finish(self) -> Result<Texts, Error> {
        drop(self.parts);
        self.reader
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}
