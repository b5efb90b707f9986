//! `[objectives]`: the frontier's velocity and risk metrics and the recommendation's
//! constraints.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::metrics::METRICS;
use crate::scenario::error::{Ctx, Loc, R, list_names, suggest};

/// A bound on a summary metric that a recommended setting must meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// Metric name from `metrics::METRICS`.
    pub metric: String,
    /// Upper (`true`) or lower (`false`) bound.
    pub at_most: bool,
    /// The bound, on the mean over replications.
    pub value: f64,
}

/// How the frontier and the recommendation are chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct Objectives {
    /// The velocity metric, higher is better (default `deploys_per_day`).
    pub velocity: String,
    /// The blast-radius metric, lower is better (default `user_impact_min_total`).
    pub risk: String,
    /// Constraints on the recommended setting.
    pub constraints: Vec<Constraint>,
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
    /// Constraints on the recommended setting.
    #[serde(default)]
    pub constraints: Vec<Loc<RawConstraint>>,
}

/// `{ metric = "user_impact_min_p95", at_most = 600 }` or `{ metric = ..., at_least = ... }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConstraint {
    /// Metric name from `metrics::METRICS`.
    pub metric: Loc<String>,
    /// Upper bound on the mean.
    #[serde(default)]
    pub at_most: Option<f64>,
    /// Lower bound on the mean.
    #[serde(default)]
    pub at_least: Option<f64>,
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

pub(crate) fn objectives(cx: Ctx<'_>, raw: Option<&RawObjectives>) -> R<Objectives> {
    let mut o = Objectives {
        velocity: "deploys_per_day".to_string(),
        risk: "user_impact_min_total".to_string(),
        constraints: Vec::new(),
    };
    let Some(r) = raw else { return Ok(o) };
    if let Some(v) = &r.velocity {
        o.velocity = metric(cx, v)?;
    }
    if let Some(v) = &r.risk {
        o.risk = metric(cx, v)?;
    }
    for c in &r.constraints {
        let v = c.get();
        let name = metric(cx, &v.metric)?;
        let (at_most, value) = match (v.at_most, v.at_least) {
            (Some(x), None) => (true, x),
            (None, Some(x)) => (false, x),
            _ => {
                return Err(cx.err_at(
                    c,
                    "a constraint needs exactly one of `at_most` or `at_least`",
                ));
            }
        };
        if !value.is_finite() {
            return Err(cx.err_at(c, "the constraint bound must be a finite number"));
        }
        o.constraints.push(Constraint {
            metric: name,
            at_most,
            value,
        });
    }
    Ok(o)
}
