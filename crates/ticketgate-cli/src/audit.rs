//! `audit verify | affected | customer | suspects | anomalies`.

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate::audit::{self, ChainKey, Head, VerifyOptions};
use ticketgate::Timestamp;

/// The audit key the trail was written with.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// Audit key (or TICKETGATE_AUDIT_KEY): records are checked as HMAC-SHA256 under it.
    #[arg(long = "key", env = "TICKETGATE_AUDIT_KEY", hide_env_values = true)]
    key: Option<String>,
}

impl KeyArg {
    fn chain_key(&self) -> Result<ChainKey, String> {
        match &self.key {
            None => Ok(ChainKey::plain()),
            Some(k) => ChainKey::hmac(k.as_bytes().to_vec()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify every chain of one or more log files or directories of segments (rotated
    /// files are found by themselves).
    Verify {
        /// Log files or directories.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// The last known head, `SEQ:HASH`, to detect a cut tail (one chain only).
        #[arg(long, conflicts_with = "checkpoint")]
        expect_head: Option<Head>,
        /// The checkpoint file (or directory, for segments) the log wrote, to detect a cut tail.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Customers with any field revealed to an employee (the breach-notification list).
    Affected {
        /// Employee id.
        #[arg(long)]
        employee: String,
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        out: Output,
    },
    /// Every access to one customer's data.
    Customer {
        /// Customer id.
        customer: String,
        #[command(flatten)]
        out: Output,
    },
    /// Rank the employees who saw customers who reported scam contact, most suspicious first
    /// (hypergeometric tail of the overlap given each employee's own reveal volume).
    Suspects {
        /// Complaining customers' ids, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        customers: Vec<String>,
        /// Count only reveals of this field (e.g. `phone` for scam calls).
        #[arg(long)]
        field: Option<String>,
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        out: Output,
    },
    /// Who is out of line with their peers, and why: alerts folded into episodes (one per
    /// employee, kind and day, with a severity) and daily reveal volumes against the team's
    /// median, from the trail alone. Most severe first.
    Anomalies {
        /// Show rows from this severity up: info, low, medium, high.
        #[arg(long, default_value = "medium")]
        min_severity: String,
        /// Times the peers' median that counts as out of line.
        #[arg(long, default_value_t = 3.0)]
        ratio: f64,
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        out: Output,
    },
}

/// The period a query covers.
#[derive(Debug, Args)]
pub struct Period {
    /// From (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Until, exclusive (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    until: Option<Timestamp>,
}

impl Period {
    /// The bounds, refused when they leave nothing between them.
    fn bounds(&self) -> Result<(Option<Timestamp>, Option<Timestamp>), String> {
        audit::check_period(self.since, self.until)
            .map_err(|e| format!("--{} {}", e.key, e.reason))?;
        Ok((self.since, self.until))
    }
}

#[derive(Debug, Args)]
pub struct Output {
    /// Log files or directories of segments (default: ./audit.jsonl).
    #[arg(long = "log", default_value = "audit.jsonl")]
    logs: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV.
    #[arg(long)]
    csv: bool,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s)
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn print_rows(out: &Output, header: &[&str], rows: &[Vec<String>], json: serde_json::Value) {
    if out.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else if out.csv {
        println!("{}", header.join(","));
        for r in rows {
            println!(
                "{}",
                r.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",")
            );
        }
    } else {
        // a control character in an id (a newline, an escape sequence) would break the
        // table or rewrite the terminal under the reader's eyes: shown escaped instead
        let shown = |c: &String| {
            let mut out = String::with_capacity(c.len());
            for ch in c.chars() {
                if ch.is_control() {
                    out.extend(ch.escape_debug());
                } else {
                    out.push(ch);
                }
            }
            out
        };
        let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(shown).collect()).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!("{}", line(header.to_vec()));
        for r in &rows {
            println!("{}", line(r.iter().map(String::as_str).collect()));
        }
        println!("({} rows)", rows.len());
    }
}

pub fn run(cmd: AuditCommand) -> Result<ExitCode, String> {
    match cmd {
        AuditCommand::Verify {
            logs,
            expect_head,
            checkpoint,
            key,
        } => {
            let opts = VerifyOptions {
                key: key.chain_key()?,
                expect_head,
                checkpoint,
            };
            match audit::verify(&logs, &opts) {
                Ok(r) => {
                    println!(
                        "ok: {} records in {} segment(s), {} file(s){}",
                        r.records,
                        r.segments.len(),
                        r.files().len(),
                        r.head().map(|h| format!(", head {h}")).unwrap_or_default()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    println!("TAMPERED: {b}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        AuditCommand::Affected {
            employee,
            period,
            out,
        } => {
            let (since, until) = period.bounds()?;
            let list =
                audit::affected(&out.logs, &employee, since, until).map_err(|e| e.to_string())?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        a.customer.clone(),
                        a.fields.iter().cloned().collect::<Vec<_>>().join(" "),
                        a.first.to_string(),
                        a.last.to_string(),
                        a.reveals.to_string(),
                    ]
                })
                .collect();
            let json = serde_json::to_value(&list).unwrap_or_default();
            print_rows(
                &out,
                &["customer", "fields", "first", "last", "reveals"],
                &rows,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Suspects {
            customers,
            field,
            period,
            out,
        } => {
            let (since, until) = period.bounds()?;
            audit::check_complainants(&customers)
                .map_err(|e| format!("--{} {}", e.key, e.reason))?;
            let list = audit::suspects(&out.logs, &customers, field.as_deref(), since, until)
                .map_err(|e| e.to_string())?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.employee.clone(),
                        s.matched.to_string(),
                        s.revealed_customers.to_string(),
                        format!("{:.3e}", s.p_value),
                    ]
                })
                .collect();
            let json = serde_json::to_value(&list).unwrap_or_default();
            print_rows(
                &out,
                &["employee", "matched", "revealed_customers", "p_value"],
                &rows,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Anomalies {
            min_severity,
            ratio,
            period,
            out,
        } => {
            let (since, until) = period.bounds()?;
            let peers = ticketgate::PeerSignals {
                ratio,
                ..ticketgate::PeerSignals::default()
            };
            if let Some(problem) = peers.problem() {
                return Err(format!("--ratio {ratio}: {problem}"));
            }
            let floor: audit::Severity = serde_json::from_value(min_severity.clone().into())
                .map_err(|_| {
                    format!("--min-severity: `{min_severity}` is not info, low, medium or high")
                })?;
            let opts = audit::AnomalyOptions {
                since,
                until,
                peers,
            };
            let list: Vec<_> = audit::anomalies(&out.logs, &opts)
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|a| a.severity >= floor)
                .collect();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        serde_json::to_value(a.severity)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        a.day.clone(),
                        a.employee.clone(),
                        a.signal.clone(),
                        a.value.to_string(),
                        a.why.clone(),
                    ]
                })
                .collect();
            let json = serde_json::to_value(&list).unwrap_or_default();
            print_rows(
                &out,
                &["severity", "day", "employee", "signal", "value", "why"],
                &rows,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Customer { customer, out } => {
            let list = audit::customer_accesses(&out.logs, &customer).map_err(|e| e.to_string())?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        a.at.to_string(),
                        a.employee.clone(),
                        a.office_country.clone().unwrap_or_default(),
                        a.purpose.as_str().to_owned(),
                        a.ticket.clone().unwrap_or_default(),
                        a.fields
                            .iter()
                            .map(|(f, o)| format!("{f}={}", o.as_str()))
                            .collect::<Vec<_>>()
                            .join(" "),
                        a.client.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let json = serde_json::to_value(&list).unwrap_or_default();
            print_rows(
                &out,
                &[
                    "at", "employee", "country", "purpose", "ticket", "fields", "client",
                ],
                &rows,
                json,
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
