//! The options in business units, shared by the report's first-screen table and the
//! forest plot, so both say the same: outages of the environment-deletion kind per year,
//! user-hours lost per year, deploys per week given up against the baseline, senior FTEs
//! used, and hours changes are held by breakers per year.
//!
//! Every quantity is oriented so that more is worse, which lets the table and the forest
//! plot read one way ("right of zero is worse"). Per-run metrics are scaled to a year by
//! 365 days / horizon (`frontier::per_year`); senior hours become FTEs through the
//! seniors' scheduled hours per week recorded in the manifest (taken from the scenario's
//! `[[reviewers]]` working hours).

use crate::experiment::frontier::{self, Interval, Mark};
use crate::scenario::Worse;

use super::input::Results;
use super::style::fmt_num;

/// A business quantity of the first screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Incidents that deleted an environment, per year.
    Deletions,
    /// User-impact minutes / 60, per year.
    UserHours,
    /// The velocity metric given up against the baseline, per week.
    GivenUp,
    /// Senior review hours per week over one senior's scheduled hours per week.
    SeniorFtes,
    /// Hours good changes were held by breakers, per year.
    HeldHours,
}

impl Quantity {
    /// Every quantity, in the table's column order.
    pub const ALL: [Quantity; 5] = [
        Quantity::Deletions,
        Quantity::UserHours,
        Quantity::GivenUp,
        Quantity::SeniorFtes,
        Quantity::HeldHours,
    ];
}

/// One quantity as this folder can show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// Which quantity.
    pub kind: Quantity,
    /// The summary metric it comes from.
    pub metric: String,
    /// Column heading, with its unit.
    pub heading: String,
    /// A shorter title for a chart panel.
    pub short: String,
    /// Multiplier from the metric (or its negated difference, for `GivenUp`) to the unit.
    scale: f64,
}

/// Days in one run, from the manifest's horizon ("90d", "25w 5d"); `None` when it is not a
/// positive duration.
pub fn horizon_days(r: &Results) -> Option<f64> {
    let d = humantime::parse_duration(r.manifest.meta.horizon.trim()).ok()?;
    let days = d.as_secs_f64() / 86_400.0;
    (days > 0.0).then_some(days)
}

/// "Deploys per day" → "Deploys per week given up".
fn given_up_heading(velocity: &str) -> String {
    let name = super::style::metric_name(velocity);
    match name.strip_suffix(" per day") {
        Some(stem) => format!("{stem} per week given up (negative: gained)"),
        None => format!("{name} given up, x7 (per week; negative: gained)"),
    }
}

/// The quantities this folder has the metrics for, in column order.
pub fn measures(r: &Results) -> Vec<Measure> {
    let year = horizon_days(r).map(|d| frontier::per_year(1.0, d));
    let (per, per_short, run_scale) = match year {
        Some(y) => ("per year", "/ year", y),
        None => ("per run", "/ run", 1.0),
    };
    let seniors = r.manifest.meta.senior_hours_per_week;
    let mut out = Vec::new();
    for kind in Quantity::ALL {
        let (metric, heading, short, scale) = match kind {
            Quantity::Deletions => (
                "environment_deletions".to_string(),
                format!("Outages of the environment-deletion kind {per}"),
                format!("Environment deletions {per_short}"),
                run_scale,
            ),
            Quantity::UserHours => (
                "user_impact_min_total".to_string(),
                format!("User-hours lost {per}"),
                format!("User-hours lost {per_short}"),
                run_scale / 60.0,
            ),
            Quantity::GivenUp => {
                let v = r.velocity().to_string();
                let per_day = v.ends_with("_per_day");
                let heading = if per_day {
                    given_up_heading(&v)
                } else {
                    format!(
                        "{} given up (negative: gained)",
                        super::style::metric_name(&v)
                    )
                };
                let short = heading.clone();
                (v, heading, short, if per_day { 7.0 } else { 1.0 })
            }
            Quantity::SeniorFtes => {
                if seniors > 0.0 {
                    (
                        "senior_review_h_per_week".to_string(),
                        format!(
                            "Senior FTEs used (senior review h/week / {} scheduled h per senior)",
                            super::style::fmt_num(seniors)
                        ),
                        "Senior FTEs used".to_string(),
                        1.0 / seniors,
                    )
                } else {
                    (
                        "senior_review_h_per_week".to_string(),
                        "Senior review hours per week".to_string(),
                        "Senior review h / week".to_string(),
                        1.0,
                    )
                }
            }
            Quantity::HeldHours => (
                "block_delay_h_total".to_string(),
                format!("Hours changes are held by breakers {per}"),
                format!("Hours held by breakers {per_short}"),
                run_scale,
            ),
        };
        if r.summary.has_metric(&metric) {
            out.push(Measure {
                kind,
                metric,
                heading,
                short,
                scale,
            });
        }
    }
    out
}

/// `i` scaled by `k`, the ends swapped when `k` is negative.
fn scaled(i: Interval, k: f64) -> Interval {
    let (a, b) = (i.low * k, i.high * k);
    Interval {
        mean: i.mean * k,
        low: a.min(b),
        high: a.max(b),
    }
}

impl Measure {
    /// Arm `a`'s level at point `p` in this unit (for `GivenUp`, its paired difference:
    /// the baseline gives up nothing).
    pub fn value(&self, r: &Results, a: usize, p: usize) -> Option<Interval> {
        match self.kind {
            Quantity::GivenUp => {
                if a == r.baseline() {
                    Some(Interval::exact(0.0))
                } else {
                    self.diff(r, a, p)
                }
            }
            Quantity::Deletions
            | Quantity::UserHours
            | Quantity::SeniorFtes
            | Quantity::HeldHours => {
                let s = r.summary.get(a, p, &self.metric)?;
                Some(scaled(
                    Interval {
                        mean: s.mean,
                        low: s.ci_low,
                        high: s.ci_high,
                    },
                    self.scale,
                ))
            }
        }
    }

    /// Arm `a`'s paired difference from the baseline at point `p`, in this unit, oriented
    /// so that positive is worse. `None` for the baseline or without a paired difference.
    pub fn diff(&self, r: &Results, a: usize, p: usize) -> Option<Interval> {
        if a == r.baseline() {
            return None;
        }
        let s = r.summary.get(a, p, &self.metric)?;
        let d = Interval {
            mean: s.diff_mean?,
            low: s.diff_low?,
            high: s.diff_high?,
        };
        let k = match self.kind {
            // Less velocity is more given up.
            Quantity::GivenUp => -self.scale,
            Quantity::Deletions
            | Quantity::UserHours
            | Quantity::SeniorFtes
            | Quantity::HeldHours => self.scale,
        };
        Some(scaled(d, k))
    }

    /// Better / worse / inconclusive / same against the baseline (paired 95% CI).
    pub fn mark(&self, r: &Results, a: usize, p: usize) -> Option<Mark> {
        self.diff(r, a, p).map(|d| frontier::mark(d, Worse::Higher))
    }
}

/// A number to two significant figures, thousands separated: 5.234 → "5.2", 1234 →
/// "1,200", 0.0456 → "0.046".
pub fn sig2(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let e = v.abs().log10().floor() as i32;
    let step = 10f64.powi(e - 1);
    let r = (v / step).round() * step;
    // Rounding may carry into a new digit (9.96 → 10): the precision follows the result.
    let e = if r == 0.0 {
        e
    } else {
        r.abs().log10().floor() as i32
    };
    if e >= 1 {
        fmt_num(r.round())
    } else {
        let d = (1 - e).max(0) as usize;
        let s = format!("{r:.d$}");
        if s.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            "0".to_string()
        } else {
            s
        }
    }
}
