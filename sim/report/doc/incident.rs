//! "The worst incident": the incident with the most user-impact minutes, told as a story;
//! then how often incidents that bad happen and how user impact piles up (the tail and
//! cumulative-impact charts), and the appendix with one simulated run.

use std::fmt::Write as _;

use super::super::charts::{ChartFile, Charts};
use super::Block;

use super::super::charts::input::{IncidentRow, Results};
use super::super::charts::style::{fmt_num, fmt_pct};
use super::text::{capital, hours_text, md};

/// The worst incident over every run, as a paragraph.
pub(super) fn worst_paragraph(r: &Results) -> String {
    let Some(tail) = &r.tail else {
        return "tail.csv and incidents.csv are absent, so the worst incident cannot be described."
            .to_string();
    };
    let Some(w) = r.worst_incident() else {
        return "No incident happened in any run.".to_string();
    };
    let article = |s: &str| {
        if s.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        }
    };
    let author = if w.author_group.is_empty() || w.author_group == w.author_kind {
        format!("{} {}", article(&w.author_kind), w.author_kind)
    } else {
        format!(
            "{} {} (group `{}`)",
            article(&w.author_kind),
            w.author_kind,
            w.author_group
        )
    };
    let severity = w.severity.replace('_', " ");
    let at = if r.points.len() > 1 {
        format!(" at `{}`", r.point_label_short(w.point))
    } else {
        String::new()
    };
    let services = w.services_hit;
    let spread = match services {
        n if n <= 1 => "and stayed there (1 service down)".to_string(),
        n => format!("and spread until {n} services were down"),
    };
    let mut s = format!(
        "Of all {} incidents in every run, the worst happened under **{}**{at} (run {}, replication {}). \
         {} {} change by {author}, with {} {severity} defect, started at service `{}` on day {} {spread}. \
         At its peak it cut off {} of users. ",
        fmt_num(tail.incidents_total as f64),
        md(&w.arm),
        w.run_id,
        w.replication,
        capital(article(&w.class)),
        w.class,
        article(&severity),
        w.origin,
        (w.started_h / 24.0).floor() as i64 + 1,
        fmt_pct(w.users_hit_peak),
    );
    s.push_str(&recovery_sentence(w));
    let _ = write!(
        s,
        "It cost {} user-impact minutes",
        fmt_num(w.user_impact_min)
    );
    if w.user_impact_min > 0.0 {
        let _ = write!(
            s,
            ", as much as every user cut off for {} hours",
            fmt_num(w.user_impact_min / 60.0)
        );
    }
    s.push('.');
    s
}

/// "It was detected after 25 minutes and took 4.59 hours to restore by rolling the change
/// back. ", or nothing when it was never detected.
fn recovery_sentence(w: &IncidentRow) -> String {
    let mut s = String::new();
    if w.detected_h.is_finite() {
        let _ = write!(
            s,
            "It was detected after {}",
            hours_text(w.detected_h - w.started_h)
        );
        if w.duration_h.is_finite() {
            let _ = write!(s, " and took {} to restore", hours_text(w.duration_h));
        }
        match w.recovery.as_str() {
            "" => {}
            "rebuild" => {
                s.push_str(" by rebuilding the environment (a rollback cannot undo a deletion)")
            }
            "rollback" => s.push_str(" by rolling the change back"),
            other => {
                let _ = write!(s, " by {}", other.replace('_', " "));
            }
        }
        s.push_str(". ");
    }
    s
}

/// Whether chart `name` is shown by this module's sections (not under "More charts").
pub(super) fn shown_here(name: &str) -> bool {
    name == "ccdf_impact" || name == "impact_over_time" || name.starts_with("timeline_")
}

fn figure(f: &ChartFile) -> Block {
    Block::Figure {
        name: f.name.clone(),
        caption: md(&f.caption),
    }
}

/// "How often, and how much": the tail in incidents per year and the cumulative impact.
pub(super) fn risk_section(charts: &Charts) -> Vec<Block> {
    let tail = charts.get("ccdf_impact");
    let impact = charts.get("impact_over_time");
    if tail.is_none() && impact.is_none() {
        return Vec::new();
    }
    let mut b = vec![Block::H2("How often, and how much".to_string())];
    if let Some(f) = tail {
        b.push(Block::P(
            "How many incidents a year are at least this bad, per arm: read across at a size of \
             outage you care about and compare the heights. These are counts per year (mean over \
             every replication), not shares, so an arm with fewer incidents sits lower."
                .to_string(),
        ));
        b.push(figure(f));
    }
    if let Some(f) = impact {
        b.push(Block::P(
            "User impact piling up over the simulated period, per arm: the mean over every \
             replication and its 95% confidence band."
                .to_string(),
        ));
        b.push(figure(f));
    }
    b
}

/// The appendix: one simulated run, day by day.
pub(super) fn appendix(charts: &Charts) -> Vec<Block> {
    let runs: Vec<&ChartFile> = charts
        .files
        .iter()
        .filter(|c| c.name.starts_with("timeline_"))
        .collect();
    if runs.is_empty() {
        return Vec::new();
    }
    let mut b = vec![
        Block::H2("Appendix: one simulated run".to_string()),
        Block::P(
            "One replication only, to show what the model does day by day; the charts above \
             average over every replication."
                .to_string(),
        ),
    ];
    b.extend(runs.into_iter().map(figure));
    b
}
