//! The demo / replay report: plain text for the terminal, HTML with tables and `plotters`
//! SVG charts for `--out`.

use crate::detection::Measured;
use crate::replay::{LabelStats, Stats};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use ticketgate::{Outcome, Timestamp};

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
    measured: &BTreeMap<String, Measured>,
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
        if let Some(m) = measured.get(label) {
            let _ = writeln!(
                o,
                "  first alert a security team reads (medium+): {} after the first leak ({} working hours), {} customers leaked before it",
                hours(m.hours_to_alert),
                hours(m.working_hours_to_alert),
                m.leaked_before_alert
            );
            let named = |r: &Option<(usize, Timestamp, f64)>| {
                r.as_ref().map_or_else(
                    || "not yet".to_owned(),
                    |(k, t, p)| format!("after {k} complaint(s), {t} (p = {p:.1e})"),
                )
            };
            let _ = writeln!(
                o,
                "  complaints {}: ranked first by `audit suspects` {}; with p < 1e-6 {}",
                m.attribution.complaints,
                named(&m.attribution.ranked_first),
                named(&m.attribution.firm)
            );
        }
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
        let days = ls.agent_days.len().max(1) as f64;
        let total: u64 = ls.episodes.values().sum();
        let _ = writeln!(
            o,
            "  alert episodes of severity medium+ (what a security team reads): {total} in {} agent-days = {:.2} per 100 agent-days{}",
            ls.agent_days.len(),
            100.0 * total as f64 / days,
            if ls.episodes.is_empty() { String::new() } else { format!(" ({})", top(&ls.episodes, 6)) }
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

type Fallible = Result<(), Box<dyn std::error::Error>>;

/// One chart as an SVG string, drawn by `plotters`.
fn svg(w: u32, h: u32, draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Fallible) -> String {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Into::into));
        if let Err(e) = drawn {
            log::warn!("chart not drawn: {e}");
        }
    }
    buf
}

fn days_since(t0: i64, t: Timestamp) -> f64 {
    (t.millis() - t0) as f64 / 86_400_000.0
}

/// Cumulative customers leaked per insider strategy, day by day.
fn leaked_chart(stats: &Stats) -> String {
    let t0 = stats.start.map_or(0, |t| t.millis());
    let days = stats.end.map_or(1.0, |e| days_since(t0, e)).max(1.0);
    let series: Vec<(&String, Vec<(f64, f64)>)> = stats
        .labels
        .iter()
        .filter(|(l, _)| *l != "legit")
        .map(|(l, ls)| {
            let mut times: Vec<Timestamp> = ls.first_leak.values().copied().collect();
            times.sort();
            let mut pts = vec![(0.0, 0.0)];
            pts.extend(
                times
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (days_since(t0, *t), (i + 1) as f64)),
            );
            pts.push((days, times.len() as f64));
            (l, pts)
        })
        .collect();
    let top = series
        .iter()
        .map(|(_, p)| p.last().map_or(0.0, |x| x.1))
        .fold(10.0, f64::max);
    svg(900, 360, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Customers leaked over time, per insider strategy",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..days, 0.0..top * 1.05)?;
        chart
            .configure_mesh()
            .x_desc("days since the start")
            .y_desc("customers leaked")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()?;
        for (i, (label, pts)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
                .label(format!("{label} ({})", pts.last().map_or(0.0, |p| p.1)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        Ok(())
    })
}

/// Working hours from the first leak to the first alert a security team reads, per
/// strategy, against the 8-hour target; and complaints until `suspects` names the insider.
fn detection_chart(measured: &BTreeMap<String, Measured>) -> String {
    let rows: Vec<(&String, f64, Option<usize>)> = measured
        .iter()
        .map(|(l, m)| {
            (
                l,
                m.working_hours_to_alert.unwrap_or(f64::NAN),
                m.attribution.ranked_first.as_ref().map(|r| r.0),
            )
        })
        .collect();
    let top = rows
        .iter()
        .map(|r| r.1)
        .filter(|h| h.is_finite())
        .fold(10.0, f64::max);
    let n = rows.len().max(1);
    svg(900, 80 + 44 * n as u32, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Working hours from the first leak to the first alert a security team reads (target: 8)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..top * 1.1, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("working hours (Mon-Fri 09:00-17:00 UTC)")
            .x_label_formatter(&tick)
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => rows.get(*i).map_or(String::new(), |r| r.0.clone()),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(
            rows.iter()
                .enumerate()
                .filter(|(_, r)| r.1.is_finite())
                .map(|(i, r)| {
                    let color = if r.1 <= 8.0 {
                        GREEN.mix(0.7)
                    } else {
                        RED.mix(0.7)
                    };
                    Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(i)),
                            (r.1, SegmentValue::Exact(i + 1)),
                        ],
                        color.filled(),
                    )
                }),
        )?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(8.0, SegmentValue::Exact(0)), (8.0, SegmentValue::Exact(n))],
            BLACK.stroke_width(2),
        )))?;
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            let label = match (r.1.is_finite(), r.2) {
                (true, Some(k)) => format!("{:.1} h; named after {k} complaint(s)", r.1),
                (true, None) => format!("{:.1} h", r.1),
                (false, Some(k)) => format!("never alerted; named after {k} complaint(s)"),
                (false, None) => "never alerted".to_owned(),
            };
            let x = if r.1.is_finite() { r.1 } else { 0.0 };
            Text::new(
                label,
                (x + top * 0.01, SegmentValue::CenterOf(i)),
                ("sans-serif", 13),
            )
        }))?;
        Ok(())
    })
}

/// Fields each rule decided, by outcome (log scale: R1 decides most of the work).
fn rules_chart(stats: &Stats) -> String {
    let rules: Vec<(&String, [u64; 3])> = stats
        .by_rule
        .iter()
        .map(|(r, m)| {
            let get = |o| m.get(&o).copied().unwrap_or(0);
            (
                r,
                [
                    get(Outcome::Reveal),
                    get(Outcome::Mask),
                    get(Outcome::Withhold),
                ],
            )
        })
        .collect();
    let n = rules.len().max(1);
    let top = rules.iter().flat_map(|r| r.1).max().unwrap_or(10).max(10) as f64;
    svg(900, 80 + 40 * n as u32, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Fields decided by each rule: reveal (green), mask (orange), withhold (red)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(230)
            .build_cartesian_2d((1.0..top * 2.0).log_scale(), 0.0..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("fields (log scale)")
            .x_label_formatter(&tick)
            .y_labels(2 * n + 1)
            .y_label_formatter(&|v| {
                let i = v.floor();
                if (v - i - 0.5).abs() < 1e-6 {
                    rules.get(i as usize).map_or(String::new(), |r| r.0.clone())
                } else {
                    String::new()
                }
            })
            .draw()?;
        let colors = [GREEN.mix(0.8), RGBColor(255, 150, 0).mix(0.9), RED.mix(0.8)];
        for (k, color) in colors.iter().enumerate() {
            let bars = rules.iter().enumerate().filter_map(|(i, r)| {
                let n = r.1.get(k).copied().filter(|n| *n > 0)?;
                let y = i as f64 + 0.1 + 0.8 * k as f64 / 3.0;
                Some(Rectangle::new(
                    [(1.0, y), (n as f64, y + 0.8 / 3.0)],
                    color.filled(),
                ))
            });
            chart.draw_series(bars)?;
        }
        Ok(())
    })
}

/// An axis label: counts and whole hours as people write them (`1,000`, not `1000.0`).
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() > 1e-9 {
        return format!("{v:.1}");
    }
    let digits = format!("{}", v.round().abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if *v < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn hours(h: Option<f64>) -> String {
    h.map_or_else(|| "never".to_owned(), |h| format!("{h:.1} h"))
}

/// The headline and per-strategy detection tables.
fn tables(stats: &Stats, measured: &BTreeMap<String, Measured>) -> String {
    let mut o = String::new();
    let worst_leak = stats
        .labels
        .iter()
        .filter(|(l, _)| *l != "legit")
        .map(|(_, ls)| ls.leaked.len())
        .max()
        .unwrap_or(0);
    let worst_alert = measured
        .values()
        .filter(|m| m.first_leak.is_some())
        .map(|m| m.working_hours_to_alert.unwrap_or(f64::INFINITY))
        .fold(0.0, f64::max);
    let most_complaints = measured
        .values()
        .filter(|m| m.first_leak.is_some())
        .map(|m| {
            m.attribution
                .ranked_first
                .as_ref()
                .map_or(usize::MAX, |r| r.0)
        })
        .max()
        .unwrap_or(0);
    let _ = write!(
        o,
        "<table><tr><th></th><th>2019</th><th>this demo (worst insider)</th></tr>\
         <tr><td>customers leaked</td><td>68,000</td><td>{worst_leak}</td></tr>\
         <tr><td>first alert after the first leak</td><td>none: customers' complaints</td><td>{}</td></tr>\
         <tr><td>insider named</td><td>about 3 months after the first complaints</td><td>{}</td></tr></table>",
        if worst_alert.is_finite() { format!("{worst_alert:.1} working hours") } else { "never (see below)".into() },
        if most_complaints == usize::MAX { "not by complaints (see below)".into() } else { format!("after at most {most_complaints} complaint(s)") },
    );
    let _ = write!(
        o,
        "<h2>Detection per insider</h2><table><tr><th>strategy</th><th>leaked</th><th>first alert (kind)</th>\
         <th>hours</th><th>working hours</th><th>leaked before it</th><th>complaints</th>\
         <th>ranked first by suspects after</th><th>p &lt; 1e-6 after</th></tr>"
    );
    for (label, m) in measured {
        let ls = stats.labels.get(label);
        let att = &m.attribution;
        let cell = |r: &Option<(usize, Timestamp, f64)>| {
            r.as_ref().map_or_else(
                || "-".to_owned(),
                |(k, t, p)| {
                    format!(
                        "{k} complaint(s), {} (p = {p:.1e})",
                        t.to_string().get(..10).unwrap_or("")
                    )
                },
            )
        };
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(label),
            ls.map_or(0, |l| l.leaked.len()),
            m.first_alert.as_ref().map_or("none".to_owned(), |(_, k)| esc(k)),
            hours(m.hours_to_alert),
            hours(m.working_hours_to_alert),
            m.leaked_before_alert,
            att.complaints,
            cell(&att.ranked_first),
            cell(&att.firm),
        );
    }
    o.push_str("</table>");
    if let Some(ls) = stats.labels.get("legit") {
        let days = ls.agent_days.len().max(1) as f64;
        let total: u64 = ls.episodes.values().sum();
        let _ = write!(
            o,
            "<h2>Legitimate work</h2><p>{} agent-days, {} false refusals; alert episodes a security team would read \
             (severity medium or high): <b>{total}</b>, <b>{:.2} per 100 agent-days</b> (target: at most 1)</p><table><tr><th>kind</th><th>episodes</th><th>per 100 agent-days</th></tr>",
            ls.agent_days.len(),
            ls.false_refusals,
            100.0 * total as f64 / days
        );
        for (k, n) in &ls.episodes {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{n}</td><td>{:.2}</td></tr>",
                esc(k),
                100.0 * *n as f64 / days
            );
        }
        o.push_str("</table>");
    }
    o
}

pub fn html(report_text: &str, stats: &Stats, measured: &BTreeMap<String, Measured>) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>ticketgate report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}} pre{{background:#f6f6f6;padding:1em;overflow:auto}}
table{{border-collapse:collapse;margin:1em 0}} td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}} th{{background:#eee}}</style></head><body>
<h1>ticketgate report</h1>
<h2>Against 2019</h2>{}
{}{}{}
<h2>Full text</h2><pre>{}</pre></body></html>"#,
        tables(stats, measured),
        leaked_chart(stats),
        detection_chart(measured),
        rules_chart(stats),
        esc(report_text)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn axis_labels_are_written_as_people_write_numbers() {
        let cases = [
            (0.0, "0"),
            (5.0, "5"),
            (1400.0, "1,400"),
            (100_000.0, "100,000"),
            (2.5, "2.5"),
        ];
        for (v, want) in cases {
            assert_eq!(super::tick(&v), want);
        }
    }
}
