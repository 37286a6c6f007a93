//! Checkpoints: the head of a chain, published after every fsync where whoever can cut the
//! log cannot write, written atomically and durably, and read back on open and by `verify`.

use super::record::Head;
use super::segments::{check_regular, create_private, err};
use crate::error::AuditError;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Where the head of the chain in `live` is published: the checkpoint file, or in directory
/// mode `<checkpoint dir>/<segment>.head`.
pub(crate) fn checkpoint_path(
    checkpoint: Option<&Path>,
    dir_mode: bool,
    live: &Path,
) -> Option<PathBuf> {
    let cp = checkpoint?;
    if dir_mode {
        let name = live.file_name()?.to_string_lossy().into_owned();
        Some(cp.join(format!("{name}.head")))
    } else {
        Some(cp.to_path_buf())
    }
}

/// Replaces the checkpoint atomically and durably: temp file, fsync, rename, fsync of the
/// directory, so a reader never sees half a head and a crash never loses a published one.
pub(crate) fn write_checkpoint(path: &Path, head: &Head) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let mut f = create_private(Path::new(&tmp))?;
    f.write_all(format!("{head}\n").as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// Reads a checkpoint written by a log (`SEQ:HASH`).
pub fn read_checkpoint(path: &Path) -> Result<Head, AuditError> {
    check_regular(path)?;
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(256).read_to_string(&mut text))
        .map_err(|e| err(path, format!("cannot read checkpoint: {e}")))?;
    text.trim().parse().map_err(|e: String| err(path, e))
}
