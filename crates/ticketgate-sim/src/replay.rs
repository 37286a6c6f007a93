//! Evaluates a dataset's accesses in time order through a real `Gate` and gathers what a
//! security team asks first: what leaked, what was refused, and when the first alert came.

use crate::dataset::{AccessRow, Dataset, EmployeeRow, TicketRow};
use crate::org::shift_at;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;
use ticketgate::{
    AccessRequest, Customer, Decision, Employee, Gate, Outcome, Severity, Shift, Status, Ticket,
    Timestamp,
};

/// What happened to one label's accesses (`legit` or an insider strategy).
#[derive(Debug, Default)]
pub struct LabelStats {
    pub employees: HashSet<String>,
    pub accesses: u64,
    pub invalid: u64,
    pub customers_touched: HashSet<String>,
    /// Customers with at least one field revealed.
    pub leaked: HashSet<String>,
    /// When each leaked customer was first revealed.
    pub first_leak: HashMap<String, Timestamp>,
    /// Alert episodes a security team reads (severity medium or high, as `on_alert` heard
    /// of them: opened or escalated), by kind.
    pub episodes: BTreeMap<String, u64>,
    /// The first of those.
    pub first_episode: Option<(Timestamp, String)>,
    /// (employee, day since the epoch) with any access.
    pub agent_days: HashSet<(String, i64)>,
    pub masked_views: u64,
    /// policy id (or `no permit`) → fields it refused
    pub refused_by: BTreeMap<String, u64>,
    pub alerts: BTreeMap<String, u64>,
    pub first_access: Option<Timestamp>,
    pub first_alert: Option<(Timestamp, String)>,
    /// Legitimate work only: accesses that got less than their intent.
    pub false_refusals: u64,
    pub false_refusal_reasons: BTreeMap<String, u64>,
    /// Legitimate accesses the generator marked as breaking a rule, and how many were refused.
    pub off_rule: u64,
    pub off_rule_refused: u64,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub labels: BTreeMap<String, LabelStats>,
    pub decisions: u64,
    pub invalid: BTreeMap<String, u64>,
    pub seconds: f64,
    /// policy id → outcome → fields
    pub by_rule: BTreeMap<String, BTreeMap<Outcome, u64>>,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Reveal => 2,
        Outcome::Mask => 1,
        Outcome::Withhold => 0,
    }
}

pub fn employee_at(e: &EmployeeRow, at: Timestamp) -> Employee {
    Employee {
        id: e.id.clone(),
        roles: e.roles.clone(),
        teams: e.teams.clone(),
        segments: e.segments.clone(),
        office_country: e.office_country.clone(),
        shift: shift_at(e, at.utc()).map(|(s, en)| Shift::Absolute {
            start: Timestamp::from_utc(s),
            end: Timestamp::from_utc(en),
        }),
        suspended: false,
    }
}

fn ticket_at(t: &TicketRow, at: Timestamp) -> Ticket {
    let closed = t.closed_at.filter(|c| *c <= at);
    Ticket {
        id: t.id.clone(),
        customer: t.customer.clone(),
        assignee: t.assignee.clone(),
        queue: t.queue.clone(),
        status: if closed.is_some() {
            t.final_status
        } else {
            Status::Open
        },
        opened_at: t.opened_at,
        closed_at: closed,
        callback_at: t.callback_at,
        assigned_at: t.assigned_at.filter(|a| *a <= at),
        assigned_by: t
            .assigned_by
            .clone()
            .filter(|_| t.assigned_at.is_none_or(|a| a <= at)),
    }
}

/// Replays every access in time order. `progress` is called every 10,000 accesses.
pub fn run(
    data: &Dataset,
    gate: &Gate,
    mut progress: impl FnMut(u64, u64),
) -> Result<Stats, String> {
    let employees: HashMap<&str, &EmployeeRow> =
        data.employees.iter().map(|e| (e.id.as_str(), e)).collect();
    let customers: HashMap<&str, _> = data.customers.iter().map(|c| (c.id.as_str(), c)).collect();
    let tickets: HashMap<&str, &TicketRow> =
        data.tickets.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut order: Vec<&AccessRow> = data.accesses.iter().collect();
    order.sort_by_key(|a| a.at);
    let mut stats = Stats {
        start: order.first().map(|a| a.at),
        end: order.last().map(|a| a.at),
        ..Stats::default()
    };
    let total = order.len() as u64;
    let began = Instant::now();
    for (i, a) in order.into_iter().enumerate() {
        if i % 10_000 == 0 {
            progress(i as u64, total);
        }
        let label = a.label.clone().unwrap_or_else(|| "unlabelled".into());
        let Some(e) = employees.get(a.employee.as_str()) else {
            *stats
                .invalid
                .entry(format!("unknown employee {}", a.employee))
                .or_default() += 1;
            continue;
        };
        let Some(c) = customers.get(a.customer.as_str()) else {
            *stats.invalid.entry("unknown customer".into()).or_default() += 1;
            continue;
        };
        let (Some(vip), Some(staff)) = (c.vip, c.employee) else {
            let why = "customer without vip or employee (never taken for \"not sensitive\")";
            *stats.invalid.entry(why.into()).or_default() += 1;
            continue;
        };
        let ticket = match &a.ticket {
            Some(id) => match tickets.get(id.as_str()) {
                Some(t) => {
                    let mut t = ticket_at(t, a.at);
                    // the tool showed this employee as assignee for this access only
                    if a.assign_to_self {
                        t.assignee = Some(a.employee.clone());
                        t.assigned_by = Some(a.employee.clone());
                        t.assigned_at = Some(a.at);
                    }
                    Some(t)
                }
                None => {
                    *stats.invalid.entry("unknown ticket".into()).or_default() += 1;
                    continue;
                }
            },
            None => None,
        };
        let req = AccessRequest {
            employee: employee_at(e, a.at),
            customer: Customer {
                id: c.id.clone(),
                segment: c.segment,
                vip,
                employee: staff,
            },
            ticket,
            grant: None,
            fields: (!a.fields.is_empty()).then(|| a.fields.clone()),
            purpose: a.purpose,
            justification: None,
            at: Some(a.at),
            client: a.client.clone(),
            source_ip: a.source_ip.clone(),
            intent: None,
        };
        let ls = stats.labels.entry(label.clone()).or_default();
        ls.employees.insert(a.employee.clone());
        ls.accesses += 1;
        ls.first_access.get_or_insert(a.at);
        ls.customers_touched.insert(a.customer.clone());
        let d = match gate.decide(&req) {
            Ok(d) => d,
            Err(ticketgate::Error::InvalidRequest(e)) => {
                ls.invalid += 1;
                *stats
                    .invalid
                    .entry(format!("{}: {}", e.key, e.reason))
                    .or_default() += 1;
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        stats.decisions += 1;
        record(&mut stats, &label, a, &d);
    }
    stats.seconds = began.elapsed().as_secs_f64();
    progress(total, total);
    Ok(stats)
}

fn record(stats: &mut Stats, label: &str, a: &AccessRow, d: &Decision) {
    let Some(ls) = stats.labels.get_mut(label) else {
        return;
    };
    ls.agent_days
        .insert((a.employee.clone(), a.at.millis().div_euclid(86_400_000)));
    let mut revealed = false;
    let mut worst_vs_intent: Option<Vec<String>> = None;
    for (field, f) in &d.fields {
        let enforced = d.enforced(field);
        match enforced {
            Outcome::Reveal => revealed = true,
            Outcome::Mask => {}
            Outcome::Withhold => {}
        }
        if enforced != Outcome::Reveal {
            let why = if f.policies.is_empty() {
                "no permit".to_owned()
            } else {
                f.policies.join("+")
            };
            let why = format!("{} → {}", why, enforced.as_str());
            *ls.refused_by.entry(why.clone()).or_default() += 1;
            if let Some(intent) = a.intent {
                if rank(enforced) < rank(intent) {
                    worst_vs_intent
                        .get_or_insert_with(Vec::new)
                        .push(format!("{field}: {why}"));
                }
            }
        }
        for p in &f.policies {
            *stats
                .by_rule
                .entry(p.clone())
                .or_default()
                .entry(enforced)
                .or_default() += 1;
        }
    }
    if d.fields.values().any(|f| f.outcome == Outcome::Mask) {
        ls.masked_views += 1;
    }
    if revealed {
        ls.leaked.insert(a.customer.clone());
        ls.first_leak.entry(a.customer.clone()).or_insert(d.at);
    }
    if a.off_rule.is_some() {
        ls.off_rule += 1;
        if worst_vs_intent.is_some() {
            ls.off_rule_refused += 1;
        }
    } else if let Some(reasons) = worst_vs_intent {
        ls.false_refusals += 1;
        for r in reasons {
            *ls.false_refusal_reasons.entry(r).or_default() += 1;
        }
    }
    for al in &d.alerts {
        *ls.alerts.entry(al.kind.clone()).or_default() += 1;
        if al.is_news() && al.severity >= Severity::Medium {
            *ls.episodes.entry(al.kind.clone()).or_default() += 1;
            ls.first_episode.get_or_insert((d.at, al.kind.clone()));
        }
        if ls.first_alert.is_none() {
            ls.first_alert = Some((d.at, al.kind.clone()));
        }
    }
}
