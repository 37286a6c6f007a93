//! `ticketgate decide`: one request file, decided on the replay clock, printed as JSON.

use crate::common::{read_input, PackArgs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate::{ffi, AccessRequest, Clock, Error};

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Access request JSON (`-` for stdin).
    #[arg(long)]
    request: PathBuf,
    #[command(flatten)]
    pack: PackArgs,
}

pub fn decide(a: DecideArgs) -> Result<ExitCode, String> {
    // Request files are history (or examples): decided at their own `at`.
    let gate = a.pack.gate(Clock::Replay)?;
    let bytes = read_input(&a.request)?;
    let result = AccessRequest::from_json_bytes(&bytes)
        .map_err(Error::from)
        .and_then(|r| gate.decide(&r));
    match result {
        Ok(d) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "error": ffi::error_json(&e) }))
                    .map_err(|e| e.to_string())?
            );
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
