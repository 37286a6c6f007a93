//! Complaint triangulation: given customers who reported scam contact, rank the employees
//! who had their data revealed by how unlikely that overlap is by chance.
//!
//! For each employee `e`: `N` distinct customers had a field revealed to anyone in the
//! period, `K` of them complained, `n` were revealed to `e`, and `k` of those complained. If
//! `e`'s customers were a random draw of `n` from the `N`, `k` would follow the
//! hypergeometric distribution; `p_value` is its upper tail `P(X >= k)`. An employee who saw
//! most complainants while seeing few customers overall gets a tiny `p_value`; one who simply
//! sees many customers does not.

use super::query::for_each_record;
use crate::decision::Outcome;
use crate::error::AuditError;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// One ranked employee.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suspect {
    /// Employee id.
    pub employee: String,
    /// Complainants whose data was revealed to them.
    pub matched: u64,
    /// Distinct customers revealed to them in the period.
    pub revealed_customers: u64,
    /// `P(X >= matched)` under the hypergeometric null (see the module docs).
    pub p_value: f64,
}

/// `P(X >= k)` for `X ~ Hypergeometric(population, successes, draws)`.
pub fn hypergeometric_tail(population: u64, successes: u64, draws: u64, k: u64) -> f64 {
    let (n_pop, n_succ, n_draw) = (population as f64, successes as f64, draws as f64);
    let hi = successes.min(draws);
    let lo = draws.saturating_sub(population.saturating_sub(successes));
    if k > hi {
        return 0.0;
    }
    if k <= lo {
        return 1.0;
    }
    // ln P(X = lo) from log-binomials, then the ratio recurrence up to `hi`
    let ln_choose = |n: f64, r: f64| -> f64 {
        let r = r.min(n - r);
        (1..=(r as u64))
            .map(|i| ((n - r + i as f64) / i as f64).ln())
            .sum()
    };
    let lo_f = lo as f64;
    let mut ln_p = ln_choose(n_succ, lo_f) + ln_choose(n_pop - n_succ, n_draw - lo_f)
        - ln_choose(n_pop, n_draw);
    let mut tail = 0.0;
    for x in lo..=hi {
        if x >= k {
            tail += ln_p.exp();
        }
        let xf = x as f64;
        let ratio =
            ((n_succ - xf) * (n_draw - xf)) / ((xf + 1.0) * (n_pop - n_succ - n_draw + xf + 1.0));
        if ratio <= 0.0 {
            break;
        }
        ln_p += ratio.ln();
    }
    tail.clamp(0.0, 1.0)
}

/// Ranks employees by how unlikely their overlap with `complainants` is, most suspicious
/// first. With `field`, only reveals of that field count (e.g. `phone` for scam calls).
pub fn suspects(
    paths: &[PathBuf],
    complainants: &[String],
    field: Option<&str>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<Suspect>, AuditError> {
    Ok(RevealIndex::load(paths, field, since, until)?.rank(complainants, None))
}

/// Who had whose data revealed, and first when: read from the trail once, then ranked for
/// as many complaint sets and cut-off times as needed (the demo asks after every complaint).
#[derive(Debug, Default)]
pub struct RevealIndex {
    /// employee → customer → first reveal
    first: BTreeMap<String, HashMap<String, Timestamp>>,
}

impl RevealIndex {
    /// Reads the reveals of the trail (of `field` only, if given) within the period.
    pub fn load(
        paths: &[PathBuf],
        field: Option<&str>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Self, AuditError> {
        let mut index = Self::default();
        for_each_record(paths, |r| {
            let Some(d) = r.decision else { return };
            if since.is_some_and(|s| d.at < s) || until.is_some_and(|u| d.at >= u) {
                return;
            }
            let revealed = d
                .fields
                .iter()
                .any(|(f, fd)| fd.outcome == Outcome::Reveal && field.is_none_or(|want| want == f));
            if revealed {
                let t = index
                    .first
                    .entry(d.employee)
                    .or_default()
                    .entry(d.customer)
                    .or_insert(d.at);
                *t = (*t).min(d.at);
            }
        })?;
        Ok(index)
    }

    /// [`suspects`] over the reveals made before `until` (all of them with `None`).
    pub fn rank(&self, complainants: &[String], until: Option<Timestamp>) -> Vec<Suspect> {
        let complained: HashSet<&str> = complainants.iter().map(String::as_str).collect();
        let before = |t: &Timestamp| until.is_none_or(|u| *t < u);
        let mut population: HashSet<&str> = HashSet::new();
        for seen in self.first.values() {
            population.extend(
                seen.iter()
                    .filter(|(_, t)| before(t))
                    .map(|(c, _)| c.as_str()),
            );
        }
        let n_pop = population.len() as u64;
        let k_pop = population
            .iter()
            .filter(|c| complained.contains(*c))
            .count() as u64;
        let mut out: Vec<Suspect> = self
            .first
            .iter()
            .filter_map(|(employee, seen)| {
                let seen: Vec<&str> = seen
                    .iter()
                    .filter(|(_, t)| before(t))
                    .map(|(c, _)| c.as_str())
                    .collect();
                let matched = seen.iter().filter(|c| complained.contains(*c)).count() as u64;
                (matched > 0).then(|| Suspect {
                    p_value: hypergeometric_tail(n_pop, k_pop, seen.len() as u64, matched),
                    employee: employee.clone(),
                    matched,
                    revealed_customers: seen.len() as u64,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            a.p_value
                .total_cmp(&b.p_value)
                .then(b.matched.cmp(&a.matched))
                .then(a.employee.cmp(&b.employee))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_matches_small_cases_by_hand() {
        // population 10, 3 complainants, 3 draws: P(X >= 3) = 1 / C(10,3) = 1/120
        assert!((hypergeometric_tail(10, 3, 3, 3) - 1.0 / 120.0).abs() < 1e-12);
        assert!((hypergeometric_tail(10, 3, 3, 0) - 1.0).abs() < 1e-12);
        // P(X >= 1) = 1 - C(7,3)/C(10,3) = 1 - 35/120
        assert!((hypergeometric_tail(10, 3, 3, 1) - 85.0 / 120.0).abs() < 1e-12);
        assert_eq!(hypergeometric_tail(10, 3, 3, 4), 0.0);
        // the 2019 scale: 5 complainants among 68,000, all seen by one of 1,500 reads
        assert!(hypergeometric_tail(68_000, 5, 1_500, 5) < 1e-6);
    }
}
