//! `ticketgate test`: run a pack's vector files (and more given with `--vectors`).

use crate::common::{default_dir, render_policy_error};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate::{vectors, PolicyPack};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Pack directory whose `tests/*.json` are run (default: ./policies).
    dir: Option<PathBuf>,
    /// More vector files to run against the same pack.
    #[arg(long = "vectors")]
    vectors: Vec<PathBuf>,
}

pub fn test(a: TestArgs) -> Result<ExitCode, String> {
    let dir = default_dir(a.dir);
    let pack = PolicyPack::from_dir(&dir).map_err(|e| render_policy_error(&e, Some(&dir)))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("tests"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.extend(a.vectors);
    if files.is_empty() {
        return Err(format!(
            "no test files in {}/tests and none given with --vectors",
            dir.display()
        ));
    }
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        for case in vectors::load(f)? {
            match vectors::run_case(&pack, &case) {
                Ok(()) => {
                    passed += 1;
                    println!("ok   {} :: {}", f.display(), case.name);
                }
                Err(why) => {
                    failed += 1;
                    println!("FAIL {} :: {}: {why}", f.display(), case.name);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
