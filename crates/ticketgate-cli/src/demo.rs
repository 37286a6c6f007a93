//! `ticketgate demo`: a synthetic organisation with one insider per strategy, replayed
//! through a gate with an audit log, and the report of what leaked.

use crate::common::PackArgs;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate_sim::{org::Scale, run};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Consumer customers (business customers are added on top).
    #[arg(long, default_value_t = 68_000)]
    customers: usize,
    /// Employees.
    #[arg(long, default_value_t = 150)]
    employees: usize,
    /// Days of support work.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 2019)]
    seed: u64,
    /// Write report.html, summary.json, the audit log and the dataset (CSV) here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    pack: PackArgs,
}

pub fn demo(a: DemoArgs) -> Result<ExitCode, String> {
    let scale = Scale {
        customers: a.customers,
        employees: a.employees,
        days: a.days,
        seed: a.seed,
    };
    run::demo(scale, &a.pack.pack()?, &a.out, progress_bar())
}

/// A progress bar on a terminal for runs long enough to need one.
pub fn progress_bar() -> impl FnMut(u64, u64) {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |done, total| {
        if bar.is_none() && tty && total > 20_000 {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} decisions ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(done);
            if done == total {
                b.finish_and_clear();
            }
        }
    }
}
