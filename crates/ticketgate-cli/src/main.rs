//! The `ticketgate` command line.

mod audit;
mod common;
mod decide;
mod demo;
mod grant;
mod policy_test;
mod replay;
mod validate;

// mimalloc: the demo's and a batch's cores allocate without contending (docs/benchmarks.md)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Decide(decide::DecideArgs),
    /// Validate a policy pack; prints diagnostics with file, line and column.
    Validate(validate::ValidateArgs),
    /// Run a pack's policy tests (`tests/*.json`) and report each case.
    Test(policy_test::TestArgs),
    /// Replay an insider attack on a synthetic support organisation and report what leaked.
    Demo(demo::DemoArgs),
    /// Evaluate a team's own access history (CSV/JSONL) and report what would be refused.
    Replay(replay::ReplayArgs),
    /// Request, approve, issue (break-glass), revoke and inspect grants.
    #[command(subcommand)]
    Grant(grant::GrantCommand),
    /// Verify the audit trail and answer forensic questions.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_target(false)
        .format_timestamp(None)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decide(a) => decide::decide(a),
        Command::Validate(a) => validate::validate(a),
        Command::Test(a) => policy_test::test(a),
        Command::Audit(a) => audit::run(a),
        Command::Grant(a) => grant::run(a),
        Command::Demo(a) => demo::demo(a),
        Command::Replay(a) => replay::replay(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
