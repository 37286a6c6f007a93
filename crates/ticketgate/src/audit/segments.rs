//! Where a trail's files are and how they are named: the live file, its rotated
//! predecessors (`<live>.<first seq>`), torn tails set aside, and per-process segments
//! (`<host>-<pid>-<start>.jsonl`) in a directory. Also reading a file from its tail, so
//! opening a log costs the same whatever its size.

use super::record::{self, ChainKey, Head};
use crate::error::AuditError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};

const CHUNK: u64 = 8192;

pub(crate) fn err(path: &Path, message: impl Into<String>) -> AuditError {
    AuditError {
        path: Some(path.display().to_string()),
        message: message.into(),
    }
}

/// Options for a file that says who saw which customer (a live file, a torn tail set aside,
/// a checkpoint; the SQLite velocity store): a new one is readable by its owner and group
/// only (`0640`); an existing file keeps its mode.
pub(crate) fn private_file() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o640);
    o
}

/// A new or emptied [`private_file`] to write `path` afresh.
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    private_file()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
}

/// A regular file or nothing: `/dev/full`, a FIFO or a socket would hang or lie.
pub(crate) fn check_regular(path: &Path) -> Result<(), AuditError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(err(
            path,
            "is not a regular file (a device, FIFO or directory cannot hold an audit chain)",
        )),
        _ => Ok(()),
    }
}

/// Length of the prefix of `file` that ends with a newline (0 if there is none).
pub(crate) fn complete_prefix_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let n = usize::try_from(end - start).unwrap_or(0);
        let chunk = buf.get_mut(..n).unwrap_or_default();
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The line that ends just before byte `end` (which follows a newline), and where it starts.
fn line_before(file: &mut File, end: u64) -> std::io::Result<Option<(u64, Vec<u8>)>> {
    if end == 0 {
        return Ok(None);
    }
    let body_end = end - 1; // the newline
    let start = complete_prefix_len(file, body_end)?;
    let mut line = vec![0u8; usize::try_from(body_end - start).unwrap_or(0)];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut line)?;
    Ok(Some((start, line)))
}

fn parse_head(line: &[u8], key: &ChainKey) -> Result<Head, String> {
    let text = std::str::from_utf8(line).map_err(|_| "the last record is not UTF-8".to_owned())?;
    let p = record::parse(text).map_err(|r| format!("the last record is malformed: {r}"))?;
    if !p.hash_ok(key) {
        return Err(format!(
            "the last record ({}) does not verify{}: run `ticketgate audit verify`, and move \
             the file aside to start a new chain",
            p.seq,
            if key.is_keyed() {
                " under the audit key"
            } else {
                " (was it written with an audit key?)"
            }
        ));
    }
    Ok(p.head())
}

/// The head of a file whose first `len` bytes are complete lines; `None` when empty.
pub(crate) fn last_head(file: &mut File, len: u64, key: &ChainKey) -> Result<Option<Head>, String> {
    match line_before(file, len).map_err(|e| format!("cannot read: {e}"))? {
        None => Ok(None),
        Some((_, line)) => parse_head(&line, key).map(Some),
    }
}

/// Refuses a chain that is behind (or diverges from) a checkpoint it published earlier.
pub(crate) fn check_against(
    live: &Path,
    head: &Head,
    expected: &Head,
    key: &ChainKey,
) -> Result<(), String> {
    if head.seq < expected.seq {
        return Err(format!(
            "the log ends at record {} but its checkpoint says {}: the tail was cut; \
             refusing to continue the chain (verify it, keep it as evidence, and start a new log)",
            head.seq, expected.seq
        ));
    }
    let mut files = rotated(live);
    files.push(live.to_path_buf());
    for f in files.iter().rev() {
        let mut file = File::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let len = file.metadata().map_or(0, |m| m.len());
        let mut end = complete_prefix_len(&mut file, len).map_err(|e| e.to_string())?;
        while let Some((start, line)) = line_before(&mut file, end).map_err(|e| e.to_string())? {
            let h = parse_head(&line, key)?;
            if h.seq == expected.seq {
                return if h.hash == expected.hash {
                    Ok(())
                } else {
                    Err(format!(
                        "record {} differs from the checkpoint: the chain was rewritten",
                        h.seq
                    ))
                };
            }
            if h.seq < expected.seq {
                break;
            }
            end = start;
        }
    }
    if expected.seq == 0 {
        return Ok(());
    }
    Err(format!(
        "record {} of the checkpoint is not in the log: the chain was replaced",
        expected.seq
    ))
}

/// Where a torn tail is set aside.
pub(crate) fn torn_name(live: &Path, ms: i64) -> PathBuf {
    let mut n = live.as_os_str().to_owned();
    n.push(format!(".torn-{ms}"));
    PathBuf::from(n)
}

/// The name a live file is rotated to.
pub(crate) fn rotated_name(live: &Path, first_seq: u64) -> PathBuf {
    let mut n = live.as_os_str().to_owned();
    n.push(format!(".{first_seq:012}"));
    PathBuf::from(n)
}

/// Rotated files of a live file, in chain order.
pub fn rotated(live: &Path) -> Vec<PathBuf> {
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

/// Sequence number of a file's first record.
pub(crate) fn first_seq(path: &Path) -> Option<u64> {
    let f = File::open(path).ok()?;
    let mut line = Vec::new();
    BufReader::new(f.take(1 << 20))
        .read_until(b'\n', &mut line)
        .ok()?;
    let text = std::str::from_utf8(&line).ok()?;
    record::parse(text.trim_end()).ok().map(|p| p.seq)
}

/// A fresh segment file name in `dir` for this process.
pub(crate) fn new_segment_name(dir: &Path) -> PathBuf {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    let host: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Strictly increasing within the process, so two gates made in the same microsecond
    // still get their own segments.
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_micros();
    let prev = LAST.fetch_max(now, Ordering::SeqCst);
    let us = if prev >= now {
        LAST.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        now
    };
    let start = chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%S%6fZ");
    dir.join(format!("{host}-{}-{start}.jsonl", std::process::id()))
}

/// One chain: a live file and its rotated predecessors, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The live file's path (it may have been rotated away entirely).
    pub live: PathBuf,
    /// Its files in chain order.
    pub files: Vec<PathBuf>,
}

/// The chains named by `paths`: a directory gives every segment in it, a file gives its own
/// chain (rotated files included). Sorted by path, so the answer does not depend on order.
pub fn expand(paths: &[PathBuf]) -> Vec<Segment> {
    let mut lives: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                let path = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(base) = name.strip_suffix(".jsonl") {
                    if !base.is_empty() {
                        lives.push(path);
                    }
                } else if let Some((base, seq)) = name.rsplit_once('.') {
                    // a segment rotated away entirely still has its chain
                    if base.ends_with(".jsonl") && seq.bytes().all(|b| b.is_ascii_digit()) {
                        lives.push(p.join(base));
                    }
                }
            }
        } else {
            lives.push(p.clone());
        }
    }
    lives.sort();
    lives.dedup();
    lives
        .into_iter()
        .map(|live| {
            let mut files = rotated(&live);
            if live.exists() || files.is_empty() {
                files.push(live.clone());
            }
            Segment { live, files }
        })
        .collect()
}
