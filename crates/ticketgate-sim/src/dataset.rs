//! The replay format: employees, customers, tickets and accesses as CSV or JSONL
//! (documented in the README). The demo generates the same tables.

use serde::{Deserialize, Serialize};
use std::path::Path;
use ticketgate::{Segment, Status, Timestamp};

/// An employee and their daily shift (UTC, `HH:MM`; an end before the start wraps midnight).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeRow {
    pub id: String,
    /// Space-separated in CSV.
    #[serde(default, with = "words")]
    pub roles: Vec<String>,
    #[serde(default, with = "words")]
    pub teams: Vec<String>,
    #[serde(default, with = "words")]
    pub segments: Vec<String>,
    #[serde(default)]
    pub office_country: Option<String>,
    #[serde(default)]
    pub shift_start: Option<String>,
    #[serde(default)]
    pub shift_end: Option<String>,
    /// Days worked, e.g. `mon tue wed thu fri`; empty means every day.
    #[serde(default, with = "words")]
    pub workdays: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRow {
    pub id: String,
    pub segment: Segment,
    /// Left out, the customer's accesses are invalid requests, as in a request: a missing
    /// sensitivity fact is never "not sensitive".
    #[serde(default)]
    pub vip: Option<bool>,
    #[serde(default)]
    pub employee: Option<bool>,
    /// A decoy no legitimate work touches: the replay's gate lists it among its canaries.
    #[serde(default)]
    pub canary: bool,
}

/// A ticket over its life: open until `closed_at`, then `final_status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketRow {
    pub id: String,
    pub customer: String,
    #[serde(default)]
    pub assignee: Option<String>,
    pub queue: String,
    pub opened_at: Timestamp,
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub callback_at: Option<Timestamp>,
    #[serde(default = "solved")]
    pub final_status: Status,
    /// Who gave the ticket its assignee: an employee id (the assignee itself for a
    /// self-assignment) or `router`.
    #[serde(default)]
    pub assigned_by: Option<String>,
    /// When.
    #[serde(default)]
    pub assigned_at: Option<Timestamp>,
}

fn solved() -> Status {
    Status::Solved
}

/// One historical access. `label`, `intent` and `off_rule` are optional ground truth
/// (the demo sets them; a team's export usually has none).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRow {
    pub at: Timestamp,
    pub employee: String,
    pub customer: String,
    #[serde(default)]
    pub ticket: Option<String>,
    pub purpose: ticketgate::Purpose,
    /// Space-separated; empty means every field.
    #[serde(default, with = "words")]
    pub fields: Vec<String>,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(default)]
    pub source_ip: Option<String>,
    /// `legit` or the name of an insider strategy.
    #[serde(default)]
    pub label: Option<String>,
    /// What legitimate work expects: `reveal` or `mask`.
    #[serde(default)]
    pub intent: Option<ticketgate::Outcome>,
    /// Set on legitimate accesses that deliberately break a rule (e.g. overtime).
    #[serde(default)]
    pub off_rule: Option<String>,
    /// When the access reassigns the ticket to the employee first (self-assignment).
    #[serde(default)]
    pub assign_to_self: bool,
}

/// Lists as space-separated words in CSV cells and as arrays in JSONL.
mod words {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.join(" "))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum W {
            S(String),
            L(Vec<String>),
        }
        Ok(match Option::<W>::deserialize(d)? {
            None => Vec::new(),
            Some(W::S(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(W::L(l)) => l,
        })
    }
}

/// The four tables.
#[derive(Debug, Default, Clone)]
pub struct Dataset {
    pub employees: Vec<EmployeeRow>,
    pub customers: Vec<CustomerRow>,
    pub tickets: Vec<TicketRow>,
    pub accesses: Vec<AccessRow>,
}

/// Reads a CSV (by extension `.csv`) or JSONL file of rows.
pub fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, String> {
    let name = path.display().to_string();
    if path.extension().is_some_and(|e| e == "csv") {
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| format!("{name}: {e}"))?;
        let headers = r.headers().map_err(|e| format!("{name}: {e}"))?.clone();
        let mut out = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| format!("{name}: {e}"))?;
            // empty cells mean absent, so optional columns can be left blank
            let mut obj = serde_json::Map::new();
            for (h, v) in headers.iter().zip(rec.iter()) {
                if !v.is_empty() {
                    let val = match v {
                        "true" => serde_json::Value::Bool(true),
                        "false" => serde_json::Value::Bool(false),
                        _ => serde_json::Value::String(v.to_owned()),
                    };
                    obj.insert(h.to_owned(), val);
                }
            }
            out.push(
                serde_json::from_value(serde_json::Value::Object(obj))
                    .map_err(|e| format!("{name}: row {}: {e}", i + 2))?,
            );
        }
        Ok(out)
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| format!("{name}: line {}: {e}", i + 1))
            })
            .collect()
    }
}

/// Refuses a table that gives one id twice: which row's facts would count is a guess, and a
/// replay must not decide on a guess.
pub fn unique_ids<'a>(file: &Path, ids: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = std::collections::HashMap::new();
    for (i, id) in ids.enumerate() {
        if let Some(first) = seen.insert(id, i + 1) {
            return Err(format!(
                "{}: id `{id}` is given twice (entries {first} and {})",
                file.display(),
                i + 1
            ));
        }
    }
    Ok(())
}

/// Writes rows as CSV.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), String> {
    let mut w = csv::Writer::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for r in rows {
        w.serialize(r)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    w.flush().map_err(|e| format!("{}: {e}", path.display()))
}

impl Dataset {
    /// Writes the four tables as CSV files into `dir`.
    pub fn write_csv(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_csv(&dir.join("employees.csv"), &self.employees)?;
        write_csv(&dir.join("customers.csv"), &self.customers)?;
        write_csv(&dir.join("tickets.csv"), &self.tickets)?;
        write_csv(&dir.join("accesses.csv"), &self.accesses)
    }
}
