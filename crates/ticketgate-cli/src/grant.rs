//! `ticketgate grant`: sign a grant with the fleet's grant key.

use crate::common::{read_input, PackArgs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// Grant JSON (`-` for stdin).
    grant: PathBuf,
    #[command(flatten)]
    pack: PackArgs,
}

pub fn grant_sign(a: GrantArgs) -> Result<ExitCode, String> {
    if a.pack.grant_key.is_none() {
        return Err(
            "signing needs --grant-key or TICKETGATE_GRANT_KEY (the key the deciding gates use)"
                .into(),
        );
    }
    let gate = a.pack.gate(ticketgate::Clock::Live)?;
    let grant = serde_json::from_str(&read_input(&a.grant)?).map_err(|e| format!("grant: {e}"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&gate.sign_grant(grant)).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}
