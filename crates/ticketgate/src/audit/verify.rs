//! Verifying a trail: every segment's chain on its own (sequence, links, hashes under the
//! key), and optionally against heads kept elsewhere, which detects a cut tail.

use super::checkpoint::read_checkpoint;
use super::record::{self, ChainKey, Head};
use super::segments::{expand, Segment};
use serde::Serialize;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// What to check a trail against.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The audit key the trail was written with (plain SHA-256 without one).
    pub key: ChainKey,
    /// The head the trail must reach; only for a trail of one segment.
    pub expect_head: Option<Head>,
    /// Checkpoints: a file for a one-file log, or the directory of `<segment>.head` files.
    pub checkpoint: Option<PathBuf>,
}

/// One verified chain.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentReport {
    /// Its live file.
    #[cfg_attr(feature = "typescript", ts(type = "string"))]
    pub live: PathBuf,
    /// Files read, in chain order.
    #[cfg_attr(feature = "typescript", ts(type = "string[]"))]
    pub files: Vec<PathBuf>,
    /// Records verified.
    pub records: u64,
    /// Its last record.
    pub head: Head,
}

/// A verified trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records verified, all segments together.
    pub records: u64,
    /// Every segment.
    pub segments: Vec<SegmentReport>,
}

impl VerifyReport {
    /// Every file read.
    pub fn files(&self) -> Vec<PathBuf> {
        self.segments
            .iter()
            .flat_map(|s| s.files.iter().cloned())
            .collect()
    }

    /// The head, when the trail is one segment.
    pub fn head(&self) -> Option<&Head> {
        match self.segments.as_slice() {
            [one] => Some(&one.head),
            _ => None,
        }
    }
}

/// Where and why a trail does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}:{line}: {reason}", file.display())]
pub struct ChainBreak {
    /// File of the first bad record.
    pub file: PathBuf,
    /// 1-based line in that file (0 when the problem is the whole chain).
    pub line: u64,
    /// Why.
    pub reason: String,
}

fn brk(file: &Path, line: u64, reason: impl Into<String>) -> ChainBreak {
    ChainBreak {
        file: file.to_path_buf(),
        line,
        reason: reason.into(),
    }
}

/// Verifies every segment named by `paths` (files or directories).
pub fn verify(paths: &[PathBuf], opts: &VerifyOptions) -> Result<VerifyReport, ChainBreak> {
    let segments = expand(paths);
    if segments.is_empty() {
        return Err(brk(
            paths.first().map_or(Path::new(""), |p| p.as_path()),
            0,
            "no audit files found",
        ));
    }
    if opts.expect_head.is_some() && segments.len() > 1 {
        return Err(brk(
            &segments.first().map(|s| s.live.clone()).unwrap_or_default(),
            0,
            "an expected head names one chain, but these paths hold several segments: use checkpoints",
        ));
    }
    let mut out = Vec::new();
    for seg in &segments {
        let expect = match (&opts.expect_head, &opts.checkpoint) {
            (Some(h), _) => Some(h.clone()),
            (None, Some(cp)) => {
                let file = if cp.is_dir() {
                    let name = seg.live.file_name().unwrap_or_default().to_string_lossy();
                    cp.join(format!("{name}.head"))
                } else {
                    cp.clone()
                };
                if file.exists() || !cp.is_dir() {
                    Some(read_checkpoint(&file).map_err(|e| brk(&file, 0, e.message))?)
                } else {
                    None
                }
            }
            (None, None) => None,
        };
        out.push(verify_segment(seg, &opts.key, expect.as_ref())?);
    }
    if let (Some(cp), Some(dir)) = (&opts.checkpoint, paths.iter().find(|p| p.is_dir())) {
        if cp.is_dir() {
            no_segment_missing(cp, dir, &segments)?;
        }
    }
    Ok(VerifyReport {
        records: out.iter().map(|s| s.records).sum(),
        segments: out,
    })
}

/// Refuses a trail directory (`dir`, the first one given) from which a segment that
/// published a checkpoint in `cp` is gone: deleting a worker's whole segment is the way to cut
/// a tail that per-segment checks cannot see, since nothing is left to check.
fn no_segment_missing(cp: &Path, dir: &Path, segments: &[Segment]) -> Result<(), ChainBreak> {
    let mut heads: Vec<(String, PathBuf)> = std::fs::read_dir(cp)
        .map_err(|e| brk(cp, 0, format!("cannot read the checkpoint directory: {e}")))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            Some((name.strip_suffix(".head")?.to_owned(), e.path()))
        })
        .collect();
    heads.sort();
    for (segment, head_file) in heads {
        let present = segments.iter().any(|s| {
            s.live
                .file_name()
                .is_some_and(|n| n.to_string_lossy() == segment)
        });
        if !present {
            let head = read_checkpoint(&head_file).map_err(|e| brk(&head_file, 0, e.message))?;
            return Err(brk(
                &dir.join(&segment),
                0,
                format!(
                    "missing: its checkpoint {} says this segment reached record {}, but it is not \
                     among the paths given (deleted or moved; pass every directory of the trail)",
                    head_file.display(),
                    head.seq
                ),
            ));
        }
    }
    Ok(())
}

fn verify_segment(
    seg: &Segment,
    key: &ChainKey,
    expect: Option<&Head>,
) -> Result<SegmentReport, ChainBreak> {
    let mut head = Head::genesis();
    let mut matched = false;
    for file in &seg.files {
        super::segments::check_regular(file).map_err(|e| brk(file, 0, e.message))?;
        let f = std::fs::File::open(file).map_err(|e| brk(file, 0, format!("cannot open: {e}")))?;
        let mut reader = BufReader::with_capacity(1 << 20, f);
        let mut buf = Vec::with_capacity(1024);
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| brk(file, line_no + 1, format!("cannot read: {e}")))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if buf.last() != Some(&b'\n') {
                return Err(brk(file, line_no, "incomplete last record (torn write?)"));
            }
            let line = std::str::from_utf8(buf.get(..buf.len() - 1).unwrap_or(&[]))
                .map_err(|_| brk(file, line_no, "not UTF-8"))?;
            let p = record::parse(line)
                .map_err(|r| brk(file, line_no, format!("malformed record: {r}")))?;
            if p.seq != head.seq + 1 {
                return Err(brk(
                    file,
                    line_no,
                    format!(
                        "sequence jumps from {} to {} (records deleted, inserted or reordered)",
                        head.seq, p.seq
                    ),
                ));
            }
            if p.prev != head.hash {
                return Err(brk(
                    file,
                    line_no,
                    format!("record {} does not chain to the record before it", p.seq),
                ));
            }
            if !p.hash_ok(key) {
                let why = if key.is_keyed() {
                    "its hash is not the HMAC under the audit key (altered, or rewritten without the key)"
                } else {
                    "hash mismatch (altered; or written with an audit key: pass it)"
                };
                return Err(brk(file, line_no, format!("record {}: {why}", p.seq)));
            }
            head = p.head();
            if let Some(h) = expect {
                if h.seq == head.seq {
                    if h.hash != head.hash {
                        return Err(brk(
                            file,
                            line_no,
                            format!("record {} differs from the expected head {h}", head.seq),
                        ));
                    }
                    matched = true;
                }
            }
        }
    }
    if let Some(h) = expect {
        if !matched && h.seq > 0 {
            return Err(brk(
                seg.files.last().unwrap_or(&seg.live),
                0,
                format!(
                    "the chain ends at record {} but the expected head is record {}: the tail was cut",
                    head.seq, h.seq
                ),
            ));
        }
    }
    Ok(SegmentReport {
        live: seg.live.clone(),
        files: seg.files.clone(),
        records: head.seq,
        head,
    })
}
