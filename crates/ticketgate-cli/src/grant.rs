//! `ticketgate grant request | approve | break-glass | revoke | inspect | sign`: the grant
//! lifecycle from the command line, with the fleet's key from the environment.

use crate::common::{read_json, PackArgs};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate::{ffi, Clock, Gate, Grant};

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// Record a request for an approved grant; prints it signed as pending.
    Request(GrantFile),
    /// Approve a pending request as the employee described in `--approver` (JSON).
    Approve {
        #[command(flatten)]
        grant: GrantFile,
        /// The approving employee's facts (JSON file): their roles must include `supervisor`.
        #[arg(long)]
        approver: PathBuf,
    },
    /// Issue a break-glass grant (reason and incident required, at most 1 h).
    BreakGlass(GrantFile),
    /// Revoke a grant on every gate sharing the Redis store.
    Revoke {
        /// Grant id.
        id: String,
        /// The fleet's store.
        #[arg(long, env = "TICKETGATE_REDIS_URL")]
        redis_url: String,
        #[command(flatten)]
        pack: PackArgs,
    },
    /// Say whether a grant's signature verifies under the key, and what it allows.
    Inspect(GrantFile),
    /// Sign a grant as it is, without the issuing checks (for tests and migrations).
    Sign(GrantFile),
}

#[derive(Debug, Args)]
pub struct GrantFile {
    /// Grant JSON (`-` for stdin).
    grant: PathBuf,
    #[command(flatten)]
    pack: PackArgs,
}

impl GrantFile {
    fn load(&self) -> Result<(Gate, Grant), String> {
        if self.pack.grant_key.is_none() {
            return Err(
                "needs --grant-key or TICKETGATE_GRANT_KEY (the key the deciding gates use)".into(),
            );
        }
        let gate = self.pack.gate(Clock::Live)?;
        let v = read_json(&self.grant)?;
        let grant = ffi::grant_from_value(v).map_err(|e| e.to_string())?;
        Ok((gate, grant))
    }
}

fn print(g: &Grant) -> Result<ExitCode, String> {
    println!(
        "{}",
        serde_json::to_string_pretty(g).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: GrantCommand) -> Result<ExitCode, String> {
    match cmd {
        GrantCommand::Request(f) => {
            let (gate, g) = f.load()?;
            print(&gate.request_grant(g).map_err(|e| e.to_string())?)
        }
        GrantCommand::Approve { grant, approver } => {
            let (gate, g) = grant.load()?;
            let v = read_json(&approver)?;
            let a = ffi::employee_from_value(v, "approver").map_err(|e| e.to_string())?;
            print(&gate.approve_grant(g, &a).map_err(|e| e.to_string())?)
        }
        GrantCommand::BreakGlass(f) => {
            let (gate, g) = f.load()?;
            print(&gate.issue_break_glass(g).map_err(|e| e.to_string())?)
        }
        GrantCommand::Revoke {
            id,
            redis_url,
            pack,
        } => {
            let store = ticketgate::redis_store(&redis_url).map_err(|e| e.to_string())?;
            let mut b = Gate::builder().store(store);
            if let Some(k) = &pack.grant_key {
                b = b.grant_key(
                    ticketgate::GrantKey::new(k.as_bytes().to_vec()).map_err(|e| e.to_string())?,
                );
            }
            let gate = b.build().map_err(|e| e.to_string())?;
            gate.revoke_grant(&id).map_err(|e| e.to_string())?;
            println!("revoked {id}");
            Ok(ExitCode::SUCCESS)
        }
        GrantCommand::Inspect(f) => {
            let (gate, g) = f.load()?;
            let verified = gate.verify_grant(&g);
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "signature_verifies": verified,
                    "key_id": g.signature.as_deref().and_then(|s| s.split(':').nth(1)),
                    "pending": g.approver.is_none() && g.requested_at.is_some(),
                    "kind": g.kind, "grantee": g.grantee, "customer": g.customer, "fields": g.fields,
                    "purpose": g.purpose, "approver": g.approver,
                    "issued_at": g.issued_at, "expires_at": g.expires_at,
                }))
                .map_err(|e| e.to_string())?
            );
            Ok(if verified {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        GrantCommand::Sign(f) => {
            let (gate, g) = f.load()?;
            print(&gate.sign_grant(g))
        }
    }
}
