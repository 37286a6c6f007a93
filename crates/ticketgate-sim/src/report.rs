//! The demo / replay report: plain text for the terminal, HTML with SVG charts for `--out`.

use crate::replay::{LabelStats, Stats};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use ticketgate::Outcome;

#[derive(Debug)]
pub struct AuditCheck {
    pub records: u64,
    pub head: String,
    pub verified: Result<(), String>,
    /// label → (customers in `audit affected`, matches the replay's ground truth)
    pub affected: BTreeMap<String, (usize, bool)>,
}

fn dur(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{:.1} h", s as f64 / 3600.0),
    }
}

fn first_alert(ls: &LabelStats) -> String {
    match (&ls.first_alert, ls.first_access) {
        (Some((t, kind)), Some(a)) => format!(
            "{} after first access ({kind})",
            dur(t.millis() - a.millis())
        ),
        _ => "none".into(),
    }
}

fn top(m: &BTreeMap<String, u64>, n: usize) -> String {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1));
    v.iter()
        .take(n)
        .map(|(k, c)| format!("{k} ×{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn text(
    stats: &Stats,
    descriptions: &BTreeMap<String, String>,
    customers: usize,
    audit: Option<&AuditCheck>,
) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n== insiders ({} customers in the organisation; 68,000 leaked in 2019) ==",
        customers
    );
    for (label, ls) in stats.labels.iter().filter(|(l, _)| *l != "legit") {
        let _ = writeln!(
            o,
            "\n{label}: {}",
            descriptions.get(label).map_or("", String::as_str)
        );
        let _ = writeln!(
            o,
            "  accesses {:>8}   customers touched {:>6}   customers leaked {:>6}   masked views {}",
            ls.accesses,
            ls.customers_touched.len(),
            ls.leaked.len(),
            ls.masked_views
        );
        let _ = writeln!(o, "  first alert: {}", first_alert(ls));
        let _ = writeln!(
            o,
            "  alerts: {}",
            if ls.alerts.is_empty() {
                "none".into()
            } else {
                top(&ls.alerts, 6)
            }
        );
        let _ = writeln!(
            o,
            "  refused: {}",
            if ls.refused_by.is_empty() {
                "nothing".into()
            } else {
                top(&ls.refused_by, 5)
            }
        );
        if let Some((n, ok)) = audit.and_then(|a| a.affected.get(label)) {
            let _ = writeln!(
                o,
                "  audit affected: {n} customers, {}",
                if *ok {
                    "matches what was revealed exactly"
                } else {
                    "MISMATCH with what was revealed"
                }
            );
        }
    }
    if let Some(ls) = stats.labels.get("legit") {
        let ordinary = ls.accesses - ls.off_rule;
        let _ = writeln!(o, "\n== legitimate work ==");
        let _ = writeln!(
            o,
            "  accesses {}   customers served {}   false refusals {} ({:.3}%)",
            ls.accesses,
            ls.customers_touched.len(),
            ls.false_refusals,
            100.0 * ls.false_refusals as f64 / ordinary.max(1) as f64
        );
        if !ls.false_refusal_reasons.is_empty() {
            let _ = writeln!(o, "  reasons: {}", top(&ls.false_refusal_reasons, 5));
        }
        let _ = writeln!(
            o,
            "  deliberately off-rule accesses (overtime, sensitive customers): {}, refused {}",
            ls.off_rule, ls.off_rule_refused
        );
    }
    let _ = writeln!(o, "\n== totals ==");
    let _ = writeln!(
        o,
        "  decisions {}   invalid {}   {:.1} s   {:.0} decisions/s",
        stats.decisions,
        stats.invalid.values().sum::<u64>(),
        stats.seconds,
        stats.decisions as f64 / stats.seconds.max(1e-9)
    );
    if !stats.invalid.is_empty() {
        let _ = writeln!(o, "  invalid: {}", top(&stats.invalid, 3));
    }
    if let Some(a) = audit {
        let _ = writeln!(
            o,
            "  audit log: {} records, {}, head {}",
            a.records,
            match &a.verified {
                Ok(()) => "chain verified".to_owned(),
                Err(e) => format!("VERIFY FAILED: {e}"),
            },
            a.head
        );
    }
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Reveals per employee per hour, insiders in red: the shape of bulk reading.
fn reveals_chart(stats: &Stats, insiders: &BTreeMap<String, String>) -> String {
    let (w, h, pad) = (900.0, 300.0, 40.0);
    let hours = stats
        .reveals_per_hour
        .keys()
        .map(|(_, h)| *h)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let peak = stats
        .reveals_per_hour
        .values()
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut s = format!(
        r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="white"/>"#
    );
    let _ = write!(
        s,
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#333"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{}" stroke="#333"/>"##,
        h - pad,
        w - pad,
        h - pad,
        h - pad
    );
    let _ = write!(
        s,
        r#"<text x="{pad}" y="20" font-size="12">reveal decisions per employee per hour (peak {peak}); red: insiders</text>"#
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="11" text-anchor="end">hours since the first access ({hours})</text><text x="4" y="{}" font-size="11">0</text><text x="4" y="{}" font-size="11">{peak}</text>"#,
        w - pad,
        h - pad + 16.0,
        h - pad,
        pad + 4.0
    );
    let mut pts: Vec<_> = stats.reveals_per_hour.iter().collect();
    pts.sort_by_key(|((e, _), _)| insiders.contains_key(e));
    for ((e, hour), n) in pts {
        let x = pad + (*hour as f64 / hours) * (w - 2.0 * pad);
        let y = h - pad - (f64::from(*n) / peak) * (h - 2.0 * pad);
        let (color, r) = if insiders.contains_key(e) {
            ("#d62728", 3.0)
        } else {
            ("#1f77b466", 1.5)
        };
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r}" fill="{color}"><title>{} hour {hour}: {n}</title></circle>"#,
            esc(e)
        );
    }
    s.push_str("</svg>");
    s
}

/// Alerts on a timeline, one row per kind.
fn alerts_chart(stats: &Stats) -> String {
    let kinds: Vec<&String> = {
        let mut k: Vec<&String> = stats.alert_timeline.iter().map(|(_, k, _)| k).collect();
        k.sort();
        k.dedup();
        k
    };
    let (w, pad, row) = (900.0, 140.0, 24.0);
    let h = 40.0 + row * kinds.len().max(1) as f64;
    let (t0, t1) = (
        stats.start.map_or(0, |t| t.millis()),
        stats.end.map_or(1, |t| t.millis()),
    );
    let span = (t1 - t0).max(1) as f64;
    let mut s = format!(
        r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="white"/>"#
    );
    for (i, k) in kinds.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let _ = write!(
            s,
            r#"<text x="4" y="{}" font-size="12">{}</text>"#,
            y + 4.0,
            esc(k)
        );
    }
    for (t, k, label) in &stats.alert_timeline {
        let i = kinds.iter().position(|x| *x == k).unwrap_or(0);
        let x = pad + ((t.millis() - t0) as f64 / span) * (w - pad - 10.0);
        let y = 30.0 + row * i as f64;
        let color = if label == "legit" {
            "#1f77b455"
        } else {
            "#d62728"
        };
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{}" width="2" height="10" fill="{color}"/>"#,
            y - 5.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Fields per outcome for each policy that determined them.
fn rules_chart(stats: &Stats) -> String {
    let rows: Vec<_> = stats.by_rule.iter().collect();
    let (w, pad, row) = (900.0, 230.0, 22.0);
    let h = 20.0 + row * rows.len().max(1) as f64;
    let peak = rows
        .iter()
        .map(|(_, m)| m.values().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut s = format!(
        r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="white"/>"#
    );
    for (i, (rule, m)) in rows.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let _ = write!(
            s,
            r#"<text x="4" y="{}" font-size="12">{}</text>"#,
            y + 12.0,
            esc(rule)
        );
        let mut x = pad;
        for (o, color) in [
            (Outcome::Reveal, "#2ca02c"),
            (Outcome::Mask, "#ff7f0e"),
            (Outcome::Withhold, "#d62728"),
        ] {
            let n = m.get(&o).copied().unwrap_or(0);
            let bw = (n as f64 / peak) * (w - pad - 10.0);
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y}" width="{bw:.1}" height="16" fill="{color}"><title>{}: {n}</title></rect>"#,
                o.as_str()
            );
            x += bw;
        }
    }
    s.push_str("</svg>");
    s
}

pub fn html(report_text: &str, stats: &Stats, insiders: &BTreeMap<String, String>) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>ticketgate report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto}} pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style></head><body>
<h1>ticketgate report</h1>
<h2>Reveals per employee per hour</h2>{}
<h2>Alerts on a timeline</h2><p>red: insiders, blue: legitimate work</p>{}
<h2>Outcomes by rule</h2><p>green reveal, orange mask, red withhold (fields)</p>{}
<h2>Summary</h2><pre>{}</pre></body></html>"#,
        reveals_chart(stats, insiders),
        alerts_chart(stats),
        rules_chart(stats),
        esc(report_text)
    )
}
