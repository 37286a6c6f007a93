//! `bench-memory`: resident memory of a gate with the default pack, and of the in-memory
//! velocity store holding many employees at the hard limit. Prints JSON for
//! `benches/compare`; each figure is the growth of this process's RSS (Linux `/proc`).

// the allocator the bindings and the CLI use, so that their figures compare
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use std::process::ExitCode;
use ticketgate::{Clock, Gate, Timestamp};

#[derive(Debug, Parser)]
struct MemoryArgs {
    /// Employees to fill the store with, each at the default hard limit (30 customers).
    #[arg(long, default_value_t = 100_000)]
    employees: u32,
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn run(a: &MemoryArgs) -> Result<(), String> {
    let before = rss_mb();
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .build()
        .map_err(|e| e.to_string())?;
    let gate_mb = rss_mb() - before;
    let hard = gate.velocity_config().hard;
    let at = Timestamp::now();
    let before = rss_mb();
    for e in 0..a.employees {
        let employee = format!("employee-{e:06}");
        for c in 0..hard {
            gate.record_reveal(&employee, &format!("customer-{e:06}-{c:02}"), at)
                .map_err(|e| e.to_string())?;
        }
    }
    let store_mb = rss_mb() - before;
    println!(
        "{{\"gate_default_pack_mb\": {gate_mb:.1}, \"store_employees\": {}, \"store_customers_each\": {hard}, \"store_mb\": {store_mb:.1}}}",
        a.employees
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(&MemoryArgs::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-memory: {e}");
            ExitCode::FAILURE
        }
    }
}
