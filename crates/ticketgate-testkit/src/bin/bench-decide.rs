//! `bench-decide`: per-decision time through the Rust API, so that the Python and
//! Node bench scripts can print the core's figure beside their own in one run.

// the allocator the bindings and the CLI use, so that their figures compare
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use ticketgate::{AccessRequest, Clock, Gate};

#[derive(Debug, Parser)]
struct BenchArgs {
    /// Access request JSON to decide repeatedly.
    #[arg(long)]
    request: PathBuf,
    /// Timed decisions (after 10% warm-up).
    #[arg(long, default_value_t = 20_000)]
    iterations: u32,
}

fn run(a: BenchArgs) -> Result<(), String> {
    let text =
        std::fs::read_to_string(&a.request).map_err(|e| format!("{}: {e}", a.request.display()))?;
    let req = AccessRequest::from_json(&text).map_err(|e| e.to_string())?;
    // limits out of the way: the same request again and again is one customer anyway
    let gate = Gate::builder()
        .clock(Clock::Replay)
        .build()
        .map_err(|e| e.to_string())?;
    for _ in 0..a.iterations / 10 {
        gate.decide(&req).map_err(|e| e.to_string())?;
    }
    // the median of 5 rounds, as the Python and Node scripts report
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..a.iterations / 5 {
            gate.decide(&req).map_err(|e| e.to_string())?;
        }
        rounds.push(t.elapsed().as_secs_f64() * 1e6 / f64::from(a.iterations / 5));
    }
    rounds.sort_by(f64::total_cmp);
    let us = rounds.get(2).copied().unwrap_or_default();
    println!(
        "{{\"us_per_decision\": {us:.3}, \"iterations\": {}}}",
        a.iterations
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(BenchArgs::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-decide: {e}");
            ExitCode::from(2)
        }
    }
}
