//! The tamper-evident audit trail: one JSON line per record, each carrying a sequence
//! number, the previous record's SHA-256 and its own, so any edit, deletion, insertion
//! or reordering breaks the chain. Writes are group-committed: concurrent decisions
//! share one fsync.

use crate::decision::Decision;
use crate::error::AuditError;
use crate::model::AccessRequest;
use crate::time::Timestamp;
use parking_lot::{Condvar, Mutex};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The `prev` of the very first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// When a record counts as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// fsync'ed before `decide` returns (concurrent decisions share one fsync).
    #[default]
    Always,
    /// Written before `decide` returns, fsync'ed at most every `batch_ms`.
    Batched,
    /// Written before `decide` returns; the OS decides when it reaches the disk.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOptions {
    /// The live log file; rotated files sit beside it as `<name>.<first seq>`.
    pub path: PathBuf,
    /// When records count as written.
    pub durability: Durability,
    /// fsync interval for `Batched`.
    pub batch_ms: u64,
    /// Rotate once the live file reaches this many bytes.
    pub rotate_bytes: Option<u64>,
    /// Rotate when the UTC day changes.
    pub rotate_daily: bool,
    /// After every fsync, the head (`SEQ:HASH`) is written here (atomically, by rename).
    /// Keep it where whoever can cut the log cannot write: `verify --checkpoint` then
    /// detects a cut tail.
    pub checkpoint: Option<PathBuf>,
}

impl AuditOptions {
    /// `always` durability, no rotation.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Always,
            batch_ms: 50,
            rotate_bytes: None,
            rotate_daily: false,
            checkpoint: None,
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
}

/// What opening a log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of an incomplete last write that were set aside.
    pub torn_bytes: u64,
    /// Where they were set aside.
    pub torn_file: Option<PathBuf>,
}

/// The last record of a chain: store it elsewhere to detect a cut tail later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Sequence number of the last record (0 for an empty log).
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (seq, hash) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not SEQ:HASH"))?;
        let seq = seq
            .parse()
            .map_err(|_| format!("`{seq}` is not a sequence number"))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{hash}` is not a SHA-256 hex digest"));
        }
        Ok(Head {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

struct State {
    file: File,
    size: u64,
    day: Option<chrono::NaiveDate>,
    next_seq: u64,
    last_hash: String,
    buffer: Vec<u8>,
    buffered_upto: u64,
    durable_upto: u64,
    flushing: bool,
    broken: Option<String>,
}

struct Shared {
    opts: AuditOptions,
    state: Mutex<State>,
    flushed: Condvar,
    recovery: Recovery,
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

fn err(path: &Path, message: impl Into<String>) -> AuditError {
    AuditError {
        path: Some(path.display().to_string()),
        message: message.into(),
    }
}

use crate::forensics::{parse_line, sha256_hex, HASH_KEY};

/// Rotated files of a live log, in chain order.
pub fn rotated_files(live: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (live.parent(), live.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut out: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let seq = n.strip_prefix(&prefix)?.parse::<u64>().ok()?;
            Some((seq, e.path()))
        })
        .collect();
    out.sort();
    out.into_iter().map(|(_, p)| p).collect()
}

/// The live file and its rotated predecessors, oldest first.
pub fn chain_files(live: &Path) -> Vec<PathBuf> {
    let mut v = rotated_files(live);
    if live.exists() {
        v.push(live.to_path_buf());
    }
    v
}

/// Last complete record of a file's bytes: (seq, hash, end offset of the good prefix).
fn last_good(bytes: &[u8]) -> (Option<(u64, String)>, usize) {
    let mut good_end = 0;
    let mut last = None;
    let mut start = 0;
    while let Some(nl) = bytes
        .get(start..)
        .and_then(|b| b.iter().position(|&c| c == b'\n'))
    {
        let end = start + nl;
        let line = bytes
            .get(start..end)
            .and_then(|l| std::str::from_utf8(l).ok());
        match line.map(parse_line) {
            Some(Ok(p)) if sha256_hex(p.body.as_bytes()) == p.hash => {
                last = Some((p.seq, p.hash.to_owned()));
                good_end = end + 1;
            }
            // A complete but unreadable line is not a torn write: keep it for `verify`
            // to report, and stop trusting anything after it for the chain head.
            _ => break,
        }
        start = end + 1;
    }
    (last, good_end)
}

impl AuditLog {
    /// Opens (or creates) the log, setting aside a torn tail left by a crash.
    pub fn open(opts: AuditOptions) -> Result<Self, AuditError> {
        let path = opts.path.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(&path, format!("cannot create directory: {e}")))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| err(&path, format!("cannot open: {e}")))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| err(&path, format!("cannot read: {e}")))?;
        let (mut last, good_end) = last_good(&bytes);
        let mut recovery = Recovery::default();
        let tail_is_torn = good_end < bytes.len() && !bytes.ends_with(b"\n");
        if tail_is_torn {
            let torn = bytes.get(good_end..).unwrap_or(&[]);
            // Only a final line without its newline is a torn write; anything else
            // (e.g. an edited record) is left in place for `verify` to report.
            if !torn.contains(&b'\n') {
                let aside = path.with_extension(format!("torn-{}", Timestamp::now().millis()));
                std::fs::write(&aside, torn)
                    .map_err(|e| err(&aside, format!("cannot set aside torn tail: {e}")))?;
                file.set_len(good_end as u64)
                    .map_err(|e| err(&path, format!("cannot cut torn tail: {e}")))?;
                file.sync_all().map_err(|e| err(&path, e.to_string()))?;
                recovery = Recovery {
                    torn_bytes: torn.len() as u64,
                    torn_file: Some(aside),
                };
            }
        }
        if last.is_none() && good_end == 0 {
            if let Some(prev) = rotated_files(&path).last() {
                let b = std::fs::read(prev).map_err(|e| err(prev, e.to_string()))?;
                last = last_good(&b).0;
            }
        }
        let size = file
            .seek(SeekFrom::End(0))
            .map_err(|e| err(&path, e.to_string()))?;
        let (seq, hash) = last.unwrap_or((0, GENESIS.to_owned()));
        let state = State {
            file,
            size,
            day: None,
            next_seq: seq + 1,
            last_hash: hash,
            buffer: Vec::new(),
            buffered_upto: seq,
            durable_upto: seq,
            flushing: false,
            broken: None,
        };
        let log = AuditLog(Arc::new(Shared {
            opts,
            state: Mutex::new(state),
            flushed: Condvar::new(),
            recovery,
        }));
        if log.0.opts.durability == Durability::Batched {
            let weak = Arc::downgrade(&log.0);
            let every = Duration::from_millis(log.0.opts.batch_ms.max(1));
            let _ = std::thread::Builder::new()
                .name("ticketgate-audit-sync".into())
                .spawn(move || {
                    while let Some(shared) = weak.upgrade() {
                        let _ = AuditLog(shared).sync();
                        std::thread::sleep(every);
                    }
                });
        }
        Ok(log)
    }

    /// What opening found (a torn tail set aside, if any).
    pub fn recovery(&self) -> &Recovery {
        &self.0.recovery
    }

    /// The live file.
    pub fn path(&self) -> &Path {
        &self.0.opts.path
    }

    /// The last record written: keep it elsewhere to detect a cut tail.
    pub fn head(&self) -> Head {
        let s = self.0.state.lock();
        Head {
            seq: s.next_seq - 1,
            hash: s.last_hash.clone(),
        }
    }

    /// Appends the record of a decision.
    pub fn append_decision(&self, d: &Decision, req: &AccessRequest) -> Result<u64, AuditError> {
        #[derive(Serialize)]
        struct Rec<'a> {
            kind: &'static str,
            decision: &'a Decision,
            client: Option<&'a str>,
            source_ip: Option<&'a str>,
            office_country: Option<&'a str>,
            justification: Option<&'a str>,
        }
        self.append(&Rec {
            kind: "decision",
            decision: d,
            client: req.client.as_deref(),
            source_ip: req.source_ip.as_deref(),
            office_country: req.employee.office_country.as_deref(),
            justification: req.justification.as_deref(),
        })
    }

    /// Appends an administrative event (suspend, reinstate, audit_read).
    pub fn append_event(&self, kind: &str, subject: &str, detail: &str) -> Result<u64, AuditError> {
        #[derive(Serialize)]
        struct Rec<'a> {
            kind: &'a str,
            at: Timestamp,
            subject: &'a str,
            detail: &'a str,
        }
        self.append(&Rec {
            kind,
            at: Timestamp::now(),
            subject,
            detail,
        })
    }

    fn append<T: Serialize>(&self, payload: &T) -> Result<u64, AuditError> {
        let path = &self.0.opts.path;
        let json = serde_json::to_string(payload).map_err(|e| err(path, e.to_string()))?;
        let inner = json
            .strip_prefix('{')
            .and_then(|j| j.strip_suffix('}'))
            .ok_or_else(|| err(path, "record payload is not an object"))?;
        let mut s = self.0.state.lock();
        if let Some(b) = &s.broken {
            return Err(err(
                path,
                format!("log unusable after an earlier failure: {b}"),
            ));
        }
        self.maybe_rotate(&mut s)?;
        let seq = s.next_seq;
        let body = format!("{{\"seq\":{seq},\"prev\":\"{}\",{inner}}}", s.last_hash);
        let hash = sha256_hex(body.as_bytes());
        s.buffer
            .extend_from_slice(body.get(..body.len() - 1).unwrap_or("").as_bytes());
        s.buffer.extend_from_slice(HASH_KEY.as_bytes());
        s.buffer.extend_from_slice(hash.as_bytes());
        s.buffer.extend_from_slice(b"\"}\n");
        s.next_seq = seq + 1;
        s.last_hash = hash;
        s.buffered_upto = seq;
        match self.0.opts.durability {
            Durability::Always => self.commit(s, seq)?,
            Durability::Batched | Durability::None => {
                let buf = std::mem::take(&mut s.buffer);
                if let Err(e) = s.file.write_all(&buf) {
                    let m = format!("write failed: {e}");
                    s.broken = Some(m.clone());
                    return Err(err(path, m));
                }
                s.size += buf.len() as u64;
            }
        }
        Ok(seq)
    }

    /// Group commit: the first waiter writes and fsyncs everything buffered so far;
    /// the others wait for that fsync instead of issuing their own.
    fn commit(
        &self,
        mut s: parking_lot::MutexGuard<'_, State>,
        seq: u64,
    ) -> Result<(), AuditError> {
        let path = &self.0.opts.path;
        loop {
            if s.durable_upto >= seq {
                return Ok(());
            }
            if let Some(b) = &s.broken {
                return Err(err(path, b.clone()));
            }
            if s.flushing {
                self.0.flushed.wait(&mut s);
                continue;
            }
            s.flushing = true;
            let buf = std::mem::take(&mut s.buffer);
            let upto = s.buffered_upto;
            let head = Head {
                seq: upto,
                hash: s.last_hash.clone(),
            };
            let mut file = match s.file.try_clone() {
                Ok(f) => f,
                Err(e) => {
                    s.flushing = false;
                    s.broken = Some(format!("cannot write: {e}"));
                    self.0.flushed.notify_all();
                    continue;
                }
            };
            let checkpoint = self.0.opts.checkpoint.as_deref();
            let written = parking_lot::MutexGuard::unlocked(&mut s, || {
                file.write_all(&buf)
                    .and_then(|()| file.sync_data())
                    .and_then(|()| checkpoint.map_or(Ok(()), |c| write_checkpoint(c, &head)))
            });
            s.flushing = false;
            match written {
                Ok(()) => {
                    s.durable_upto = upto;
                    s.size += buf.len() as u64;
                }
                Err(e) => s.broken = Some(format!("write failed: {e}")),
            }
            self.0.flushed.notify_all();
        }
    }

    /// Forces everything written so far to disk.
    pub fn sync(&self) -> Result<(), AuditError> {
        let s = self.0.state.lock();
        let path = &self.0.opts.path;
        let upto = s.buffered_upto;
        if self.0.opts.durability == Durability::Always {
            return self.commit(s, upto);
        }
        let head = Head {
            seq: s.buffered_upto,
            hash: s.last_hash.clone(),
        };
        s.file
            .sync_data()
            .and_then(|()| {
                self.0
                    .opts
                    .checkpoint
                    .as_deref()
                    .map_or(Ok(()), |c| write_checkpoint(c, &head))
            })
            .map_err(|e| err(path, format!("fsync failed: {e}")))
    }

    fn maybe_rotate(&self, s: &mut parking_lot::MutexGuard<'_, State>) -> Result<(), AuditError> {
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
        // A group commit in flight writes to the current file; let it finish so the chain's
        // order on disk is the sequence order. (Waiting only here, not on every append, is
        // what lets appends pile up behind an fsync and share the next one.)
        while s.flushing {
            self.0.flushed.wait(s);
        }
        if !due(s) {
            s.day = Some(today);
            return Ok(());
        }
        s.day = Some(today);
        // Everything buffered goes to the old file first so the chain stays in order.
        let buf = std::mem::take(&mut s.buffer);
        let path = &o.path;
        s.file
            .write_all(&buf)
            .and_then(|()| s.file.sync_data())
            .map_err(|e| err(path, format!("write before rotation failed: {e}")))?;
        s.durable_upto = s.buffered_upto;
        let first = first_seq(path).unwrap_or(s.next_seq);
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{first:012}"));
        std::fs::rename(path, &name).map_err(|e| err(path, format!("rotation failed: {e}")))?;
        s.file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| err(path, format!("cannot open after rotation: {e}")))?;
        s.size = 0;
        self.0.flushed.notify_all();
        Ok(())
    }
}

/// Replaces the checkpoint file atomically, so a reader never sees half a head.
fn write_checkpoint(path: &Path, head: &Head) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{head}\n"))?;
    std::fs::rename(&tmp, path)
}

/// Reads a checkpoint written by a log (`SEQ:HASH`).
pub fn read_checkpoint(path: &Path) -> Result<Head, AuditError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err(path, format!("cannot read checkpoint: {e}")))?;
    text.trim().parse().map_err(|e: String| err(path, e))
}

/// Sequence number of a log file's first record.
pub(crate) fn first_seq(path: &Path) -> Option<u64> {
    let f = File::open(path).ok()?;
    let mut line = String::new();
    BufReader::new(f).read_line(&mut line).ok()?;
    parse_line(line.trim_end()).ok().map(|p| p.seq)
}

/// Reads every record of the log (and its rotated files) and records the read itself
/// as an `audit_read` event: who looks at the trail is part of the trail.
impl AuditLog {
    /// Records read through the library, with an `audit_read` record naming `reader` and `query`.
    pub fn read_as(
        &self,
        reader: &str,
        query: &str,
    ) -> Result<Vec<crate::forensics::Record>, AuditError> {
        self.append_event("audit_read", reader, query)?;
        self.sync()?;
        crate::forensics::read_records(&chain_files(self.path()))
    }
}

#[cfg(test)]
mod tests;
