//! Planning and judging the sensitivity analysis: for one variation of one assumption,
//! what the decision function recommends and by how much the base recommendation leads;
//! where between two values the recommendation changes (bisection points).
//!
//! The decision is made by `decide`, the one place this module calls the report's
//! decision function (`frontier::decide`), so the analysis always judges a variation
//! exactly as the report judges the base.
//!
//! The **advantage** of the base recommendation (the "pick") under a variation is its
//! objective (the velocity metric of `[objectives]`, mean over replications) minus that of
//! the **runner-up**: the setting the same decision function recommends when the pick is
//! left out. It can be negative even where the pick holds (velocity ties are settled by
//! risk, then cost, so the pick may be the slower of two tied settings); whether the
//! recommendation flips is `Judged::recommended`, not the advantage's sign, and when the
//! pick no longer meets the constraints it flips whatever its advantage (`Judged` says
//! both). Nothing here does I/O; `pipeline::sensitivity` runs the simulations.

use crate::experiment::frontier::{self, ResolvedObjectives};
use crate::scenario::sensitivity::Scale;

/// Bisection steps between a value where the pick holds and one where it does not: each
/// halves the interval, so 4 steps locate the flip within 1/16 of it at 4 more run sets.
pub const BISECT_STEPS: usize = 4;

/// The per-run metric values of every setting (arm × point, arm-major): `[setting][run]`
/// is one run's values in `METRICS` order.
pub type SettingRuns = Vec<Vec<Vec<f64>>>;

/// What the decision function says of a set of settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The recommended setting, if any meets the constraints.
    pub recommended: Option<usize>,
    /// One flag per setting: meets every constraint.
    pub feasible: Vec<bool>,
}

/// The decision over `settings` (arm-major, `points` per arm), by the report's decision
/// function: each setting's statistics over its runs, judged by `frontier::decide`, so a
/// variation is judged exactly as the run judges the base (ties, relative constraints,
/// invariant breakers included).
///
/// The one call into the decision logic: re-point it here when that logic changes.
pub fn decide(
    settings: &[Vec<Vec<f64>>],
    points: usize,
    objectives: &ResolvedObjectives,
) -> Decision {
    let all = decision_settings(settings, points);
    let c = frontier::decide(&all, objectives);
    Decision {
        recommended: c.recommended,
        feasible: c.feasible,
    }
}

/// `settings` as `frontier::decide` takes them: per metric, the mean and 95% CI over the
/// setting's runs (the decision reads no paired differences).
fn decision_settings(settings: &[Vec<Vec<f64>>], points: usize) -> Vec<frontier::Setting> {
    let points = points.max(1);
    settings
        .iter()
        .enumerate()
        .map(|(i, runs)| {
            let n = runs.first().map_or(0, Vec::len);
            let stats: Vec<_> = (0..n)
                .map(|m| {
                    crate::experiment::stats::describe(
                        &runs.iter().map(|r| r[m]).collect::<Vec<_>>(),
                    )
                })
                .collect();
            frontier::Setting::from_stats(i / points, i % points, &stats, None)
        })
        .collect()
}

/// What the decision function makes of one variation.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// The setting recommended under the variation.
    pub recommended: Option<usize>,
    /// The pick's objective minus the runner-up's (`None` without a pick or a runner-up).
    pub advantage: Option<f64>,
    /// Whether the pick still meets every constraint.
    pub pick_feasible: bool,
}

/// Judges one variation's `settings` for the base recommendation `pick`.
pub fn judge(
    settings: &[Vec<Vec<f64>>],
    points: usize,
    objectives: &ResolvedObjectives,
    pick: Option<usize>,
) -> Judged {
    let decision = decide(settings, points, objectives);
    let recommended = decision.recommended;
    let Some(p) = pick else {
        return Judged {
            recommended,
            advantage: None,
            pick_feasible: false,
        };
    };
    let all = decision_settings(settings, points);
    let objective = |i: usize| all[i].mean(objectives.velocity);
    let pick_feasible = decision.feasible[p];
    // The runner-up: what the decision function picks with the pick left out of the
    // choice (it stays the reference of relative constraints that name its arm).
    let advantage =
        frontier::decide_without(&all, p, objectives).map(|k| objective(p) - objective(k));
    Judged {
        recommended,
        advantage,
        pick_feasible,
    }
}

/// The next value to simulate between `holds` (where the pick is recommended) and
/// `flips` (where it is not): their midpoint on `scale`, or `None` when no value lies
/// strictly between them (whole numbers one apart, durations a millisecond apart).
pub fn midpoint(scale: Scale, holds: &toml::Value, flips: &toml::Value) -> Option<toml::Value> {
    let a = scale.position(holds).ok()?;
    let b = scale.position(flips).ok()?;
    let mid = scale.value((a + b) / 2.0);
    let m = scale.position(&mid).ok()?;
    let strictly_between = (m - a) * (b - m) > 0.0;
    strictly_between.then_some(mid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objectives() -> ResolvedObjectives {
        // Metric 0 is the objective, metric 1 the risk, metric 2 constrained to <= 1.
        ResolvedObjectives {
            velocity: 0,
            risk: 1,
            costs: vec![(0, crate::scenario::Worse::Lower)],
            constraints: vec![frontier::ResolvedConstraint {
                metric: 2,
                at_most: true,
                bound: frontier::ResolvedBound::Value(1.0),
            }],
        }
    }

    /// Four runs a little either side of `v`: CIs narrow enough that no settings tie.
    fn setting(v: f64, r: f64, c: f64) -> Vec<Vec<f64>> {
        [-0.25, 0.25, -0.25, 0.25]
            .iter()
            .map(|d| vec![v + d, r, c])
            .collect()
    }

    #[test]
    fn the_advantage_is_over_the_runner_up_and_a_broken_constraint_flips() {
        let o = objectives();
        let base = vec![
            setting(3.0, 1.0, 0.5),
            setting(5.0, 2.0, 0.5),
            setting(4.0, 1.0, 0.0),
        ];
        let pick = decide(&base, 1, &o).recommended;
        assert_eq!(pick, Some(1));
        let j = judge(&base, 1, &o, pick);
        assert_eq!(j.advantage, Some(1.0));
        assert!(j.pick_feasible);
        // The pick breaks the constraint: the recommendation moves to setting 2, and the
        // pick's advantage is still reported (it is faster, but not allowed).
        let varied = vec![
            setting(3.0, 1.0, 0.5),
            setting(5.0, 2.0, 2.0),
            setting(4.0, 1.0, 0.0),
        ];
        let j = judge(&varied, 1, &o, pick);
        assert_eq!(j.recommended, Some(2));
        assert!(!j.pick_feasible);
        assert_eq!(j.advantage, Some(1.0));
    }

    /// A constraint relative to the pick's own arm ("at most as risky as arm 1") still
    /// has its reference when the pick is left out to find the runner-up.
    #[test]
    fn the_runner_up_is_found_when_the_pick_is_the_reference_of_a_constraint() {
        let o = ResolvedObjectives {
            constraints: vec![frontier::ResolvedConstraint {
                metric: 1,
                at_most: true,
                bound: frontier::ResolvedBound::Arm(1),
            }],
            ..objectives()
        };
        let base = vec![
            setting(3.0, 1.0, 0.0),
            setting(5.0, 2.0, 0.0),
            setting(4.0, 1.5, 0.0),
        ];
        let pick = decide(&base, 1, &o).recommended;
        assert_eq!(pick, Some(1));
        assert_eq!(judge(&base, 1, &o, pick).advantage, Some(1.0));
    }

    #[test]
    fn midpoints_stop_when_nothing_lies_between() {
        use toml::Value as V;
        assert_eq!(
            midpoint(Scale::Whole, &V::Integer(2), &V::Integer(8)),
            Some(V::Integer(5))
        );
        assert_eq!(midpoint(Scale::Whole, &V::Integer(2), &V::Integer(3)), None);
        assert_eq!(
            midpoint(Scale::Real, &V::Float(0.1), &V::Float(0.2)),
            Some(V::Float(0.15))
        );
        assert_eq!(
            midpoint(
                Scale::Duration,
                &V::String("2h".into()),
                &V::String("4h".into())
            ),
            Some(V::String("3h".into()))
        );
    }
}
