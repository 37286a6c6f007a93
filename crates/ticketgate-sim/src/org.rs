//! A seeded, synthetic support organisation: teams on shifts, customers, tickets that are
//! opened, assigned, called back and closed, and the legitimate accesses of that work.

use crate::dataset::{AccessRow, CustomerRow, Dataset, EmployeeRow, TicketRow};
use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ticketgate::{Outcome, Purpose, Segment, Status, Timestamp};

/// Size of the organisation to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub customers: usize,
    pub employees: usize,
    pub days: i64,
    pub seed: u64,
}

pub const START: &str = "2026-10-01T00:00:00Z";
/// Share of tickets an agent takes from the queue themselves rather than being routed.
const SELF_ASSIGNED_SHARE: f64 = 0.1;
/// Decoy customers seeded into the consumer queues (see [`seed_canaries`]).
pub const CANARIES: usize = 24;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SHIFTS: [(u32, u32); 3] = [(6, 14), (14, 22), (22, 6)];
const TEAMS: [(&str, usize); 4] = [
    ("billing", 34),
    ("technical", 34),
    ("accounts", 20),
    ("business", 12),
];

pub fn start() -> chrono::DateTime<Utc> {
    Timestamp::parse(START)
        .map(|t| t.utc())
        .unwrap_or_else(|_| Utc::now())
}

pub fn ts(t: chrono::DateTime<Utc>) -> Timestamp {
    Timestamp::from_utc(t)
}

/// The shift instance of `e` that contains `t`, or the one that starts on `t`'s day.
pub fn shift_at(
    e: &EmployeeRow,
    t: chrono::DateTime<Utc>,
) -> Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok())
    };
    let (start, end) = (parse(&e.shift_start)?, parse(&e.shift_end)?);
    let day = t.date_naive();
    let mk = |d: chrono::NaiveDate, time: NaiveTime| Utc.from_utc_datetime(&d.and_time(time));
    let works = |d: chrono::NaiveDate| {
        e.workdays.is_empty()
            || DAYS
                .get(d.weekday().num_days_from_monday() as usize)
                .is_some_and(|n| e.workdays.iter().any(|w| w == n))
    };
    let candidates = if start < end {
        vec![(mk(day, start), mk(day, end))]
    } else {
        let prev = day.pred_opt()?;
        let next = day.succ_opt()?;
        vec![
            (mk(prev, start), mk(day, end)),
            (mk(day, start), mk(next, end)),
        ]
    };
    let on = candidates
        .iter()
        .find(|(s, en)| *s <= t && t < *en && works(s.date_naive()))
        .copied();
    on.or_else(|| {
        candidates
            .into_iter()
            .rev()
            .find(|(s, _)| s.date_naive() == day && works(day))
    })
}

pub fn on_shift(e: &EmployeeRow, t: chrono::DateTime<Utc>) -> bool {
    shift_at(e, t).is_some_and(|(s, en)| s <= t && t < en)
}

/// The next shift of `e` starting at or after `t` (within two weeks).
fn next_shift(
    e: &EmployeeRow,
    t: chrono::DateTime<Utc>,
) -> Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
    if let Some((s, en)) = shift_at(e, t).filter(|(s, en)| *s <= t && t < *en) {
        return Some((s, en));
    }
    (0..15).find_map(|d| {
        let probe = t + Duration::days(d);
        shift_at(e, probe).filter(|(s, _)| *s >= t)
    })
}

#[derive(Debug)]
pub struct Generated {
    pub data: Dataset,
    /// Indices of employees reserved as insiders (they do no legitimate work).
    pub insiders: Vec<usize>,
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, v: &'a [T]) -> Option<&'a T> {
    if v.is_empty() {
        None
    } else {
        v.get(rng.random_range(0..v.len()))
    }
}

/// Builds the organisation and its legitimate work.
pub fn generate(scale: Scale, insiders: usize) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(scale.seed);
    let t0 = start();
    let mut employees = Vec::with_capacity(scale.employees);
    let total_weight: usize = TEAMS.iter().map(|t| t.1).sum();
    for i in 0..scale.employees {
        let mut w = (i * total_weight) / scale.employees.max(1);
        let team = TEAMS
            .iter()
            .find(|(_, n)| {
                if w < *n {
                    true
                } else {
                    w -= n;
                    false
                }
            })
            .map_or("billing", |t| t.0);
        let (s, e) = SHIFTS.get(i % SHIFTS.len()).copied().unwrap_or((9, 17));
        let off = rng.random_range(0..7usize);
        let workdays: Vec<String> = (0..7)
            .filter(|d| *d != off && *d != (off + 1) % 7)
            .filter_map(|d| DAYS.get(d).map(|s| (*s).to_owned()))
            .collect();
        let mut roles = vec!["agent".to_owned()];
        if i % 8 == 3 {
            roles = vec!["senior_agent".to_owned()];
        }
        if i % 25 == 7 {
            roles.push("supervisor".to_owned());
        }
        employees.push(EmployeeRow {
            id: format!("e{i:03}"),
            roles,
            teams: vec![team.to_owned()],
            segments: vec![if team == "business" {
                "business"
            } else {
                "consumer"
            }
            .to_owned()],
            office_country: ["DE", "IE", "PL", "PT", "US"]
                .get(i % 5)
                .map(|c| (*c).to_owned()),
            shift_start: Some(format!("{s:02}:00")),
            shift_end: Some(format!("{e:02}:00")),
            workdays,
        });
    }
    // insiders: consumer-queue agents, spread over shifts
    let insider_ids: Vec<usize> = (0..employees.len())
        .filter(|i| {
            employees
                .get(*i)
                .is_some_and(|e| e.teams.iter().any(|t| t == "billing") && e.roles == ["agent"])
        })
        .take(insiders)
        .collect();
    let business_share = 0.03;
    let mut customers = Vec::with_capacity(scale.customers);
    let n_business = ((scale.customers as f64) * business_share) as usize;
    for i in 0..scale.customers + n_business {
        let business = i >= scale.customers;
        customers.push(CustomerRow {
            id: format!("c{i:06}"),
            segment: if business {
                Segment::Business
            } else {
                Segment::Consumer
            },
            vip: Some(rng.random_bool(0.003)),
            employee: Some(rng.random_bool(0.002)),
            canary: false,
        });
    }
    let mut tickets = Vec::new();
    let mut accesses = Vec::new();
    let team_members = |team: &str| -> Vec<usize> {
        (0..employees.len())
            .filter(|i| !insider_ids.contains(i))
            .filter(|i| {
                employees
                    .get(*i)
                    .is_some_and(|e| e.teams.iter().any(|t| t == team))
            })
            .collect()
    };
    let members: Vec<(&str, Vec<usize>)> =
        TEAMS.iter().map(|(t, _)| (*t, team_members(t))).collect();
    // about one ticket per customer per 30 days, spread evenly
    let n_tickets = (customers.len() as i64 * scale.days / 30).max(1);
    let span_ms = scale.days * 86_400_000;
    for k in 0..n_tickets {
        let opened = t0 + Duration::milliseconds(rng.random_range(0..span_ms));
        let Some(cust) = pick(&mut rng, &customers).cloned() else {
            continue;
        };
        let queue = if cust.segment == Segment::Business {
            "business"
        } else {
            *pick(&mut rng, &["billing", "technical", "accounts"]).unwrap_or(&"billing")
        };
        let Some(team) = members
            .iter()
            .find(|(t, _)| *t == queue)
            .map(|(_, m)| m.clone())
        else {
            continue;
        };
        let on: Vec<usize> = team
            .iter()
            .copied()
            .filter(|i| employees.get(*i).is_some_and(|e| on_shift(e, opened)))
            .collect();
        let Some(&who) = pick(&mut rng, if on.is_empty() { &team } else { &on }) else {
            continue;
        };
        let Some(emp) = employees.get(who).cloned() else {
            continue;
        };
        let Some((s0, e0)) = next_shift(&emp, opened) else {
            continue;
        };
        // tickets that waited for the shift are worked through its first half, not all at once
        let first = if opened >= s0 {
            opened + Duration::minutes(rng.random_range(1..30))
        } else {
            s0 + Duration::minutes(rng.random_range(1..240))
        };
        if first >= e0 {
            continue;
        }
        // solved during the same or one of the next two shifts
        let hop = rng.random_range(0..3);
        let mut shift = (s0, e0);
        for _ in 0..hop {
            if let Some(n) = next_shift(&emp, shift.1 + Duration::minutes(1)) {
                shift = n;
            }
        }
        let lo = first.max(shift.0) + Duration::minutes(20);
        let hi = shift.1 - Duration::minutes(5);
        if lo >= hi {
            continue;
        }
        let closed =
            lo + Duration::milliseconds(rng.random_range(0..(hi - lo).num_milliseconds().max(1)));
        let callback = rng.random_bool(0.2).then(|| {
            let a = first + Duration::minutes(30);
            let b = closed - Duration::minutes(2);
            if a < b {
                a + Duration::milliseconds(rng.random_range(0..(b - a).num_milliseconds()))
            } else {
                first + Duration::minutes(5)
            }
        });
        let id = format!("TCK-{k:07}");
        // most tickets are routed; some an agent picks from the queue themselves
        let self_assigned = rng.random_bool(SELF_ASSIGNED_SHARE);
        let assigned_at = if self_assigned {
            first - Duration::minutes(1)
        } else {
            opened.min(first - Duration::minutes(1))
        };
        let sensitive = cust.vip == Some(true) || cust.employee == Some(true);
        let senior = emp.roles.iter().any(|r| r == "senior_agent");
        let off_rule =
            (sensitive && !senior).then(|| "sensitive customer, agent not senior".to_owned());
        let base = |at: chrono::DateTime<Utc>,
                    by: &str,
                    fields: &[&str],
                    intent: Outcome,
                    off: Option<String>| AccessRow {
            at: ts(at),
            employee: by.to_owned(),
            customer: cust.id.clone(),
            ticket: Some(id.clone()),
            purpose: Purpose::Support,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            client: Some("helpdesk".into()),
            source_ip: None,
            label: Some("legit".into()),
            intent: Some(intent),
            off_rule: off,
            assign_to_self: false,
        };
        accesses.push(base(
            first,
            &emp.id,
            &["name", "email", "ticket_numbers"],
            Outcome::Reveal,
            off_rule.clone(),
        ));
        if let Some(cb) = callback {
            if on_shift(&emp, cb) && cb > first {
                let early = cb - Duration::minutes(rng.random_range(0..10));
                let at = if on_shift(&emp, early) {
                    early.max(first)
                } else {
                    cb
                };
                accesses.push(base(
                    at,
                    &emp.id,
                    &["name", "phone"],
                    Outcome::Reveal,
                    off_rule.clone(),
                ));
            }
        }
        accesses.push(base(
            closed - Duration::minutes(1),
            &emp.id,
            &["name", "email", "ticket_numbers"],
            Outcome::Reveal,
            off_rule.clone(),
        ));
        if rng.random_bool(0.15) {
            // a teammate on shift glances at the ticket while it is open
            let mid = first + (closed - first) / 2;
            let mates: Vec<usize> = team
                .iter()
                .copied()
                .filter(|i| *i != who && employees.get(*i).is_some_and(|e| on_shift(e, mid)))
                .collect();
            if let Some(m) = pick(&mut rng, &mates).and_then(|m| employees.get(*m)) {
                let off = (!m.segments.iter().any(|s| s == cust.segment.as_str()))
                    .then(|| "segment".to_owned());
                accesses.push(base(
                    mid,
                    &m.id,
                    &["name", "email", "phone"],
                    Outcome::Mask,
                    off,
                ));
            }
        }
        if rng.random_bool(0.01) {
            // overtime: the assignee looks again after the shift ended
            let at = shift.1 + Duration::minutes(rng.random_range(5..40));
            if at < closed + Duration::hours(24) {
                accesses.push(base(
                    at,
                    &emp.id,
                    &["name", "email", "ticket_numbers"],
                    Outcome::Reveal,
                    Some("after shift end".into()),
                ));
            }
        }
        tickets.push(TicketRow {
            id,
            customer: cust.id.clone(),
            assignee: Some(emp.id.clone()),
            queue: queue.to_owned(),
            opened_at: ts(opened),
            closed_at: Some(ts(closed)),
            callback_at: callback.map(ts),
            final_status: if rng.random_bool(0.5) {
                Status::Solved
            } else {
                Status::Closed
            },
            assigned_by: Some(if self_assigned {
                emp.id.clone()
            } else {
                "router".to_owned()
            }),
            assigned_at: Some(ts(assigned_at)),
        });
    }
    Generated {
        data: Dataset {
            employees,
            customers,
            tickets,
            accesses,
        },
        insiders: insider_ids,
    }
}

/// Seeds decoy customers: each has a ticket left open in a consumer queue for the whole
/// period, assigned to nobody, so no legitimate work ever touches it, while anyone
/// browsing a queue or walking the customer base sooner or later does.
pub fn seed_canaries(data: &mut Dataset, days: i64, rng: &mut ChaCha8Rng) {
    let t0 = start();
    for i in 0..CANARIES {
        let id = format!("c9{i:05}");
        data.customers.push(CustomerRow {
            id: id.clone(),
            segment: Segment::Consumer,
            vip: Some(false),
            employee: Some(false),
            canary: true,
        });
        let queue = ["billing", "technical", "accounts"]
            .get(i % 3)
            .copied()
            .unwrap_or("billing");
        let opened = t0 + Duration::minutes(rng.random_range(0..(days.max(1) * 1440 / 2)));
        data.tickets.push(TicketRow {
            id: format!("TCK-CANARY-{i:03}"),
            customer: id,
            assignee: None,
            queue: queue.to_owned(),
            opened_at: ts(opened),
            closed_at: None,
            callback_at: None,
            final_status: Status::Solved,
            assigned_by: None,
            assigned_at: None,
        });
    }
}
