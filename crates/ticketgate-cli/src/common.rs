//! What several commands share: the pack and grant key options, reading input, and
//! rendering policy diagnostics with their source.

use clap::Args;
use std::path::{Path, PathBuf};
use ticketgate::{Clock, Gate, GrantKey, PolicyPack};

/// Where the pack comes from and which grant key is in force.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// Policy pack directory (default: the embedded pack).
    #[arg(long)]
    pub policies: Option<PathBuf>,
    /// Secret that signs and verifies grants (or TICKETGATE_GRANT_KEY).
    #[arg(long, env = "TICKETGATE_GRANT_KEY", hide_env_values = true)]
    pub grant_key: Option<String>,
}

impl PackArgs {
    pub fn pack(&self) -> Result<PolicyPack, String> {
        match &self.policies {
            Some(dir) => PolicyPack::from_dir(dir).map_err(|e| render_policy_error(&e, Some(dir))),
            None => Ok(PolicyPack::default()),
        }
    }

    pub fn gate(&self, clock: Clock) -> Result<Gate, String> {
        let mut b = Gate::builder().pack(self.pack()?).clock(clock);
        if let Some(k) = &self.grant_key {
            b = b.grant_key(GrantKey::new(k.as_bytes().to_vec()).map_err(|e| e.to_string())?);
        }
        b.build().map_err(|e| e.to_string())
    }
}

/// A request, grant or approver document (`-`: stdin), read no further than one byte past
/// the core's document limit: `/dev/zero` or a runaway pipe is refused, not read until memory
/// runs out. The core names what is wrong with the bytes.
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let most = ticketgate::limits::MAX_DOCUMENT as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().take(most).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(most).read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}

/// A grant or an employee as JSON, within the document limit.
pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let bytes = read_input(path)?;
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let text = ticketgate::limits::document_text(&bytes).map_err(|e| at(&e.reason))?;
    serde_json::from_str(text).map_err(|e| at(&e))
}

pub fn default_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from("policies"))
}

/// Renders every diagnostic as `file:line:col: message`, followed by miette's view of
/// the source around it.
pub fn render_policy_error(e: &ticketgate::PolicyError, dir: Option<&Path>) -> String {
    use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};
    let mut out = String::new();
    for d in &e.diagnostics {
        out.push_str(&format!("{d}\n"));
        let (Some(file), Some(line), Some(col)) = (&d.file, d.line, d.column) else {
            continue;
        };
        let Some(text) = dir.and_then(|d| std::fs::read_to_string(d.join(file)).ok()) else {
            continue;
        };
        let offset = offset_of(&text, line, col);
        let diag = MietteDiagnostic::new(d.message.clone())
            .with_label(LabeledSpan::at_offset(offset, "here"));
        let report = Report::new(diag).with_source_code(NamedSource::new(file.clone(), text));
        out.push_str(&format!("{report:?}\n"));
    }
    out
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let rest = text.get(start..).unwrap_or("");
    start
        + rest
            .chars()
            .take(col - 1)
            .map(char::len_utf8)
            .sum::<usize>()
}
