//! `audit verify | affected | customer`.

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use ticketgate::audit::Head;
use ticketgate::forensics;
use ticketgate::Timestamp;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of one or more log files (rotated files are found by themselves).
    Verify {
        /// Log files.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// The last known head, `SEQ:HASH`, to detect a cut tail.
        #[arg(long, conflicts_with = "checkpoint")]
        expect_head: Option<Head>,
        /// A checkpoint file the log wrote (`AuditOptions::checkpoint`), to detect a cut tail.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Customers with any field revealed to an employee (the breach-notification list).
    Affected {
        /// Employee id.
        #[arg(long)]
        employee: String,
        /// From (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        since: Option<Timestamp>,
        /// Until, exclusive (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        until: Option<Timestamp>,
        #[command(flatten)]
        out: Output,
    },
    /// Append records until killed, printing each acknowledged sequence number (for crash tests
    /// and append-rate measurements).
    #[command(hide = true)]
    Stress {
        /// Log file.
        #[arg(long)]
        log: PathBuf,
        /// always, batched or none.
        #[arg(long, default_value = "always")]
        durability: String,
        /// Stop after this many records.
        #[arg(long, default_value_t = u64::MAX)]
        records: u64,
    },
    /// Every access to one customer's data.
    Customer {
        /// Customer id.
        customer: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Args)]
pub struct Output {
    /// Log files (default: ./audit.jsonl).
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
    if s.contains([',', '"', '\n']) {
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
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for r in rows {
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
        for r in rows {
            println!("{}", line(r.iter().map(String::as_str).collect()));
        }
        println!("({} rows)", rows.len());
    }
}

fn stress(log: PathBuf, durability: &str, records: u64) -> Result<ExitCode, String> {
    use std::io::Write;
    let d: ticketgate::Durability = durability.parse()?;
    let log = ticketgate::AuditLog::open(ticketgate::AuditOptions::new(log).durability(d))
        .map_err(|e| e.to_string())?;
    if log.recovery().torn_bytes > 0 {
        eprintln!(
            "set aside a torn tail of {} bytes",
            log.recovery().torn_bytes
        );
    }
    let mut out = std::io::stdout().lock();
    for i in 0..records {
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
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: AuditCommand) -> Result<ExitCode, String> {
    match cmd {
        AuditCommand::Stress {
            log,
            durability,
            records,
        } => stress(log, &durability, records),
        AuditCommand::Verify {
            logs,
            expect_head,
            checkpoint,
        } => {
            let expect_head = match (expect_head, checkpoint) {
                (Some(h), _) => Some(h),
                (None, Some(c)) => {
                    Some(ticketgate::audit::read_checkpoint(&c).map_err(|e| e.to_string())?)
                }
                (None, None) => None,
            };
            let files = forensics::expand(&logs);
            match forensics::verify(&files, expect_head.as_ref()) {
                Ok(r) => {
                    println!(
                        "ok: {} records in {} file(s), head {}",
                        r.records,
                        r.files.len(),
                        r.head
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
            since,
            until,
            out,
        } => {
            let records = forensics::read_records(&forensics::expand(&out.logs))
                .map_err(|e| e.to_string())?;
            let list = forensics::affected(&records, &employee, since, until);
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
        AuditCommand::Customer { customer, out } => {
            let records = forensics::read_records(&forensics::expand(&out.logs))
                .map_err(|e| e.to_string())?;
            let list = forensics::customer_accesses(&records, &customer);
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
