//! `[objectives]`: the frontier's velocity and risk metrics, the costs the recommendation
//! prices, and the constraints it must meet.
//!
//! ```toml
//! [objectives]
//! velocity = "deploys_per_day"          # higher is better
//! risk = "user_impact_min_total"        # lower is better
//! # What choosing a setting may cost; `worse` says which way the metric moves when it
//! # costs more. The velocity metric is always a cost (worse = "lower"), listed or not.
//! costs = [
//!   { metric = "senior_review_h_per_week", worse = "higher" },
//!   { metric = "block_delay_h_total", worse = "higher" },
//! ]
//! constraints = [
//!   { metric = "environment_deletions", at_most = 1.0 },          # a number: the mean
//!   { metric = "user_impact_min_total", at_most = "arm:senior-signoff" }, # another arm
//! ]
//! ```
//!
//! A bound `"arm:NAME"` means "no worse than arm NAME at the same sweep point": every arm
//! runs the same seeds (common random numbers), so the two means are over the same
//! simulated changes.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::metrics::METRICS;
use crate::scenario::error::{Ctx, Loc, R, list_names, suggest, unknown_name};

/// Which way a cost metric moves when the cost rises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Worse {
    /// More is worse (hours spent, changes blocked).
    Higher,
    /// Less is worse (deploys per day).
    Lower,
}

crate::kind_names!(Worse, "cost direction", { Higher => "higher", Lower => "lower" });

/// A metric whose rise (in its `worse` direction) is a price paid for safety.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    /// Metric name from `metrics::METRICS`.
    pub metric: String,
    /// Which way is worse.
    pub worse: Worse,
}

/// What a constraint compares a setting's mean with.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    /// A fixed number.
    Value(f64),
    /// The mean of the arm of this name at the same sweep point.
    Arm(String),
}

/// A bound on a summary metric that a recommended setting must meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// Metric name from `metrics::METRICS`.
    pub metric: String,
    /// Upper (`true`) or lower (`false`) bound.
    pub at_most: bool,
    /// The bound, on the mean over replications.
    pub bound: Bound,
}

/// How the frontier and the recommendation are chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct Objectives {
    /// The velocity metric, higher is better (default `deploys_per_day`).
    pub velocity: String,
    /// The blast-radius metric, lower is better (default `user_impact_min_total`).
    pub risk: String,
    /// The costs a setting is priced on, the velocity metric first (worse = lower).
    pub costs: Vec<Cost>,
    /// Constraints on the recommended setting.
    pub constraints: Vec<Constraint>,
}

impl Objectives {
    /// The default objectives: deploys per day against user impact, no constraint, and
    /// velocity the only cost.
    pub fn new(velocity: &str, risk: &str) -> Objectives {
        Objectives {
            velocity: velocity.to_string(),
            risk: risk.to_string(),
            costs: vec![Cost {
                metric: velocity.to_string(),
                worse: Worse::Lower,
            }],
            constraints: Vec::new(),
        }
    }
}

/// `[objectives]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawObjectives {
    /// Velocity metric, higher is better (default "deploys_per_day").
    #[serde(default)]
    pub velocity: Option<Loc<String>>,
    /// Risk metric, lower is better (default "user_impact_min_total").
    #[serde(default)]
    pub risk: Option<Loc<String>>,
    /// Costs the recommendation prices (the velocity metric is always one of them).
    #[serde(default)]
    pub costs: Vec<Loc<RawCost>>,
    /// Constraints on the recommended setting.
    #[serde(default)]
    pub constraints: Vec<Loc<RawConstraint>>,
}

/// `{ metric = "senior_review_h_per_week", worse = "higher" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// Metric name from `metrics::METRICS`.
    pub metric: Loc<String>,
    /// "higher" when more of it is worse (hours, blocks), "lower" when less is (deploys).
    pub worse: Loc<crate::scenario::values::KindName<Worse>>,
}

/// A bound as written: a number, or `"arm:NAME"` for another arm's mean.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawBound {
    /// A fixed bound on the mean.
    Number(f64),
    /// `"arm:NAME"`: the mean of arm NAME at the same sweep point.
    Arm(String),
}

/// `{ metric = "user_impact_min_p95", at_most = 600 }`, `{ metric = ..., at_least = ... }`
/// or `{ metric = ..., at_most = "arm:senior-signoff" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConstraint {
    /// Metric name from `metrics::METRICS`.
    pub metric: Loc<String>,
    /// Upper bound on the mean: a number or "arm:NAME".
    #[serde(default)]
    pub at_most: Option<Loc<RawBound>>,
    /// Lower bound on the mean: a number or "arm:NAME".
    #[serde(default)]
    pub at_least: Option<Loc<RawBound>>,
}

/// Checks a metric name against `metrics::METRICS`, suggesting the nearest.
fn metric(cx: Ctx<'_>, m: &Loc<String>) -> R<String> {
    if METRICS.iter().any(|d| d.name == m.get()) {
        return Ok(m.get().clone());
    }
    let names: Vec<&str> = METRICS.iter().map(|d| d.name).collect();
    let near = suggest(m.get(), names.iter().copied());
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", list_names(&near))
    };
    Err(cx.err_at(
        m,
        format!(
            "unknown metric `{}`{hint}; expected a runs.csv column: {}",
            m.get(),
            names.join(", ")
        ),
    ))
}

/// A bound as written, checked: a finite number, or `arm:` and one of `arms`.
fn bound(cx: Ctx<'_>, b: &Loc<RawBound>, arms: &[&str]) -> R<Bound> {
    match b.get() {
        RawBound::Number(x) if x.is_finite() => Ok(Bound::Value(*x)),
        RawBound::Number(_) => Err(cx.err_at(b, "the constraint bound must be a finite number")),
        RawBound::Arm(s) => {
            let Some(name) = s.strip_prefix("arm:") else {
                return Err(cx.err_at(
                    b,
                    format!(
                        "a constraint bound is a number or \"arm:NAME\" (another arm's mean), not {s:?}"
                    ),
                ));
            };
            if arms.contains(&name) {
                Ok(Bound::Arm(name.to_string()))
            } else {
                Err(cx.err_at(b, unknown_name("arm", name, arms)))
            }
        }
    }
}

/// Validates `[objectives]` against the metric names and the scenario's `arms`.
pub(crate) fn objectives(cx: Ctx<'_>, raw: Option<&RawObjectives>, arms: &[&str]) -> R<Objectives> {
    let Some(r) = raw else {
        return Ok(Objectives::new("deploys_per_day", "user_impact_min_total"));
    };
    let velocity = match &r.velocity {
        Some(v) => metric(cx, v)?,
        None => "deploys_per_day".to_string(),
    };
    let risk = match &r.risk {
        Some(v) => metric(cx, v)?,
        None => "user_impact_min_total".to_string(),
    };
    let mut o = Objectives::new(&velocity, &risk);
    for c in &r.costs {
        let name = metric(cx, &c.get().metric)?;
        let worse: Worse = cx.kind(&c.get().worse)?;
        if name == risk {
            return Err(cx.err_at(
                &c.get().metric,
                format!("`{name}` is the risk metric; a cost is what safety is bought with"),
            ));
        }
        if let Some(prev) = o.costs.iter().find(|k| k.metric == name) {
            if name == velocity && prev.worse == worse {
                // Listing the velocity metric is allowed (it reads well); it is already first.
                continue;
            }
            return Err(cx.err_at(
                &c.get().metric,
                format!("`{name}` is listed as a cost twice (the velocity metric is always a cost, worse = \"lower\")"),
            ));
        }
        o.costs.push(Cost {
            metric: name,
            worse,
        });
    }
    for c in &r.constraints {
        let v = c.get();
        let name = metric(cx, &v.metric)?;
        let (at_most, b) = match (&v.at_most, &v.at_least) {
            (Some(x), None) => (true, x),
            (None, Some(x)) => (false, x),
            _ => {
                return Err(cx.err_at(
                    c,
                    "a constraint needs exactly one of `at_most` or `at_least`",
                ));
            }
        };
        o.constraints.push(Constraint {
            metric: name,
            at_most,
            bound: bound(cx, b, arms)?,
        });
    }
    Ok(o)
}
