//! The Pareto frontier of velocity against blast radius over (arm, point) settings, and the
//! recommendation: the highest velocity among settings that meet every constraint.
//!
//! Everything works on means over replications, in setting order (arm-major, then point),
//! so ties resolve the same way every time: an earlier setting wins a tie.
//!
//! The run (`report::tables`) makes the decision here; the report (`report::doc`) reads it
//! back from `summary.csv` and `manifest.json`, and uses the same functions for what it
//! says about the decision (which constraints a setting misses, the closest setting when
//! none is feasible, the frontier of a hand-made folder without flags).

use crate::metrics::METRICS;
use crate::scenario::Objectives;

/// Objectives with metric names resolved to indices into `METRICS`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedObjectives {
    /// Velocity metric index (higher is better).
    pub velocity: usize,
    /// Risk metric index (lower is better).
    pub risk: usize,
    /// (metric index, at most?, bound) for every constraint.
    pub constraints: Vec<(usize, bool, f64)>,
}

/// A metric name that is not in `METRICS`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric '{name}' in objectives; valid metrics: {valid}")]
pub struct UnknownMetric {
    /// The name as given.
    pub name: String,
    /// Every valid name, comma-separated.
    pub valid: String,
}

/// The index of metric `name` in `METRICS`.
pub fn metric_index(name: &str) -> Result<usize, UnknownMetric> {
    METRICS
        .iter()
        .position(|m| m.name == name)
        .ok_or_else(|| UnknownMetric {
            name: name.to_string(),
            valid: METRICS
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Resolves the metric names of `objectives`.
pub fn resolve(objectives: &Objectives) -> Result<ResolvedObjectives, UnknownMetric> {
    Ok(ResolvedObjectives {
        velocity: metric_index(&objectives.velocity)?,
        risk: metric_index(&objectives.risk)?,
        constraints: objectives
            .constraints
            .iter()
            .map(|c| Ok((metric_index(&c.metric)?, c.at_most, c.value)))
            .collect::<Result<_, UnknownMetric>>()?,
    })
}

/// Which settings are on the frontier and which one is recommended.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// One flag per setting: not dominated by any other setting.
    pub on_frontier: Vec<bool>,
    /// One flag per setting: meets every constraint.
    pub feasible: Vec<bool>,
    /// The recommended setting, or `None` when no setting meets the constraints.
    pub recommended: Option<usize>,
}

/// Non-dominated settings among (velocity, risk) pairs: a setting is dominated when
/// another has velocity at least as high and risk at least as low, and is strictly better
/// in one of them. Equal settings do not dominate each other.
pub fn non_dominated(points: &[(f64, f64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(v, r)| {
            !points
                .iter()
                .any(|&(v2, r2)| v2 >= v && r2 <= r && (v2 > v || r2 < r))
        })
        .collect()
}

/// Whether `value` meets a bound: at most `bound` when `at_most`, else at least.
pub fn meets(value: f64, at_most: bool, bound: f64) -> bool {
    if at_most {
        value <= bound
    } else {
        value >= bound
    }
}

/// How far `value` is past a bound, relative to the bound (0 when met).
pub fn shortfall(value: f64, at_most: bool, bound: f64) -> f64 {
    let past = if at_most {
        value - bound
    } else {
        bound - value
    };
    past.max(0.0) / bound.abs().max(1e-9)
}

/// When no setting is feasible: the setting that misses the constraints by the least,
/// given (velocity, summed `shortfall`) per setting; ties go to the higher velocity, then
/// to the earlier setting. `None` for no settings.
pub fn closest(settings: &[(f64, f64)]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &(v, miss)) in settings.iter().enumerate() {
        let better = match best {
            None => true,
            Some(j) => {
                let (bv, bm) = settings[j];
                miss < bm || (miss == bm && v > bv)
            }
        };
        if better {
            best = Some(i);
        }
    }
    best
}

/// The frontier and the recommendation over settings given as means in `METRICS` order.
///
/// The recommendation is the feasible setting with the highest velocity; ties go to the
/// lower risk, then to the earlier setting.
pub fn choose(means: &[Vec<f64>], objectives: &ResolvedObjectives) -> Choice {
    let points: Vec<(f64, f64)> = means
        .iter()
        .map(|m| (m[objectives.velocity], m[objectives.risk]))
        .collect();
    let feasible: Vec<bool> = means
        .iter()
        .map(|m| {
            objectives
                .constraints
                .iter()
                .all(|&(i, at_most, bound)| meets(m[i], at_most, bound))
        })
        .collect();
    let mut recommended: Option<usize> = None;
    for (i, &(v, r)) in points.iter().enumerate() {
        if !feasible[i] {
            continue;
        }
        let better = match recommended {
            None => true,
            Some(j) => {
                let (vj, rj) = points[j];
                v > vj || (v == vj && r < rj)
            }
        };
        if better {
            recommended = Some(i);
        }
    }
    Choice {
        on_frontier: non_dominated(&points),
        feasible,
        recommended,
    }
}
