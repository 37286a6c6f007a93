//! Appends audit records until killed, printing each acknowledged sequence number: the
//! crash test SIGKILLs it mid-write, and append rates are measured with it.

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
struct Args {
    /// Log file.
    #[arg(long)]
    log: PathBuf,
    /// always, batched or none.
    #[arg(long, default_value = "always")]
    durability: String,
    /// Stop after this many records.
    #[arg(long, default_value_t = u64::MAX)]
    records: u64,
}

fn run(a: Args) -> Result<(), String> {
    let d: ticketgate::Durability = a.durability.parse()?;
    let log = ticketgate::AuditLog::open(ticketgate::AuditOptions::new(a.log).durability(d))
        .map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    for i in 0..a.records {
        let seq = log
            .append_event(
                "stress",
                &format!("employee-{}", i % 97),
                "a record long enough to be torn by a kill mid-write",
            )
            .map_err(|e| e.to_string())?;
        writeln!(out, "{seq}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("audit-stress: {e}");
            ExitCode::from(2)
        }
    }
}
