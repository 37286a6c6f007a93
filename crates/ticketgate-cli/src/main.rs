//! The `ticketgate` command line.

mod audit_cmd;
mod bench_cmd;
mod dataset;
mod demo_cmd;
mod policy_cmd;
mod replay;
mod report;
mod sim;
mod strategies;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Per-field access decisions for customer contact data.
#[derive(Debug, Parser)]
#[command(name = "ticketgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide one access request (JSON file, or `-` for stdin) and print the decision.
    Decide(policy_cmd::DecideArgs),
    /// Validate a policy pack; prints diagnostics with file, line and column.
    Validate(policy_cmd::ValidateArgs),
    /// Run a pack's policy tests (`tests/*.json`) and report each case.
    Test(policy_cmd::TestArgs),
    /// Replay an insider attack on a synthetic support organisation and report what leaked.
    Demo(demo_cmd::DemoArgs),
    /// Evaluate a team's own access history (CSV/JSONL) and report what would be refused.
    Replay(demo_cmd::ReplayArgs),
    /// Time decisions of one request through the Rust API (for the bench scripts).
    #[command(hide = true)]
    Bench(bench_cmd::BenchArgs),
    /// Sign a grant with the fleet's grant key so gates honour it.
    Grant(policy_cmd::GrantArgs),
    /// Verify the audit trail and answer forensic questions.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decide(a) => policy_cmd::decide(a),
        Command::Validate(a) => policy_cmd::validate(a),
        Command::Test(a) => policy_cmd::test(a),
        Command::Audit(a) => audit_cmd::run(a),
        Command::Grant(a) => policy_cmd::grant_sign(a),
        Command::Demo(a) => demo_cmd::demo(a),
        Command::Bench(a) => bench_cmd::run(a),
        Command::Replay(a) => demo_cmd::replay(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
