//! The append-only writer: one writer per file (an exclusive lock), group commit, rotation,
//! checkpoints, and a fresh segment per process when the log is a directory.

use super::checkpoint::{checkpoint_path, read_checkpoint, write_checkpoint};
use super::record::{self, ChainKey, DecisionRecord, EventRecord, Head};
use super::segments::{self, check_regular, err};
use crate::decision::Decision;
use crate::error::AuditError;
use crate::model::AccessRequest;
use crate::time::Timestamp;
use parking_lot::{Condvar, Mutex, MutexGuard};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// When a record counts as written.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// fsync'ed before the call returns (concurrent callers and batches share one fsync).
    #[default]
    Always,
    /// Written before the call returns, fsync'ed at most every `batch_ms`.
    Batched,
    /// Written before the call returns; the OS decides when it reaches the disk.
    None,
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "always" => Ok(Self::Always),
            "batched" => Ok(Self::Batched),
            "none" => Ok(Self::None),
            _ => Err(format!(
                "unknown durability `{s}`; expected always, batched or none"
            )),
        }
    }
}

/// How to open an audit log.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// A file (one writer: a second one gets `AuditError`), or an existing directory (or a
    /// path ending in `/`), where each gate writes its own segment `<host>-<pid>-<start>.jsonl`.
    pub path: PathBuf,
    /// When records count as written.
    pub durability: Durability,
    /// fsync interval for `Batched`.
    pub batch_ms: u64,
    /// Rotate once the live file reaches this many bytes.
    pub rotate_bytes: Option<u64>,
    /// Rotate when the UTC day changes.
    pub rotate_daily: bool,
    /// After every fsync the head (`SEQ:HASH`) is written here, atomically and durably; on
    /// open a log behind it is refused. A directory when `path` is one (a head per
    /// segment). Keep it where whoever can cut the log cannot write.
    pub checkpoint: Option<PathBuf>,
    /// Chain records with HMAC-SHA256 under this key instead of plain SHA-256.
    pub key: ChainKey,
    #[cfg(test)]
    pub(crate) fail_on_write: Option<u64>,
}

impl AuditOptions {
    /// `always` durability, no rotation, no checkpoint, plain SHA-256 chain.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Always,
            batch_ms: 50,
            rotate_bytes: None,
            rotate_daily: false,
            checkpoint: None,
            key: ChainKey::plain(),
            #[cfg(test)]
            fail_on_write: None,
        }
    }

    /// Writes the head to `path` after every fsync.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Sets the durability.
    pub fn durability(mut self, d: Durability) -> Self {
        self.durability = d;
        self
    }

    /// Rotates by size.
    pub fn rotate_bytes(mut self, n: u64) -> Self {
        self.rotate_bytes = Some(n);
        self
    }

    /// Rotates by UTC day.
    pub fn rotate_daily(mut self, on: bool) -> Self {
        self.rotate_daily = on;
        self
    }

    /// Chains records with HMAC-SHA256 under `key`.
    pub fn key(mut self, key: ChainKey) -> Self {
        self.key = key;
        self
    }

    fn is_dir(&self) -> bool {
        self.path.is_dir() || self.path.as_os_str().to_string_lossy().ends_with('/')
    }
}

/// What opening a log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of an incomplete last write that were set aside.
    pub torn_bytes: u64,
    /// Where they were set aside.
    pub torn_file: Option<PathBuf>,
}

/// The file a segment is written to; a seam so tests can make writes fail.
trait SegmentFile: Send {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    fn sync_data(&mut self) -> std::io::Result<()>;
    fn file(&self) -> &File;
}

impl SegmentFile for File {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        Write::write_all(self, bytes)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        File::sync_data(self)
    }
    fn file(&self) -> &File {
        self
    }
}

/// Refuses to call records durable when `live` no longer names the file they went to: an
/// insider who deletes or replaces the live file under a running gate would otherwise have
/// every later record written into an unlinked inode, gone when the process exits, while
/// their reveals go on. Checked at each fsync (a group commit, or the `batched` tick).
fn still_at(file: &File, live: &Path) -> std::io::Result<()> {
    // followed, as opening followed it: a log reached through a link stays usable
    let named = match std::fs::metadata(live) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(std::io::Error::other(
            "the live file was deleted under the gate (records written since are not in the trail)",
        )),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        let open = file.metadata()?;
        (open.dev(), open.ino()) == (named.dev(), named.ino())
    };
    #[cfg(not(unix))]
    let same = named.is_file() && file.metadata().is_ok();
    if same {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "the live file was replaced under the gate (records written since are not in the trail)",
        ))
    }
}

#[cfg(test)]
struct FailingFile {
    inner: File,
    writes_left: u64,
}

#[cfg(test)]
impl SegmentFile for FailingFile {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.writes_left == 0 {
            return Err(std::io::Error::other("injected write failure"));
        }
        self.writes_left -= 1;
        Write::write_all(&mut self.inner, bytes)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.inner.sync_data()
    }
    fn file(&self) -> &File {
        &self.inner
    }
}

/// Why a closed log refuses to write.
const CLOSED: &str = "the gate was closed; make a new one to write again";

struct State {
    /// Out of the state while a group commit writes it without holding the lock.
    file: Option<Box<dyn SegmentFile>>,
    /// The live file of this writer's chain.
    live: PathBuf,
    /// The process that opened it: after `fork()` the child must not write through it.
    pid: u32,
    size: u64,
    day: Option<chrono::NaiveDate>,
    head: Head,
    buffer: Vec<u8>,
    buffered_upto: u64,
    durable_upto: u64,
    checkpointed_upto: u64,
    flushing: bool,
    broken: Option<String>,
}

impl State {
    /// A writer's state right after opening `live`, whose head is `head`.
    fn opened(file: Box<dyn SegmentFile>, live: PathBuf, size: u64, head: Head) -> Self {
        let seq = head.seq;
        State {
            file: Some(file),
            live,
            pid: std::process::id(),
            size,
            day: None,
            head,
            buffer: Vec::new(),
            buffered_upto: seq,
            durable_upto: seq,
            checkpointed_upto: seq,
            flushing: false,
            broken: None,
        }
    }
}

struct Shared {
    opts: AuditOptions,
    state: Mutex<State>,
    flushed: Condvar,
    recovery: Recovery,
    /// Writes made durable (fsynced) since the log was opened.
    syncs: AtomicU64,
}

/// An open, append-only audit log. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog(Arc<Shared>);

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.0.opts.path)
            .field("durability", &self.0.opts.durability)
            .finish()
    }
}

struct Opened {
    file: File,
    size: u64,
    head: Head,
    recovery: Recovery,
}

/// Opens `live` for appending under an exclusive lock and finds its head from the tail,
/// without reading the whole file.
fn open_live(live: &Path, key: &ChainKey) -> Result<Opened, AuditError> {
    check_regular(live)?;
    let mut file = segments::private_file()
        .create(true)
        .read(true)
        .append(true)
        .open(live)
        .map_err(|e| err(live, format!("cannot open: {e}")))?;
    check_regular(live)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(err(
                live,
                "another writer holds this log (another process, or a gate made before a fork); \
                 give audit_log a directory so that each process writes its own segment",
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(err(live, format!("cannot lock: {e}"))),
    }
    let mut recovery = Recovery::default();
    let mut len = file
        .seek(SeekFrom::End(0))
        .map_err(|e| err(live, format!("cannot seek: {e}")))?;
    let good_end = segments::complete_prefix_len(&mut file, len)
        .map_err(|e| err(live, format!("cannot read: {e}")))?;
    if good_end < len {
        let mut torn = Vec::new();
        file.seek(SeekFrom::Start(good_end))
            .and_then(|_| {
                Read::by_ref(&mut file)
                    .take(len - good_end)
                    .read_to_end(&mut torn)
            })
            .map_err(|e| err(live, format!("cannot read torn tail: {e}")))?;
        let aside = segments::torn_name(live, Timestamp::now().millis());
        segments::create_private(&aside)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &torn))
            .map_err(|e| err(&aside, format!("cannot set aside torn tail: {e}")))?;
        file.set_len(good_end)
            .and_then(|()| file.sync_all())
            .map_err(|e| err(live, format!("cannot cut torn tail: {e}")))?;
        recovery = Recovery {
            torn_bytes: len - good_end,
            torn_file: Some(aside),
        };
        len = good_end;
    }
    let head = match segments::last_head(&mut file, len, key).map_err(|m| err(live, m))? {
        Some(h) => h,
        None => match segments::rotated(live).last() {
            Some(prev) => {
                let mut f = File::open(prev).map_err(|e| err(prev, e.to_string()))?;
                let n = f
                    .seek(SeekFrom::End(0))
                    .map_err(|e| err(prev, e.to_string()))?;
                segments::last_head(&mut f, n, key)
                    .map_err(|m| err(prev, m))?
                    .unwrap_or_else(Head::genesis)
            }
            None => Head::genesis(),
        },
    };
    Ok(Opened {
        file,
        size: len,
        head,
        recovery,
    })
}

impl AuditLog {
    /// Opens (or creates) the log, setting aside a torn tail left by a crash, and refusing
    /// a log another writer holds or one that is behind its checkpoint.
    pub fn open(opts: AuditOptions) -> Result<Self, AuditError> {
        let live = if opts.is_dir() {
            std::fs::create_dir_all(&opts.path)
                .map_err(|e| err(&opts.path, format!("cannot create directory: {e}")))?;
            segments::new_segment_name(&opts.path)
        } else {
            if let Some(dir) = opts.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| err(dir, format!("cannot create directory: {e}")))?;
            }
            opts.path.clone()
        };
        let o = open_live(&live, &opts.key)?;
        if let Some(cp) = checkpoint_path(opts.checkpoint.as_deref(), opts.is_dir(), &live) {
            if cp.exists() {
                let expected = read_checkpoint(&cp)?;
                segments::check_against(&live, &o.head, &expected, &opts.key)
                    .map_err(|m| err(&live, m))?;
            }
        }
        let file: Box<dyn SegmentFile> = {
            #[cfg(test)]
            {
                match opts.fail_on_write {
                    Some(n) => Box::new(FailingFile {
                        inner: o.file,
                        writes_left: n,
                    }),
                    None => Box::new(o.file),
                }
            }
            #[cfg(not(test))]
            {
                Box::new(o.file)
            }
        };
        let log = AuditLog(Arc::new(Shared {
            state: Mutex::new(State::opened(file, live, o.size, o.head)),
            opts,
            flushed: Condvar::new(),
            recovery: o.recovery,
            syncs: AtomicU64::new(0),
        }));
        log.start_sync_thread();
        Ok(log)
    }

    /// `Batched` durability: a thread fsyncs every `batch_ms`. Threads do not survive
    /// `fork()`, so the child starts its own when it opens its own segment.
    fn start_sync_thread(&self) {
        if self.0.opts.durability != Durability::Batched {
            return;
        }
        let weak = Arc::downgrade(&self.0);
        let every = Duration::from_millis(self.0.opts.batch_ms.max(1));
        let pid = std::process::id();
        let spawned = std::thread::Builder::new()
            .name("ticketgate-audit-sync".into())
            .spawn(move || {
                while let Some(shared) = weak.upgrade() {
                    if std::process::id() != pid {
                        return;
                    }
                    if let Err(e) = AuditLog(shared).sync() {
                        log::error!("ticketgate: audit sync failed: {e}");
                    }
                    std::thread::sleep(every);
                }
            });
        if let Err(e) = spawned {
            log::error!("ticketgate: cannot start the audit sync thread: {e}");
        }
    }

    /// What opening found (a torn tail set aside, if any).
    pub fn recovery(&self) -> &Recovery {
        &self.0.recovery
    }

    /// What `audit_log` named: the file, or the directory of segments.
    pub fn path(&self) -> &Path {
        &self.0.opts.path
    }

    /// The paths that hold the whole trail, for the readers: the file, or the directory
    /// with every worker's segment.
    pub(crate) fn trail(&self) -> &[PathBuf] {
        std::slice::from_ref(&self.0.opts.path)
    }

    /// The key records are chained under.
    pub(crate) fn key(&self) -> &ChainKey {
        &self.0.opts.key
    }

    /// The file this writer appends to now.
    pub fn live_file(&self) -> PathBuf {
        self.0.state.lock().live.clone()
    }

    /// The options it was opened with.
    pub fn options(&self) -> &AuditOptions {
        &self.0.opts
    }

    /// The last record written: keep it elsewhere to detect a cut tail.
    pub fn head(&self) -> Head {
        self.0.state.lock().head.clone()
    }

    /// How many times records were made durable (an fsync of the live file) since the log
    /// was opened: with `Always`, concurrent callers and a batch share one.
    pub fn syncs(&self) -> u64 {
        self.0.syncs.load(Ordering::Relaxed)
    }

    /// Appends the record of a decision and waits until it is durable.
    pub fn append_decision(&self, d: &Decision, req: &AccessRequest) -> Result<u64, AuditError> {
        let seq = self.append_decision_nowait(d, req)?;
        self.wait_durable(seq)?;
        Ok(seq)
    }

    /// Appends without waiting for the fsync; [`AuditLog::wait_durable`] waits. Batches use
    /// this to share one fsync.
    pub(crate) fn append_decision_nowait(
        &self,
        d: &Decision,
        req: &AccessRequest,
    ) -> Result<u64, AuditError> {
        self.append(&DecisionRecord::new(d, req))
    }

    /// Appends an administrative event (suspend, reinstate, audit_read, ...).
    pub fn append_event(&self, kind: &str, subject: &str, detail: &str) -> Result<u64, AuditError> {
        let seq = self.append(&EventRecord {
            kind,
            at: Timestamp::now(),
            subject,
            detail,
        })?;
        self.wait_durable(seq)?;
        Ok(seq)
    }

    fn append<T: Serialize>(&self, payload: &T) -> Result<u64, AuditError> {
        let json = serde_json::to_string(payload).map_err(|e| err(self.path(), e.to_string()))?;
        let mut s = self.0.state.lock();
        self.check_usable(&mut s)?;
        self.maybe_rotate(&mut s)?;
        let seq = s.head.seq + 1;
        let (line, hash) = record::encode(seq, &s.head, &json, &self.0.opts.key);
        s.buffer.extend_from_slice(&line);
        s.head = Head { seq, hash };
        s.buffered_upto = seq;
        if self.0.opts.durability != Durability::Always {
            let buf = std::mem::take(&mut s.buffer);
            self.write_now(&mut s, &buf)?;
            s.durable_upto = seq;
        }
        Ok(seq)
    }

    /// Refuses to write after a failure, and moves a forked child to its own segment.
    fn check_usable(&self, s: &mut MutexGuard<'_, State>) -> Result<(), AuditError> {
        if let Some(b) = &s.broken {
            return Err(err(&s.live, format!("log unusable: {b}")));
        }
        if s.pid == std::process::id() {
            return Ok(());
        }
        if !self.0.opts.is_dir() {
            let m = "this gate was made before a fork(); in single-file mode the child may not \
                     write through its parent's file: make the gate in each worker, or give \
                     audit_log a directory so that each process writes its own segment";
            s.broken = Some(m.to_owned());
            return Err(err(&s.live, m));
        }
        // The parent's unflushed records are the parent's to write; the child starts afresh.
        let live = segments::new_segment_name(&self.0.opts.path);
        let o = open_live(&live, &self.0.opts.key)?;
        log::info!(
            "ticketgate: forked process {} writes its own audit segment {}",
            std::process::id(),
            live.display()
        );
        **s = State::opened(Box::new(o.file), live, o.size, o.head);
        self.start_sync_thread();
        Ok(())
    }

    fn write_now(&self, s: &mut MutexGuard<'_, State>, buf: &[u8]) -> Result<(), AuditError> {
        let res = match s.file.as_mut() {
            Some(f) => f.write_all(buf),
            None => Err(std::io::Error::other("file in use by a flush")),
        };
        match res {
            Ok(()) => {
                self.0.syncs.fetch_add(1, Ordering::Relaxed);
                s.size += buf.len() as u64;
                Ok(())
            }
            Err(e) => Err(self.fail(s, format!("write failed: {e}"))),
        }
    }

    /// Marks the log broken: every caller still waiting gets an error, and so does every
    /// later append, so nothing is acknowledged that may not be on disk.
    fn fail(&self, s: &mut MutexGuard<'_, State>, message: String) -> AuditError {
        log::error!(
            "ticketgate: audit log {} broken: {message}",
            s.live.display()
        );
        s.broken = Some(message.clone());
        self.0.flushed.notify_all();
        err(&s.live, message)
    }

    /// Waits until record `seq` is durable. Group commit: the first waiter writes and fsyncs
    /// everything buffered so far; the others wait for that fsync instead of issuing their own.
    pub(crate) fn wait_durable(&self, seq: u64) -> Result<(), AuditError> {
        let mut s = self.0.state.lock();
        loop {
            if let Some(b) = &s.broken {
                if s.durable_upto < seq {
                    return Err(err(&s.live, b.clone()));
                }
            }
            if s.durable_upto >= seq {
                return Ok(());
            }
            if s.flushing {
                self.0.flushed.wait(&mut s);
                continue;
            }
            self.flush(&mut s)?;
        }
    }

    /// Writes and fsyncs the buffer with the state unlocked, then publishes the checkpoint.
    fn flush(&self, s: &mut MutexGuard<'_, State>) -> Result<(), AuditError> {
        let Some(mut file) = s.file.take() else {
            return Err(self.fail(s, "no file to write".into()));
        };
        s.flushing = true;
        let buf = std::mem::take(&mut s.buffer);
        let upto = s.buffered_upto;
        let head = s.head.clone();
        let cp = self.checkpoint_target(s, upto);
        let live = s.live.clone();
        let written = MutexGuard::unlocked(s, || {
            file.write_all(&buf)
                .and_then(|()| file.sync_data())
                .and_then(|()| still_at(file.file(), &live))
                .and_then(|()| cp.map_or(Ok(()), |c| write_checkpoint(&c, &head)))
        });
        s.file = Some(file);
        s.flushing = false;
        match written {
            Ok(()) => {
                self.0.syncs.fetch_add(1, Ordering::Relaxed);
                s.size += buf.len() as u64;
                s.durable_upto = s.durable_upto.max(upto);
                s.checkpointed_upto = s.checkpointed_upto.max(upto);
                self.0.flushed.notify_all();
                Ok(())
            }
            Err(e) => Err(self.fail(s, format!("write or fsync failed: {e}"))),
        }
    }

    /// The checkpoint file to publish `upto` to, unless that would move it backwards.
    fn checkpoint_target(&self, s: &State, upto: u64) -> Option<PathBuf> {
        (upto > s.checkpointed_upto)
            .then(|| {
                checkpoint_path(
                    self.0.opts.checkpoint.as_deref(),
                    self.0.opts.is_dir(),
                    &s.live,
                )
            })
            .flatten()
    }

    /// Forces everything written so far to disk, publishes the checkpoint and lets go of
    /// the file and its lock, so that another writer may open it; any later append is an
    /// `AuditError`. Closing a closed log does nothing.
    pub fn close(&self) -> Result<(), AuditError> {
        if self.0.state.lock().broken.as_deref() == Some(CLOSED) {
            return Ok(());
        }
        let synced = self.sync();
        let mut s = self.0.state.lock();
        while s.flushing {
            self.0.flushed.wait(&mut s);
        }
        s.broken.get_or_insert_with(|| CLOSED.to_owned());
        s.file = None;
        synced
    }

    /// Forces everything written so far to disk and publishes the checkpoint.
    pub fn sync(&self) -> Result<(), AuditError> {
        let mut s = self.0.state.lock();
        self.check_usable(&mut s)?;
        if self.0.opts.durability == Durability::Always {
            let upto = s.buffered_upto;
            drop(s);
            return self.wait_durable(upto);
        }
        let upto = s.buffered_upto;
        let head = s.head.clone();
        let cp = self.checkpoint_target(&s, upto);
        let live = s.live.clone();
        let res = match s.file.as_mut() {
            Some(f) => f.sync_data().and_then(|()| still_at(f.file(), &live)),
            None => Ok(()),
        }
        .and_then(|()| cp.map_or(Ok(()), |c| write_checkpoint(&c, &head)));
        match res {
            Ok(()) => {
                s.checkpointed_upto = s.checkpointed_upto.max(upto);
                Ok(())
            }
            Err(e) => Err(self.fail(&mut s, format!("fsync failed: {e}"))),
        }
    }

    fn maybe_rotate(&self, s: &mut MutexGuard<'_, State>) -> Result<(), AuditError> {
        let o = &self.0.opts;
        let today = chrono::Utc::now().date_naive();
        let due = |s: &State| {
            let by_day = o.rotate_daily && s.day.is_some_and(|d| d != today);
            let by_size = o
                .rotate_bytes
                .is_some_and(|n| s.size + s.buffer.len() as u64 >= n);
            (by_day || by_size) && !(s.size == 0 && s.buffer.is_empty())
        };
        if !due(s) {
            s.day = Some(today);
            return Ok(());
        }
        // Records on disk must stay in sequence order: let a flush in flight finish, then
        // write what is buffered to the old file before it is renamed.
        while s.flushing {
            self.0.flushed.wait(s);
        }
        if !due(s) {
            s.day = Some(today);
            return Ok(());
        }
        s.day = Some(today);
        let buf = std::mem::take(&mut s.buffer);
        self.write_now(s, &buf)?;
        if let Err(e) = s.file.as_mut().map_or(Ok(()), |f| f.sync_data()) {
            return Err(self.fail(s, format!("fsync before rotation failed: {e}")));
        }
        s.durable_upto = s.buffered_upto;
        let live = s.live.clone();
        let first = segments::first_seq(&live).unwrap_or(s.head.seq + 1);
        let rotated = segments::rotated_name(&live, first);
        if rotated.exists() {
            return Err(self.fail(
                s,
                format!("rotation target {} already exists", rotated.display()),
            ));
        }
        if let Err(e) = std::fs::rename(&live, &rotated) {
            return Err(self.fail(s, format!("rotation failed: {e}")));
        }
        match open_live(&live, &self.0.opts.key) {
            Ok(o) => {
                s.file = Some(Box::new(o.file));
                s.size = 0;
                self.0.flushed.notify_all();
                Ok(())
            }
            Err(e) => Err(self.fail(s, format!("cannot reopen after rotation: {e}"))),
        }
    }
}
