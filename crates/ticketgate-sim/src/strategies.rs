//! Insider strategies mixed into the demo. Each one plays one employee; adding a strategy
//! (e.g. grant abuse) is one more `impl Strategy` in `all()`.

use crate::dataset::{AccessRow, Dataset, EmployeeRow, TicketRow};
use crate::org::{on_shift, shift_at, start, ts};
use chrono::{Duration, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ticketgate::{Purpose, Segment};

pub trait Strategy {
    /// Short name, used as the access label.
    fn name(&self) -> &'static str;
    /// One line for the report.
    fn describe(&self) -> &'static str;
    /// The accesses this insider makes, given the organisation's data.
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow>;
}

pub fn all() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(BulkReader),
        Box::new(PatientReader),
        Box::new(QueueSnooper),
        Box::new(OffShiftReader),
        Box::new(AfterHoursSpreader),
        Box::new(SlowBurner),
    ]
}

fn access(
    me: &EmployeeRow,
    label: &str,
    at: chrono::DateTime<Utc>,
    customer: &str,
    ticket: Option<&str>,
) -> AccessRow {
    AccessRow {
        at: ts(at),
        employee: me.id.clone(),
        customer: customer.to_owned(),
        ticket: ticket.map(str::to_owned),
        purpose: Purpose::Support,
        fields: Vec::new(),
        client: Some("helpdesk".into()),
        source_ip: Some("10.20.30.40".into()),
        label: Some(label.to_owned()),
        intent: None,
        off_rule: None,
        assign_to_self: false,
    }
}

/// A queue's tickets by opening time, to find those open at an instant quickly.
struct Queue<'a>(Vec<&'a TicketRow>);

impl<'a> Queue<'a> {
    fn new(data: &'a Dataset, queue: &str) -> Self {
        let mut v: Vec<&TicketRow> = data.tickets.iter().filter(|t| t.queue == queue).collect();
        v.sort_by_key(|t| t.opened_at);
        Self(v)
    }

    /// Up to 64 tickets open at `at` (tickets live a few days, so look back a bounded way).
    fn open_at(&self, at: chrono::DateTime<Utc>) -> Vec<&'a TicketRow> {
        let at = ts(at);
        let idx = self.0.partition_point(|t| t.opened_at <= at);
        self.0
            .get(idx.saturating_sub(2000)..idx)
            .unwrap_or(&[])
            .iter()
            .rev()
            .filter(|t| t.closed_at.is_none_or(|c| at < c))
            .take(64)
            .copied()
            .collect()
    }
}

/// At each instant, opens a random open ticket of `me`'s queue (optionally only colleagues'
/// tickets, optionally reassigning it to `me` first): the shape of every queue-based strategy.
fn queue_reads(
    label: &str,
    data: &Dataset,
    me: &EmployeeRow,
    times: impl Iterator<Item = chrono::DateTime<Utc>>,
    rng: &mut ChaCha8Rng,
    colleagues_only: bool,
    assign_to_self: bool,
) -> Vec<AccessRow> {
    let queue = me.teams.first().map_or("", String::as_str);
    spread_reads(
        label,
        data,
        me,
        &[queue],
        times,
        rng,
        colleagues_only,
        assign_to_self,
    )
}

/// [`queue_reads`] over several queues, one picked at random for each access.
#[allow(clippy::too_many_arguments)]
fn spread_reads(
    label: &str,
    data: &Dataset,
    me: &EmployeeRow,
    queues: &[&str],
    times: impl Iterator<Item = chrono::DateTime<Utc>>,
    rng: &mut ChaCha8Rng,
    colleagues_only: bool,
    assign_to_self: bool,
) -> Vec<AccessRow> {
    let queues: Vec<Queue> = queues.iter().map(|q| Queue::new(data, q)).collect();
    let mut out = Vec::new();
    for at in times {
        let Some(queue) = queues.get(rng.random_range(0..queues.len().max(1))) else {
            break;
        };
        let open: Vec<_> = queue
            .open_at(at)
            .into_iter()
            .filter(|t| !colleagues_only || t.assignee.as_deref() != Some(me.id.as_str()))
            .collect();
        if let Some(t) = open.get(rng.random_range(0..open.len().max(1))) {
            let mut a = access(me, label, at, &t.customer, Some(&t.id));
            a.assign_to_self = assign_to_self;
            out.push(a);
        }
    }
    out
}

/// Every minute of `me`'s shifts from `from_day`, in steps of `every`.
fn shift_minutes(
    me: &EmployeeRow,
    from_day: i64,
    days: i64,
    every: Duration,
) -> impl Iterator<Item = chrono::DateTime<Utc>> + '_ {
    let mut t = start() + Duration::days(from_day);
    let end = start() + Duration::days(days);
    std::iter::from_fn(move || {
        while t < end {
            let now = t;
            t += every;
            if on_shift(me, now) {
                return Some(now);
            }
            if let Some((s, _)) = shift_at(me, now).filter(|(s, _)| *s > now) {
                t = s;
            }
        }
        None
    })
}

/// The 2019 pattern: walks the customer base during shifts, one customer a second, with no
/// ticket, or through whatever ticket the customer has in someone else's queue.
struct BulkReader;

impl Strategy for BulkReader {
    fn name(&self) -> &'static str {
        "bulk_reader"
    }
    fn describe(&self) -> &'static str {
        "walks the whole consumer base, one customer a second, no tickets of their own (the 2019 pattern)"
    }
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        _rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow> {
        let mut ticket_of = std::collections::HashMap::new();
        for t in &data.tickets {
            ticket_of.entry(t.customer.as_str()).or_insert(t);
        }
        let consumers = data
            .customers
            .iter()
            .filter(|c| c.segment == Segment::Consumer);
        consumers
            .zip(shift_minutes(me, days / 3, days, Duration::seconds(1)))
            .map(|(c, at)| {
                let ticket = ticket_of
                    .get(c.id.as_str())
                    .filter(|t| t.opened_at <= ts(at))
                    .map(|t| t.id.as_str());
                access(me, self.name(), at, &c.id, ticket)
            })
            .collect()
    }
}

/// Stays under the velocity limits: takes a dozen open tickets an hour from their own queue,
/// reassigns them to themself and reads the customer. Ticketgate cannot tell this from work
/// by the rules alone; it caps the rate and the audit trail names every customer.
struct PatientReader;

impl Strategy for PatientReader {
    fn name(&self) -> &'static str {
        "patient_reader"
    }
    fn describe(&self) -> &'static str {
        "self-assigns 12 open tickets an hour from their own queue, under every velocity limit"
    }
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow> {
        let times = shift_minutes(me, days / 6, days, Duration::minutes(5));
        queue_reads(self.name(), data, me, times, rng, false, true)
    }
}

/// Opens colleagues' tickets in their own queue, 30 an hour, hoping for more than a mask.
struct QueueSnooper;

impl Strategy for QueueSnooper {
    fn name(&self) -> &'static str {
        "queue_snooper"
    }
    fn describe(&self) -> &'static str {
        "opens colleagues' open tickets in the same queue, 30 an hour"
    }
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow> {
        let times = shift_minutes(me, days / 4, days / 2, Duration::minutes(2));
        queue_reads(self.name(), data, me, times, rng, true, false)
    }
}

/// Comes back at night, off shift, and reads the queue's customers.
struct OffShiftReader;

impl Strategy for OffShiftReader {
    fn name(&self) -> &'static str {
        "off_shift_reader"
    }
    fn describe(&self) -> &'static str {
        "logs in off shift and reads customers of open tickets in their queue, as assignee"
    }
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow> {
        let first = start() + Duration::days(days / 2);
        let times = (0..)
            .map(move |i| first + Duration::minutes(7 * i))
            .take_while(move |t| *t < start() + Duration::days(days))
            .filter(|t| !on_shift(me, *t));
        queue_reads(self.name(), data, me, times, rng, false, true)
    }
}

/// Evenings after their shift, takes open tickets from every consumer queue (colleagues'
/// teams included), assigns each to themself and reads the customer: the borrowed-queue
/// pattern, spread thin so that no single queue sees much of it.
struct AfterHoursSpreader;

impl Strategy for AfterHoursSpreader {
    fn name(&self) -> &'static str {
        "after_hours_spreader"
    }
    fn describe(&self) -> &'static str {
        "after their shift, self-assigns open tickets across all consumer queues, 10 an hour"
    }
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow> {
        let first = start() + Duration::days(days / 5);
        let times = (0..)
            .map(move |i| first + Duration::minutes(6 * i))
            .take_while(move |t| *t < start() + Duration::days(days))
            .filter(|t| {
                // the four hours after the shift ends
                !on_shift(me, *t) && on_shift(me, *t - Duration::hours(4))
            });
        spread_reads(
            self.name(),
            data,
            me,
            &["billing", "technical", "accounts"],
            times,
            rng,
            true,
            true,
        )
    }
}

/// The patient insider who has read the rules: four self-assigned tickets a shift, close to
/// what colleagues take from the queue themselves, for the whole period; under every
/// velocity limit and every peer threshold. Only complaints can name them.
struct SlowBurner;

impl Strategy for SlowBurner {
    fn name(&self) -> &'static str {
        "slow_burner"
    }
    fn describe(&self) -> &'static str {
        "self-assigns 4 open tickets a shift from their own queue for the whole period, under every limit"
    }
    fn accesses(
        &self,
        data: &Dataset,
        me: &EmployeeRow,
        days: i64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<AccessRow> {
        let times = shift_minutes(me, 0, days, Duration::minutes(120));
        queue_reads(self.name(), data, me, times, rng, false, true)
    }
}
