//! `decide`, `validate`, `test` and `grant`: the policy-author commands.

use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ticketgate::{vectors, AccessRequest, Error, Gate, GrantKey, PolicyPack};

/// Where the pack comes from and which grant key is in force.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// Policy pack directory (default: the embedded pack).
    #[arg(long)]
    pub policies: Option<PathBuf>,
    /// Secret that signs and verifies grants (or TICKETGATE_GRANT_KEY).
    #[arg(long, env = "TICKETGATE_GRANT_KEY", hide_env_values = true)]
    pub grant_key: Option<String>,
}

impl PackArgs {
    pub fn pack(&self) -> Result<PolicyPack, String> {
        match &self.policies {
            Some(dir) => PolicyPack::from_dir(dir).map_err(|e| render_policy_error(&e)),
            None => Ok(PolicyPack::default()),
        }
    }

    pub fn gate(&self) -> Result<Gate, String> {
        let mut b = Gate::builder().pack(self.pack()?);
        if let Some(k) = &self.grant_key {
            b = b.grant_key(GrantKey::new(k.as_bytes().to_vec()));
        }
        b.build().map_err(|e| e.to_string())
    }
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Access request JSON (`-` for stdin).
    #[arg(long)]
    request: PathBuf,
    #[command(flatten)]
    pack: PackArgs,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pack directory (default: ./policies).
    dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Pack directory whose `tests/*.json` are run (default: ./policies).
    dir: Option<PathBuf>,
    /// More vector files to run against the same pack.
    #[arg(long = "vectors")]
    vectors: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// Grant JSON (`-` for stdin).
    grant: PathBuf,
    #[command(flatten)]
    pack: PackArgs,
}

fn read_input(path: &Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("stdin: {e}"))
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn error_json(e: &Error) -> serde_json::Value {
    let (key, diagnostics) = match e {
        Error::InvalidRequest(i) => (Some(i.key.clone()), None),
        Error::Policy(p) => (None, serde_json::to_value(&p.diagnostics).ok()),
        _ => (None, None),
    };
    serde_json::json!({ "error": {
        "code": vectors::error_code(e),
        "message": e.to_string(),
        "key": key,
        "diagnostics": diagnostics,
    }})
}

pub fn decide(a: DecideArgs) -> Result<ExitCode, String> {
    let gate = a.pack.gate()?;
    let text = read_input(&a.request)?;
    let result = AccessRequest::from_json(&text)
        .map_err(Error::from)
        .and_then(|r| gate.decide(&r));
    match result {
        Ok(d) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&d).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&error_json(&e)).map_err(|e| e.to_string())?
            );
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

pub fn grant_sign(a: GrantArgs) -> Result<ExitCode, String> {
    if a.pack.grant_key.is_none() {
        return Err(
            "signing needs --grant-key or TICKETGATE_GRANT_KEY (the key the deciding gates use)"
                .into(),
        );
    }
    let gate = a.pack.gate()?;
    let grant = serde_json::from_str(&read_input(&a.grant)?).map_err(|e| format!("grant: {e}"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&gate.sign_grant(grant)).map_err(|e| e.to_string())?
    );
    Ok(ExitCode::SUCCESS)
}

fn default_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from("policies"))
}

/// Renders every diagnostic as `file:line:col: message`, followed by miette's view of
/// the source around it.
pub fn render_policy_error(e: &ticketgate::PolicyError) -> String {
    use miette::{LabeledSpan, MietteDiagnostic, NamedSource, Report};
    let mut out = String::new();
    for d in &e.diagnostics {
        out.push_str(&format!("{d}\n"));
        let (Some(file), Some(line), Some(col)) = (&d.file, d.line, d.column) else {
            continue;
        };
        let Some(text) = e_source(e, file) else {
            continue;
        };
        let offset = offset_of(&text, line, col);
        let diag = MietteDiagnostic::new(d.message.clone())
            .with_label(LabeledSpan::at_offset(offset, "here"));
        let report = Report::new(diag).with_source_code(NamedSource::new(file.clone(), text));
        out.push_str(&format!("{report:?}\n"));
    }
    out
}

thread_local! {
    static PACK_DIR: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

fn e_source(_e: &ticketgate::PolicyError, file: &str) -> Option<String> {
    PACK_DIR.with(|d| {
        d.borrow()
            .as_ref()
            .and_then(|dir| std::fs::read_to_string(dir.join(file)).ok())
    })
}

fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let rest = text.get(start..).unwrap_or("");
    start
        + rest
            .chars()
            .take(col - 1)
            .map(char::len_utf8)
            .sum::<usize>()
}

pub fn validate(a: ValidateArgs) -> Result<ExitCode, String> {
    let dir = default_dir(a.dir);
    PACK_DIR.with(|d| *d.borrow_mut() = Some(dir.clone()));
    match PolicyPack::from_dir(&dir) {
        Ok(p) => {
            println!(
                "{}: ok, {} policies, fields {}, version {}",
                dir.display(),
                p.policy_ids().len(),
                p.fields().join(", "),
                p.version()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprint!("{}", render_policy_error(&e));
            eprintln!("{}: {} problem(s)", dir.display(), e.diagnostics.len());
            Ok(ExitCode::from(1))
        }
    }
}

pub fn test(a: TestArgs) -> Result<ExitCode, String> {
    let dir = default_dir(a.dir);
    PACK_DIR.with(|d| *d.borrow_mut() = Some(dir.clone()));
    let pack = PolicyPack::from_dir(&dir).map_err(|e| render_policy_error(&e))?;
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
