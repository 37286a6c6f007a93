//! `ticketgate demo` and `ticketgate replay`.

use crate::dataset::{self, Dataset};
use crate::replay::{self, Stats};
use crate::report::{self, AuditCheck};
use crate::{sim, strategies};
use clap::Args;
use rand::SeedableRng;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ticketgate::{forensics, AuditOptions, Durability, Gate, PolicyPack};

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
    /// Policy pack directory (default: the embedded pack).
    #[arg(long)]
    policies: Option<PathBuf>,
}

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
    /// Policy pack directory (default: the embedded pack).
    #[arg(long)]
    policies: Option<PathBuf>,
    /// Write report.html, summary.json and the audit log here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn gate(policies: &Option<PathBuf>, audit: &Path) -> Result<Gate, String> {
    let pack = match policies {
        Some(d) => {
            PolicyPack::from_dir(d).map_err(|e| crate::policy_cmd::render_policy_error(&e))?
        }
        None => PolicyPack::default(),
    };
    // `batched`: a replay is a bulk job; the chain is the same, fsyncs are grouped.
    Gate::builder()
        .pack(pack)
        .audit_log(AuditOptions::new(audit).durability(Durability::Batched))
        .build()
        .map_err(|e| e.to_string())
}

fn progress_bar(total_hint: u64) -> impl FnMut(u64, u64) {
    use std::io::IsTerminal;
    let bar = (std::io::stderr().is_terminal() && total_hint > 20_000).then(|| {
        let b = indicatif::ProgressBar::new(total_hint);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} decisions ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    move |done, total| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
            if done == total {
                b.finish_and_clear();
            }
        }
    }
}

/// Verifies the log and compares `audit affected` with what each insider was shown.
fn check_audit(path: &Path, stats: &Stats) -> Result<AuditCheck, String> {
    let files = forensics::expand(&[path.to_path_buf()]);
    let verified = forensics::verify(&files, None);
    let (records, head) = match &verified {
        Ok(r) => (r.records, r.head.to_string()),
        Err(_) => (0, "-".into()),
    };
    let recs = forensics::read_records(&files).map_err(|e| e.to_string())?;
    let mut affected = BTreeMap::new();
    for (label, ls) in stats.labels.iter().filter(|(l, _)| *l != "legit") {
        let mut found: HashSet<String> = HashSet::new();
        for e in &ls.employees {
            found.extend(
                forensics::affected(&recs, e, None, None)
                    .into_iter()
                    .map(|a| a.customer),
            );
        }
        affected.insert(label.clone(), (found.len(), found == ls.leaked));
    }
    Ok(AuditCheck {
        records,
        head,
        verified: verified.map(|_| ()).map_err(|b| b.to_string()),
        affected,
    })
}

fn summary_json(stats: &Stats, audit: &AuditCheck) -> serde_json::Value {
    let labels: serde_json::Map<String, serde_json::Value> = stats
        .labels
        .iter()
        .map(|(l, s)| {
            (
                l.clone(),
                serde_json::json!({
                    "accesses": s.accesses,
                    "customers_touched": s.customers_touched.len(),
                    "customers_leaked": s.leaked.len(),
                    "masked_views": s.masked_views,
                    "alerts": s.alerts,
                    "first_alert_after_ms": match (&s.first_alert, s.first_access) {
                        (Some((t, _)), Some(a)) => Some(t.millis() - a.millis()),
                        _ => None,
                    },
                    "refused_by": s.refused_by,
                    "false_refusals": s.false_refusals,
                    "false_refusal_reasons": s.false_refusal_reasons,
                    "off_rule": s.off_rule,
                    "off_rule_refused": s.off_rule_refused,
                    "audit_affected": audit.affected.get(l).map(|a| a.0),
                    "audit_matches": audit.affected.get(l).map(|a| a.1),
                }),
            )
        })
        .collect();
    serde_json::json!({
        "decisions": stats.decisions,
        "invalid": stats.invalid,
        "seconds": stats.seconds,
        "decisions_per_second": stats.decisions as f64 / stats.seconds.max(1e-9),
        "audit_records": audit.records,
        "audit_verified": audit.verified.is_ok(),
        "labels": labels,
    })
}

fn finish(
    stats: &Stats,
    audit_path: &Path,
    descriptions: &BTreeMap<String, String>,
    customers: usize,
    out: &Option<PathBuf>,
) -> Result<ExitCode, String> {
    let audit = check_audit(audit_path, stats)?;
    let text = report::text(stats, descriptions, customers, Some(&audit));
    println!("{text}");
    if let Some(dir) = out {
        let insiders: BTreeMap<String, String> = stats
            .labels
            .iter()
            .filter(|(l, _)| *l != "legit")
            .flat_map(|(l, s)| s.employees.iter().map(move |e| (e.clone(), l.clone())))
            .collect();
        let write = |name: &str, body: String| {
            std::fs::write(dir.join(name), body)
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        write("report.html", report::html(&text, stats, &insiders))?;
        write("report.txt", text.clone())?;
        write(
            "summary.json",
            serde_json::to_string_pretty(&summary_json(stats, &audit))
                .map_err(|e| e.to_string())?,
        )?;
        println!("report: {}", dir.join("report.html").display());
    }
    let ok = audit.verified.is_ok() && audit.affected.values().all(|(_, m)| *m);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn workdir(out: &Option<PathBuf>) -> Result<(Option<tempfile::TempDir>, PathBuf), String> {
    match out {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            let log = d.join("audit.jsonl");
            // a fresh chain per run
            for f in forensics::expand(std::slice::from_ref(&log)) {
                let _ = std::fs::remove_file(f);
            }
            Ok((None, log))
        }
        None => {
            let t = tempfile::tempdir().map_err(|e| e.to_string())?;
            let log = t.path().join("audit.jsonl");
            Ok((Some(t), log))
        }
    }
}

pub fn demo(a: DemoArgs) -> Result<ExitCode, String> {
    if a.customers == 0 || a.employees < 8 || a.days < 4 {
        return Err("the demo needs --customers > 0, --employees >= 8 and --days >= 4".into());
    }
    let scale = sim::Scale {
        customers: a.customers,
        employees: a.employees,
        days: a.days,
        seed: a.seed,
    };
    let strategies = strategies::all();
    eprintln!(
        "generating {} customers, {} employees, {} days (seed {})...",
        a.customers, a.employees, a.days, a.seed
    );
    let sim::Generated { mut data, insiders } = sim::generate(scale, strategies.len());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed ^ 0x5eed);
    let mut descriptions = BTreeMap::new();
    for (s, idx) in strategies.iter().zip(&insiders) {
        let Some(me) = data.employees.get(*idx).cloned() else {
            continue;
        };
        let acc = s.accesses(&data, &me, a.days, &mut rng);
        descriptions.insert(s.name().to_owned(), format!("{} ({})", s.describe(), me.id));
        data.accesses.extend(acc);
    }
    let (_tmp, log) = workdir(&a.out)?;
    if let Some(dir) = &a.out {
        data.write_csv(&dir.join("dataset"))?;
    }
    eprintln!(
        "replaying {} accesses ({} tickets) through a Gate with an audit log...",
        data.accesses.len(),
        data.tickets.len()
    );
    evaluate(&data, &a.policies, &log, &descriptions, &a.out)
}

pub fn replay(a: ReplayArgs) -> Result<ExitCode, String> {
    let data = Dataset {
        employees: dataset::read(&a.employees)?,
        customers: dataset::read(&a.customers)?,
        tickets: dataset::read(&a.tickets)?,
        accesses: dataset::read(&a.accesses)?,
    };
    let (_tmp, log) = workdir(&a.out)?;
    evaluate(&data, &a.policies, &log, &BTreeMap::new(), &a.out)
}

/// Replays `data` through a gate auditing to `log`, then reports.
fn evaluate(
    data: &Dataset,
    policies: &Option<PathBuf>,
    log: &Path,
    descriptions: &BTreeMap<String, String>,
    out: &Option<PathBuf>,
) -> Result<ExitCode, String> {
    let gate = gate(policies, log)?;
    let stats = replay::run(data, &gate, progress_bar(data.accesses.len() as u64))?;
    if let Some(l) = gate.audit_log() {
        l.sync().map_err(|e| e.to_string())?;
    }
    finish(&stats, log, descriptions, data.customers.len(), out)
}
