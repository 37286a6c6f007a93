//! What the demo measures about detection, per insider: how long after the first leak the
//! first alert a security team reads arrived (severity medium or high, as `on_alert` heard
//! of it), and how many customers' scam complaints `audit suspects` needed to name them.
//!
//! The complaint model: a leaked customer is called by the scammers 1 to 10 days after the
//! leak, and one in [`COMPLAINT_ONE_IN`] of those called complains, 0 to 3 days after the
//! call. At each complaint, `suspects` ranks everybody over the trail up to that instant with
//! every complaint received so far, as an investigator would.

use crate::replay::LabelStats;
use chrono::{Datelike, Duration, Timelike, Weekday};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ticketgate::audit::RevealIndex;
use ticketgate::Timestamp;

/// One in this many called customers complains.
pub const COMPLAINT_ONE_IN: u32 = 10;
/// The significance `suspects` must reach to call an attribution firm.
pub const FIRM_P: f64 = 1e-6;

/// A customer reporting scam contact.
#[derive(Debug, Clone)]
pub struct Complaint {
    pub customer: String,
    pub at: Timestamp,
}

/// Complaints from an insider's leaked customers, in time order.
pub fn complaints(ls: &LabelStats, rng: &mut ChaCha8Rng) -> Vec<Complaint> {
    let mut leaked: Vec<(&String, &Timestamp)> = ls.first_leak.iter().collect();
    leaked.sort();
    let mut out: Vec<Complaint> = leaked
        .into_iter()
        .filter_map(|(c, t)| {
            const DAY_MS: i64 = 86_400_000;
            let call = Duration::milliseconds(rng.random_range(DAY_MS..10 * DAY_MS));
            let complain = Duration::milliseconds(rng.random_range(0..3 * DAY_MS));
            rng.random_ratio(1, COMPLAINT_ONE_IN).then(|| Complaint {
                customer: c.clone(),
                at: Timestamp::from_utc(t.utc() + call + complain),
            })
        })
        .collect();
    out.sort_by_key(|c| c.at);
    out
}

/// When `suspects` first named the insider.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// Complaints received, and when, when the insider was first ranked first.
    pub ranked_first: Option<(usize, Timestamp, f64)>,
    /// The same, once ranked first with `p < FIRM_P`.
    pub firm: Option<(usize, Timestamp, f64)>,
    /// Complaints in all.
    pub complaints: usize,
}

/// Replays the complaints one by one through `suspects` over the trail.
pub fn attribute(index: &RevealIndex, insider: &str, complaints: &[Complaint]) -> Attribution {
    let mut out = Attribution {
        complaints: complaints.len(),
        ..Attribution::default()
    };
    let mut so_far = Vec::new();
    for (i, c) in complaints.iter().enumerate() {
        so_far.push(c.customer.clone());
        let ranked = index.rank(&so_far, Some(c.at));
        let Some(top) = ranked.first().filter(|s| s.employee == insider) else {
            continue;
        };
        out.ranked_first.get_or_insert((i + 1, c.at, top.p_value));
        if top.p_value < FIRM_P {
            out.firm = Some((i + 1, c.at, top.p_value));
            break;
        }
    }
    out
}

/// Hours of a security team's working week (Monday to Friday, 09:00 to 17:00 UTC) between
/// two instants.
pub fn working_hours(from: Timestamp, to: Timestamp) -> f64 {
    let (mut t, end) = (from.utc(), to.utc());
    let mut hours = 0.0;
    while t < end {
        let next = (t + Duration::minutes(15)).min(end);
        let weekday = !matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
        if weekday && (9..17).contains(&t.hour()) {
            hours += (next - t).num_seconds() as f64 / 3600.0;
        }
        t = next;
    }
    hours
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_hours_skip_nights_and_weekends() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        // Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday
        assert_eq!(
            working_hours(t("2026-10-02T16:00:00Z"), t("2026-10-05T10:00:00Z")),
            2.0
        );
        assert_eq!(
            working_hours(t("2026-10-05T20:00:00Z"), t("2026-10-06T08:00:00Z")),
            0.0
        );
    }
}

/// Everything the report says about one insider label.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub first_leak: Option<Timestamp>,
    /// The first alert of severity medium or high, and its kind.
    pub first_alert: Option<(Timestamp, String)>,
    /// From the first leak (or first access, if nothing leaked) to that alert.
    pub hours_to_alert: Option<f64>,
    pub working_hours_to_alert: Option<f64>,
    /// Customers leaked before that alert (all of them, without an alert).
    pub leaked_before_alert: usize,
    pub attribution: Attribution,
    /// Complaint times, for the chart.
    pub complaint_times: Vec<Timestamp>,
}

/// Measures every insider label of a replay, reading reveals back from the trail.
pub fn measure(
    stats: &crate::replay::Stats,
    trail: &std::path::Path,
) -> Result<std::collections::BTreeMap<String, Measured>, String> {
    use rand::SeedableRng;
    let index =
        RevealIndex::load(&[trail.to_path_buf()], None, None, None).map_err(|e| e.to_string())?;
    let mut rng = ChaCha8Rng::seed_from_u64(2019);
    let mut out = std::collections::BTreeMap::new();
    for (label, ls) in stats.labels.iter().filter(|(l, _)| *l != "legit") {
        let first_leak = ls.first_leak.values().min().copied();
        let start = first_leak.or(ls.first_access);
        let first_alert = ls.first_episode.clone();
        let (hours, working) = match (start, &first_alert) {
            (Some(s), Some((a, _))) => (
                Some((a.millis() - s.millis()).max(0) as f64 / 3_600_000.0),
                Some(working_hours(s, *a)),
            ),
            _ => (None, None),
        };
        let leaked_before_alert = match &first_alert {
            Some((a, _)) => ls.first_leak.values().filter(|t| *t < a).count(),
            None => ls.first_leak.len(),
        };
        let complaints = complaints(ls, &mut rng);
        let attribution = ls
            .employees
            .iter()
            .map(|e| attribute(&index, e, &complaints))
            .min_by_key(|a| a.ranked_first.as_ref().map_or(usize::MAX, |r| r.0))
            .unwrap_or_default();
        out.insert(
            label.clone(),
            Measured {
                first_leak,
                first_alert,
                hours_to_alert: hours,
                working_hours_to_alert: working,
                leaked_before_alert,
                attribution,
                complaint_times: complaints.iter().map(|c| c.at).collect(),
            },
        );
    }
    Ok(out)
}
