//! `ticketgate replay`: a team's own access history (CSV or JSONL) through the pack, and
//! the report of what would have been refused.

use crate::common::PackArgs;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate_sim::run::{self, ReplayFiles};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[arg(long)]
    employees: PathBuf,
    #[arg(long)]
    customers: PathBuf,
    #[arg(long)]
    tickets: PathBuf,
    #[arg(long)]
    accesses: PathBuf,
    /// Write report.html, summary.json and the audit log here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    pack: PackArgs,
}

pub fn replay(a: ReplayArgs) -> Result<ExitCode, String> {
    let files = ReplayFiles {
        employees: a.employees,
        customers: a.customers,
        tickets: a.tickets,
        accesses: a.accesses,
    };
    run::replay(&files, &a.pack.pack()?, &a.out, crate::demo::progress_bar())
}
