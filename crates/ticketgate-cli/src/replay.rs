//! `ticketgate replay`: a team's own access history (CSV or JSONL) through the pack, and
//! the report of what would have been refused.

use crate::common::PackArgs;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate_sim::run::{self, ReplayFiles};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Employees, CSV or JSONL: id, roles, teams, segments, office_country, shift_start and
    /// shift_end (UTC HH:MM), workdays.
    #[arg(long)]
    employees: PathBuf,
    /// Customers: id, segment, vip, employee, canary.
    #[arg(long)]
    customers: PathBuf,
    /// Tickets: id, customer, assignee, queue, opened_at, closed_at, callback_at,
    /// final_status, assigned_by, assigned_at.
    #[arg(long)]
    tickets: PathBuf,
    /// Accesses, replayed in time order: at, employee, customer, ticket, purpose, fields,
    /// client, source_ip (docs/demo.md has every column).
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
