//! The runs behind `ticketgate demo` and `ticketgate replay`: generate or read a dataset,
//! replay it through a gate with an audit log, check the trail and write the report.

use crate::dataset::{self, Dataset};
use crate::replay::{self, Stats};
use crate::report::{self, AuditCheck};
use crate::{detection, org as sim, strategies};
use rand::SeedableRng;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ticketgate::audit::{self, VerifyOptions};
use ticketgate::{AuditOptions, Clock, Durability, Gate, PolicyPack};

/// A team's own history for `ticketgate replay` (CSV or JSONL files).
#[derive(Debug, Clone)]
pub struct ReplayFiles {
    /// Employees file.
    pub employees: PathBuf,
    /// Customers file.
    pub customers: PathBuf,
    /// Tickets file.
    pub tickets: PathBuf,
    /// Accesses file.
    pub accesses: PathBuf,
}

fn gate(pack: &PolicyPack, audit: &Path, data: &Dataset) -> Result<Gate, String> {
    let canaries = data
        .customers
        .iter()
        .filter(|c| c.canary)
        .map(|c| c.id.clone());
    // `batched`: a replay is a bulk job; the chain is the same, fsyncs are grouped.
    Gate::builder()
        .clock(Clock::Replay)
        .pack(pack.clone())
        .canaries(canaries)
        .audit_log(AuditOptions::new(audit).durability(Durability::Batched))
        .build()
        .map_err(|e| e.to_string())
}

/// Verifies the log and compares `audit affected` with what each insider was shown.
fn check_audit(path: &Path, stats: &Stats) -> Result<AuditCheck, String> {
    let paths = [path.to_path_buf()];
    let verified = audit::verify(&paths, &VerifyOptions::default());
    let (records, head) = match &verified {
        Ok(r) => (
            r.records,
            r.head().map_or_else(|| "-".into(), ToString::to_string),
        ),
        Err(_) => (0, "-".into()),
    };
    let mut affected = BTreeMap::new();
    for (label, ls) in stats.labels.iter().filter(|(l, _)| *l != "legit") {
        let mut found: HashSet<String> = HashSet::new();
        for e in &ls.employees {
            found.extend(
                audit::affected(&paths, e, None, None)
                    .map_err(|e| e.to_string())?
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

fn summary_json(
    stats: &Stats,
    audit: &AuditCheck,
    measured: &BTreeMap<String, detection::Measured>,
) -> serde_json::Value {
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
                    "alert_episodes": s.episodes,
                    "agent_days": s.agent_days.len(),
                    "detection": measured.get(l).map(|m| serde_json::json!({
                        "hours_to_alert": m.hours_to_alert,
                        "working_hours_to_alert": m.working_hours_to_alert,
                        "first_alert_kind": m.first_alert.as_ref().map(|a| &a.1),
                        "leaked_before_alert": m.leaked_before_alert,
                        "complaints": m.attribution.complaints,
                        "complaints_to_rank_first": m.attribution.ranked_first.as_ref().map(|r| r.0),
                        "complaints_to_p_below_1e-6": m.attribution.firm.as_ref().map(|r| r.0),
                    })),
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
    let measured = detection::measure(stats, audit_path)?;
    let text = report::text(stats, descriptions, customers, Some(&audit), &measured);
    println!("{text}");
    if let Some(dir) = out {
        let write = |name: &str, body: String| {
            std::fs::write(dir.join(name), body)
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        write("report.html", report::html(&text, stats, &measured))?;
        write("report.txt", text.clone())?;
        write(
            "summary.json",
            serde_json::to_string_pretty(&summary_json(stats, &audit, &measured))
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
            for seg in audit::expand(std::slice::from_ref(&log)) {
                for f in seg.files {
                    let _ = std::fs::remove_file(f);
                }
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

/// Generates an organisation with one insider per strategy, replays it and reports.
pub fn demo(
    a: sim::Scale,
    pack: &PolicyPack,
    out: &Option<PathBuf>,
    progress: impl FnMut(u64, u64),
) -> Result<ExitCode, String> {
    if a.customers == 0 || a.employees < 8 || a.days < 4 {
        return Err("the demo needs --customers > 0, --employees >= 8 and --days >= 4".into());
    }
    let strategies = strategies::all();
    log::info!(
        "generating {} customers, {} employees, {} days (seed {})...",
        a.customers,
        a.employees,
        a.days,
        a.seed
    );
    let sim::Generated { mut data, insiders } = sim::generate(a, strategies.len());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed ^ 0x5eed);
    sim::seed_canaries(&mut data, a.days, &mut rng);
    let mut descriptions = BTreeMap::new();
    for (s, idx) in strategies.iter().zip(&insiders) {
        let Some(me) = data.employees.get(*idx).cloned() else {
            continue;
        };
        let acc = s.accesses(&data, &me, a.days, &mut rng);
        descriptions.insert(s.name().to_owned(), format!("{} ({})", s.describe(), me.id));
        data.accesses.extend(acc);
    }
    let (_tmp, log) = workdir(out)?;
    if let Some(dir) = out {
        data.write_csv(&dir.join("dataset"))?;
    }
    log::info!(
        "replaying {} accesses ({} tickets) through a Gate with an audit log...",
        data.accesses.len(),
        data.tickets.len()
    );
    evaluate(&data, pack, &log, &descriptions, out, progress)
}

/// Replays a team's own history and reports what would have been refused.
pub fn replay(
    a: &ReplayFiles,
    pack: &PolicyPack,
    out: &Option<PathBuf>,
    progress: impl FnMut(u64, u64),
) -> Result<ExitCode, String> {
    let data = Dataset {
        employees: dataset::read(&a.employees)?,
        customers: dataset::read(&a.customers)?,
        tickets: dataset::read(&a.tickets)?,
        accesses: dataset::read(&a.accesses)?,
    };
    dataset::unique_ids(&a.employees, data.employees.iter().map(|e| e.id.as_str()))?;
    dataset::unique_ids(&a.customers, data.customers.iter().map(|c| c.id.as_str()))?;
    dataset::unique_ids(&a.tickets, data.tickets.iter().map(|t| t.id.as_str()))?;
    let (_tmp, log) = workdir(out)?;
    evaluate(&data, pack, &log, &BTreeMap::new(), out, progress)
}

/// Replays `data` through a gate auditing to `log`, then reports.
fn evaluate(
    data: &Dataset,
    pack: &PolicyPack,
    log: &Path,
    descriptions: &BTreeMap<String, String>,
    out: &Option<PathBuf>,
    progress: impl FnMut(u64, u64),
) -> Result<ExitCode, String> {
    let gate = gate(pack, log, data)?;
    let stats = replay::run(data, &gate, progress)?;
    if let Some(l) = gate.audit_log() {
        l.sync().map_err(|e| e.to_string())?;
    }
    finish(&stats, log, descriptions, data.customers.len(), out)
}
