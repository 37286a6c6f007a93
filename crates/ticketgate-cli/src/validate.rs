//! `ticketgate validate`: load a pack strictly and print every diagnostic with its source.

use crate::common::{default_dir, render_policy_error};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate::PolicyPack;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pack directory (default: ./policies).
    dir: Option<PathBuf>,
}

pub fn validate(a: ValidateArgs) -> Result<ExitCode, String> {
    let dir = default_dir(a.dir);
    match PolicyPack::from_dir(&dir) {
        Ok(p) => {
            println!(
                "{}: ok, {} policies, fields {}, version {}",
                dir.display(),
                p.policy_ids().len(),
                p.fields().join(", "),
                p.version()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprint!("{}", render_policy_error(&e, Some(&dir)));
            eprintln!("{}: {} problem(s)", dir.display(), e.diagnostics.len());
            Ok(ExitCode::from(1))
        }
    }
}
