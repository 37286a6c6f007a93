//! Forensic questions over a trail, answered by streaming its records (memory grows with
//! the answer, not the log): "whose data did this person see?" and "who saw this customer?".

use super::record::Record;
use super::segments::expand;
use super::segments::{check_regular, err};
use crate::decision::Outcome;
use crate::error::AuditError;
use crate::error::InvalidRequest;
use crate::model::Purpose;
use crate::time::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// Calls `f` with every record of every segment named by `paths` (files or directories),
/// one at a time, without verifying the hashes (that is `verify`'s work). A segment whose
/// numbering has a gap (a rotated file or records deleted) is an `AuditError`: an answer
/// from it would be incomplete without saying so.
pub fn for_each_record(paths: &[PathBuf], mut f: impl FnMut(Record)) -> Result<(), AuditError> {
    read_records(paths, whole, |r, _| f(r), Err)
}

/// A line read whole, as serde reads it.
pub fn whole<R: DeserializeOwned>(line: &str) -> Result<R, String> {
    serde_json::from_str(line).map_err(|e| e.to_string())
}

/// A record as some reader reads it: whole ([`Record`]), or only the keys it needs.
pub trait Numbered {
    /// Its sequence number within its segment.
    fn seq(&self) -> u64;
}

impl Numbered for Record {
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// [`for_each_record`], each record read from its line by `read` and handed over with the
/// line as written (to check its hash), reading
/// on past what a forensic query refuses: a gap in a segment's numbering (a file archived
/// away, records cut out), a line that is not a record, a file that cannot be read (a FIFO
/// dropped into the trail directory). Each is handed to `passed` as a message naming the
/// file and line, and the records after it are read.
pub fn for_each_record_present<R: Numbered>(
    paths: &[PathBuf],
    read: impl FnMut(&str) -> Result<R, String>,
    f: impl FnMut(R, &str),
    mut passed: impl FnMut(String),
) -> Result<(), AuditError> {
    read_records(paths, read, f, |e| {
        passed(e.to_string());
        Ok(())
    })
}

/// Every record of every segment, in order; `trouble` decides whether what is not a record
/// in order (a gap, a damaged line, an unreadable file) ends the read (`Err`) or is passed over.
fn read_records<R: Numbered>(
    paths: &[PathBuf],
    mut read: impl FnMut(&str) -> Result<R, String>,
    mut f: impl FnMut(R, &str),
    mut trouble: impl FnMut(AuditError) -> Result<(), AuditError>,
) -> Result<(), AuditError> {
    for seg in expand(paths) {
        let mut last = 0u64;
        for file in &seg.files {
            let opened = check_regular(file).and_then(|()| {
                std::fs::File::open(file).map_err(|e| err(file, format!("cannot open: {e}")))
            });
            let fh = match opened {
                Ok(fh) => fh,
                Err(e) => {
                    trouble(e)?;
                    continue;
                }
            };
            let mut reader = BufReader::with_capacity(1 << 20, fh);
            let mut line = Vec::new();
            let mut no = 0u64;
            loop {
                line.clear();
                let n = match reader.read_until(b'\n', &mut line) {
                    Ok(n) => n,
                    Err(e) => {
                        // an I/O error may come back at every read: the rest of the file is lost
                        trouble(err(file, format!("line {}: {e}", no + 1)))?;
                        break;
                    }
                };
                if n == 0 {
                    break;
                }
                no += 1;
                if line.last() != Some(&b'\n') {
                    break; // a torn tail the writer will set aside
                }
                let parsed = std::str::from_utf8(&line)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        let text = text.trim_end_matches('\n');
                        read(text).map(|rec| (rec, text))
                    });
                let (rec, text) = match parsed {
                    Ok(both) => both,
                    Err(e) => {
                        trouble(err(file, format!("line {no}: {e}")))?;
                        // taken as one record lost, so that the gap it leaves is not named twice
                        last += 1;
                        continue;
                    }
                };
                if rec.seq() != last + 1 {
                    let why = "records are missing or out of order; `audit verify` tells more";
                    let jump = format!("line {no}: sequence jumps from {last} to {}", rec.seq());
                    trouble(err(file, format!("{jump}: {why}")))?;
                }
                last = rec.seq();
                f(rec, text);
            }
        }
    }
    Ok(())
}

/// A customer whose data an employee saw (the breach-notification list).
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
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

/// Distinct customers with any field revealed to `employee` in `[since, until)`, over
/// every segment, ordered by first reveal.
pub fn affected(
    paths: &[PathBuf],
    employee: &str,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<Affected>, AuditError> {
    let mut by: HashMap<String, Affected> = HashMap::new();
    for_each_record(paths, |r| {
        let Some(d) = r.decision else { return };
        if d.employee != employee
            || since.is_some_and(|s| d.at < s)
            || until.is_some_and(|u| d.at >= u)
        {
            return;
        }
        let revealed: BTreeSet<String> = d
            .fields
            .into_iter()
            .filter(|(_, f)| f.outcome == Outcome::Reveal)
            .map(|(k, _)| k)
            .collect();
        if revealed.is_empty() {
            return;
        }
        let e = by.entry(d.customer.clone()).or_insert_with(|| Affected {
            customer: d.customer,
            fields: BTreeSet::new(),
            first: d.at,
            last: d.at,
            reveals: 0,
        });
        e.fields.extend(revealed);
        e.first = e.first.min(d.at);
        e.last = e.last.max(d.at);
        e.reveals += 1;
    })?;
    let mut v: Vec<Affected> = by.into_values().collect();
    v.sort_by(|a, b| (a.first, &a.customer).cmp(&(b.first, &b.customer)));
    Ok(v)
}

/// One access to a customer's data (an access-transparency row).
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
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

/// Every decision about `customer`, over every segment, in time order.
pub fn customer_accesses(paths: &[PathBuf], customer: &str) -> Result<Vec<Access>, AuditError> {
    let mut v = Vec::new();
    for_each_record(paths, |r| {
        let Some(d) = r.decision else { return };
        if d.customer != customer {
            return;
        }
        v.push(Access {
            at: d.at,
            employee: d.employee,
            office_country: r.office_country,
            purpose: d.purpose,
            ticket: d.ticket,
            fields: d.fields.into_iter().map(|(k, f)| (k, f.outcome)).collect(),
            client: r.client,
            decision_id: d.decision_id,
        });
    })?;
    v.sort_by(|a, b| (a.at, &a.decision_id).cmp(&(b.at, &b.decision_id)));
    Ok(v)
}

/// Refuses a query period with nothing in it (`since` not before `until`): its empty answer
/// would read as "nobody saw anything".
pub fn check_period(
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<(), InvalidRequest> {
    match (since, until) {
        (Some(s), Some(u)) if s >= u => Err(InvalidRequest::new(
            "until",
            format!("{u} is not after since {s}"),
        )),
        _ => Ok(()),
    }
}

/// Refuses a complaint list that names nobody, for the same reason.
pub fn check_complainants(customers: &[String]) -> Result<(), InvalidRequest> {
    if customers.iter().all(|c| c.is_empty()) {
        return Err(InvalidRequest::new("customers", "names no customer"));
    }
    Ok(())
}
