//! Reading the audit trail: verify the chain, and answer "whose data did this person
//! see?" and "who saw this customer?".

use crate::audit::{Head, GENESIS};
use crate::decision::{Decision, Outcome};
use crate::error::AuditError;
use crate::model::Purpose;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// A verified chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Files read, in chain order.
    pub files: Vec<PathBuf>,
    /// Records verified.
    pub records: u64,
    /// The last record.
    pub head: Head,
}

/// Where and why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}:{line}: {reason}", file.display())]
pub struct ChainBreak {
    /// File of the first bad record.
    pub file: PathBuf,
    /// 1-based line in that file (0 when the problem is the whole chain).
    pub line: u64,
    /// Why.
    pub reason: String,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Expands each live log path to its rotated files plus itself, ordered by first record.
pub fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        for f in crate::audit::chain_files(p) {
            if !files.contains(&f) {
                files.push(f);
            }
        }
        if !p.exists() && !files.contains(p) {
            files.push(p.clone());
        }
    }
    // a file whose first record cannot be read sorts last, where `verify` reports it
    files.sort_by_key(|f| crate::audit::first_seq(f).unwrap_or(u64::MAX));
    files
}

/// Verifies the hash chain across `files` (in chain order). With `expect`, also checks that
/// the chain reaches that head unchanged, which detects a cut tail.
pub fn verify(files: &[PathBuf], expect: Option<&Head>) -> Result<VerifyReport, ChainBreak> {
    let mut prev = GENESIS.to_owned();
    let mut seq = 0u64;
    let mut matched_expect = false;
    let last_file = files.last().cloned().unwrap_or_default();
    for file in files {
        let f = std::fs::File::open(file).map_err(|e| ChainBreak {
            file: file.clone(),
            line: 0,
            reason: format!("cannot open: {e}"),
        })?;
        let mut reader = BufReader::with_capacity(1 << 20, f);
        let mut buf = Vec::with_capacity(1024);
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(|e| ChainBreak {
                file: file.clone(),
                line: line_no + 1,
                reason: format!("cannot read: {e}"),
            })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let brk = |reason: String| ChainBreak {
                file: file.clone(),
                line: line_no,
                reason,
            };
            if buf.last() != Some(&b'\n') {
                return Err(brk("incomplete last record (torn write?)".into()));
            }
            let line = std::str::from_utf8(buf.get(..buf.len() - 1).unwrap_or(&[]))
                .map_err(|_| brk("not UTF-8".into()))?;
            let p = parse(line).map_err(|r| brk(format!("malformed record: {r}")))?;
            if p.seq != seq + 1 {
                return Err(brk(format!(
                    "sequence jumps from {seq} to {} (records deleted, inserted or reordered)",
                    p.seq
                )));
            }
            if p.prev != prev {
                return Err(brk(format!(
                    "record {} does not chain to the record before it",
                    p.seq
                )));
            }
            if sha256_hex(p.body.as_bytes()) != p.hash {
                return Err(brk(format!("record {} was altered (hash mismatch)", p.seq)));
            }
            seq = p.seq;
            prev = p.hash.to_owned();
            if let Some(h) = expect {
                if h.seq == seq {
                    if h.hash != prev {
                        return Err(brk(format!(
                            "record {seq} differs from the expected head {h}"
                        )));
                    }
                    matched_expect = true;
                }
            }
        }
    }
    if let Some(h) = expect {
        if !matched_expect && h.seq > 0 {
            return Err(ChainBreak {
                file: last_file,
                line: 0,
                reason: format!(
                    "the chain ends at record {seq} but the expected head is record {}: the tail was cut",
                    h.seq
                ),
            });
        }
    }
    Ok(VerifyReport {
        files: files.to_vec(),
        records: seq,
        head: Head { seq, hash: prev },
    })
}

pub(crate) struct Parsed<'a> {
    pub(crate) seq: u64,
    pub(crate) prev: &'a str,
    pub(crate) body: String,
    pub(crate) hash: &'a str,
}

pub(crate) const HASH_KEY: &str = ",\"hash\":\"";

pub(crate) fn parse(line: &str) -> Result<Parsed<'_>, &'static str> {
    let rest = line
        .strip_prefix("{\"seq\":")
        .ok_or("does not start with seq")?;
    let comma = rest.find(',').ok_or("no field after seq")?;
    let seq = rest
        .get(..comma)
        .and_then(|s| s.parse().ok())
        .ok_or("seq is not a number")?;
    let prev = rest
        .get(comma..)
        .and_then(|r| r.strip_prefix(",\"prev\":\""))
        .and_then(|r| r.get(..64))
        .ok_or("no prev hash")?;
    let at = line.rfind(HASH_KEY).ok_or("no hash")?;
    let hash = line
        .get(at + HASH_KEY.len()..)
        .and_then(|h| h.strip_suffix("\"}"))
        .ok_or("malformed hash")?;
    Ok(Parsed {
        seq,
        prev,
        body: format!("{}}}", line.get(..at).unwrap_or("")),
        hash,
    })
}

pub(crate) use parse as parse_line;

/// One record as read back.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Record {
    /// Sequence number.
    pub seq: u64,
    /// `decision`, `suspend`, `reinstate` or `audit_read`.
    pub kind: String,
    /// The decision, for `decision` records.
    #[serde(default)]
    pub decision: Option<Decision>,
    /// Which tool asked.
    #[serde(default)]
    pub client: Option<String>,
    /// From where.
    #[serde(default)]
    pub source_ip: Option<String>,
    /// The employee's office country.
    #[serde(default)]
    pub office_country: Option<String>,
    /// The stated justification.
    #[serde(default)]
    pub justification: Option<String>,
    /// For events: when.
    #[serde(default)]
    pub at: Option<Timestamp>,
    /// For events: whom it concerns.
    #[serde(default)]
    pub subject: Option<String>,
    /// For events: details.
    #[serde(default)]
    pub detail: Option<String>,
}

/// Reads all records of `files` (chain order), without verifying.
pub fn read_records(files: &[PathBuf]) -> Result<Vec<Record>, AuditError> {
    let mut out = Vec::new();
    for file in files {
        let f = std::fs::File::open(file).map_err(|e| AuditError {
            path: Some(file.display().to_string()),
            message: format!("cannot open: {e}"),
        })?;
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| AuditError {
                path: Some(file.display().to_string()),
                message: format!("line {}: {e}", i + 1),
            })?;
            let rec: Record = serde_json::from_str(&line).map_err(|e| AuditError {
                path: Some(file.display().to_string()),
                message: format!("line {}: {e}", i + 1),
            })?;
            out.push(rec);
        }
    }
    Ok(out)
}

/// A customer whose data an employee saw (the breach-notification list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// Customer id.
    pub customer: String,
    /// Fields revealed at least once.
    pub fields: BTreeSet<String>,
    /// First reveal.
    pub first: Timestamp,
    /// Last reveal.
    pub last: Timestamp,
    /// Decisions that revealed something.
    pub reveals: u64,
}

/// Distinct customers with any field revealed to `employee` in `[since, until)`.
pub fn affected(
    records: &[Record],
    employee: &str,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Vec<Affected> {
    let mut by: HashMap<&str, Affected> = HashMap::new();
    for d in records.iter().filter_map(|r| r.decision.as_ref()) {
        if d.employee != employee
            || since.is_some_and(|s| d.at < s)
            || until.is_some_and(|u| d.at >= u)
        {
            continue;
        }
        let revealed: BTreeSet<String> = d
            .fields
            .iter()
            .filter(|(_, f)| f.outcome == Outcome::Reveal)
            .map(|(k, _)| k.clone())
            .collect();
        if revealed.is_empty() {
            continue;
        }
        let e = by.entry(d.customer.as_str()).or_insert_with(|| Affected {
            customer: d.customer.clone(),
            fields: BTreeSet::new(),
            first: d.at,
            last: d.at,
            reveals: 0,
        });
        e.fields.extend(revealed);
        e.first = e.first.min(d.at);
        e.last = e.last.max(d.at);
        e.reveals += 1;
    }
    let mut v: Vec<Affected> = by.into_values().collect();
    v.sort_by(|a, b| (a.first, &a.customer).cmp(&(b.first, &b.customer)));
    v
}

/// One access to a customer's data (an access-transparency row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Access {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub employee: String,
    /// From which country.
    pub office_country: Option<String>,
    /// Why.
    pub purpose: Purpose,
    /// On which ticket.
    pub ticket: Option<String>,
    /// Field → outcome.
    pub fields: BTreeMap<String, Outcome>,
    /// Which tool.
    pub client: Option<String>,
    /// Decision id.
    pub decision_id: String,
}

/// Every decision about `customer`, in time order.
pub fn customer_accesses(records: &[Record], customer: &str) -> Vec<Access> {
    let mut v: Vec<Access> = records
        .iter()
        .filter_map(|r| r.decision.as_ref().map(|d| (r, d)))
        .filter(|(_, d)| d.customer == customer)
        .map(|(r, d)| Access {
            at: d.at,
            employee: d.employee.clone(),
            office_country: r.office_country.clone(),
            purpose: d.purpose,
            ticket: d.ticket.clone(),
            fields: d
                .fields
                .iter()
                .map(|(k, f)| (k.clone(), f.outcome))
                .collect(),
            client: r.client.clone(),
            decision_id: d.decision_id.clone(),
        })
        .collect();
    v.sort_by(|a, b| (a.at, &a.decision_id).cmp(&(b.at, &b.decision_id)));
    v
}
