//! "The worst incident": the incident with the most user-impact minutes, told as a story.

use std::fmt::Write as _;

use super::super::charts::input::{IncidentRow, Results};
use super::super::charts::style::{fmt_num, fmt_pct};
use super::text::{capital, hours_text, md};

/// The worst incident over every run, as a paragraph.
pub(super) fn worst_paragraph(r: &Results) -> String {
    let Some(incidents) = &r.incidents else {
        return "incidents.csv is absent, so the worst incident cannot be described.".to_string();
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
        fmt_num(incidents.len() as f64),
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
