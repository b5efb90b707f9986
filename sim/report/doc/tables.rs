//! "The arms side by side": the headline metrics of every arm at the focus point, and
//! their paired differences from the baseline.

use super::super::HEADLINE_METRICS;
use super::super::charts::business::horizon_days;
use super::super::charts::input::Results;
use super::super::charts::style::fmt_num;
use super::super::charts::style::metric_name;
use super::markdown::Block;
use super::text::{diff_text, horizon_text, md, per_run_metric, plus_minus};
use crate::experiment::frontier::per_year;

/// The arms table's columns, (metric, heading): the headline metrics, with user impact per
/// incident (p95) after the incident count in place of the per-run total, which the
/// trade-off table already compares.
fn table_metrics() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for m in HEADLINE_METRICS {
        match m {
            "user_impact_min_total" => {}
            "incidents" => {
                out.push((m, heading(m)));
                out.push(("user_impact_min_p95", heading("user_impact_min_p95")));
            }
            _ => out.push((m, heading(m))),
        }
    }
    out
}

/// A metric's column heading: shorter units than `metric_label`, to keep the table narrow.
fn heading(metric: &str) -> String {
    match metric {
        "deploys_per_day" => "Deploys per day".to_string(),
        "lead_time_h_p50" => "Lead time, median (h)".to_string(),
        "incidents" => "Incidents per run".to_string(),
        "user_impact_min_p95" => "User impact per incident, p95 (user-min)".to_string(),
        "senior_review_h_per_week" => "Senior review (h/week)".to_string(),
        "blocks_false" => "Good changes blocked per run".to_string(),
        other => metric_name(other),
    }
}

/// In place of a lead time: when at least half of the arm's runs end with the work
/// waiting still growing (`queue_unstable`), its lead time is a function of the run
/// length, not a steady-state figure of the organisation.
fn unstable_lead_time(r: &Results, arm: usize, point: usize, metric: &str) -> Option<String> {
    let unstable = r.summary.mean(arm, point, "queue_unstable")? >= 0.5;
    (metric.starts_with("lead_time") && unstable)
        .then(|| "queue unstable: lead time grows with the horizon".to_string())
}

/// The arms table and the table of paired differences, at the focus point.
pub(super) fn arm_tables(r: &Results) -> Vec<Block> {
    let p = r.focus_point();
    let mut out = Vec::new();
    out.push(Block::P(format!(
        "Mean ± half-width of the 95% confidence interval, over {} replications{}. \
         One run = {}{}.",
        r.replications(),
        r.focus_phrase(", ", ""),
        if r.manifest.meta.horizon.is_empty() {
            "the scenario's horizon".to_string()
        } else {
            horizon_text(&r.manifest.meta.horizon)
        },
        if horizon_days(r).is_some() {
            "; totals per run are followed by the same figure per year, in brackets"
        } else {
            ""
        }
    )));
    // " (2,400/yr)" after a per-run total.
    let year = |m: &str, v: Option<f64>| match (horizon_days(r), v) {
        (Some(d), Some(v)) if per_run_metric(m) && v.is_finite() => {
            format!(" ({}/yr)", fmt_num(per_year(v, d)))
        }
        _ => String::new(),
    };
    let metrics: Vec<(&str, String)> = table_metrics()
        .into_iter()
        .filter(|(m, _)| r.summary.has_metric(m))
        .collect();
    let mut head = vec!["Arm".to_string()];
    head.extend(metrics.iter().map(|(_, h)| h.to_string()));
    let rows: Vec<Vec<String>> = r
        .arms
        .iter()
        .enumerate()
        .map(|(a, name)| {
            let mut row = vec![md(name)];
            row.extend(metrics.iter().map(|(m, _)| {
                if let Some(text) = unstable_lead_time(r, a, p, m) {
                    return text;
                }
                r.summary
                    .get(a, p, m)
                    .map(|st| format!("{}{}", plus_minus(st), year(m, Some(st.mean))))
                    .unwrap_or_else(|| "n/a".to_string())
            }));
            row
        })
        .collect();
    out.push(Block::Table {
        head: head.clone(),
        rows,
    });

    let base = r.baseline();
    let diff_rows: Vec<Vec<String>> = (0..r.arms.len())
        .filter(|&a| a != base)
        .map(|a| {
            let mut row = vec![md(&r.arms[a])];
            row.extend(metrics.iter().map(|(m, _)| {
                if let Some(text) = unstable_lead_time(r, a, p, m) {
                    return text;
                }
                r.summary
                    .get(a, p, m)
                    .and_then(|st| {
                        let t = diff_text(st)?;
                        if t == "same in every run" {
                            return Some(t);
                        }
                        Some(format!("{t}{}", year(m, st.diff_mean)))
                    })
                    .unwrap_or_else(|| "n/a".to_string())
            }));
            row
        })
        .filter(|row| row[1..].iter().any(|c| c != "n/a"))
        .collect();
    if !diff_rows.is_empty() {
        out.push(Block::P(format!(
            "Difference from the baseline, **{}**, measured on paired runs (the same simulated changes under both \
             policies). An interval that does not include 0 is a real difference at the 95% level.",
            md(&r.arms[base])
        )));
        out.push(Block::Table {
            head,
            rows: diff_rows,
        });
    }
    out
}
