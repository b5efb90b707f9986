//! The Pareto frontier of velocity against blast radius over (arm, point) settings, and the
//! recommendation (`decide`): which setting to pick, the settings tied with it, whether
//! each constraint binds, and which settings break an invariant.
//!
//! The rule, in order:
//! 1. A setting is **feasible** when its mean meets every constraint (a fixed bound, or
//!    another arm's mean at the same point: `at_most = "arm:NAME"`).
//! 2. A feasible setting that breaks an invariant (`invariant_violations` > 0 on average,
//!    or flagged by the caller, e.g. chaos findings) is only a candidate when every
//!    feasible setting breaks one; the choice then says so (`Choice::broken`).
//! 3. The best candidate has the highest velocity. Every candidate whose velocity mean is
//!    within the best's 95% confidence interval is **tied** with it: the data cannot tell
//!    them apart on velocity.
//! 4. Among the ties, the safer wins: those whose risk mean is within the 95% CI of the
//!    safest tie; among those the cheaper, comparing the costs' means in the order the
//!    scenario lists them (velocity first); then the earlier setting (arm-major order).
//!
//! Everything works on the summary statistics of `summary.csv` (means, intervals, paired
//! differences against the baseline), so the run (`report::tables`), the report
//! (`report::doc`) and a caller varying an assumption get the same answer from the same
//! numbers, bit for bit. `decide` is the one public entry point for the recommendation.

use crate::experiment::stats::{Describe, Paired};
use crate::metrics::METRICS;
use crate::scenario::{Bound, Objectives, Worse};

/// Days in the year the report scales per-run figures to.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// A per-run figure over a horizon of `horizon_days` days, per year (365 days).
pub fn per_year(per_run: f64, horizon_days: f64) -> f64 {
    per_run * DAYS_PER_YEAR / horizon_days
}

/// What a resolved constraint compares with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ResolvedBound {
    /// A fixed number.
    Value(f64),
    /// The mean of this arm (index) at the same point.
    Arm(usize),
}

/// A constraint with its metric and arm resolved to indices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResolvedConstraint {
    /// Metric index into `METRICS`.
    pub metric: usize,
    /// Upper (`true`) or lower (`false`) bound.
    pub at_most: bool,
    /// The bound.
    pub bound: ResolvedBound,
}

/// Objectives with metric and arm names resolved to indices.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedObjectives {
    /// Velocity metric index (higher is better).
    pub velocity: usize,
    /// Risk metric index (lower is better).
    pub risk: usize,
    /// (metric index, which way is worse) for every cost, velocity first.
    pub costs: Vec<(usize, Worse)>,
    /// Every constraint.
    pub constraints: Vec<ResolvedConstraint>,
}

/// A name in the objectives that the metrics or the arms do not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Not in `METRICS`.
    #[error("unknown metric '{name}' in objectives; valid metrics: {valid}")]
    UnknownMetric {
        /// The name as given.
        name: String,
        /// Every valid name, comma-separated.
        valid: String,
    },
    /// A relative bound names an arm the experiment does not have.
    #[error("unknown arm '{name}' in a constraint bound; valid arms: {valid}")]
    UnknownArm {
        /// The name as given.
        name: String,
        /// Every arm, comma-separated.
        valid: String,
    },
}

/// The index of metric `name` in `METRICS`.
pub fn metric_index(name: &str) -> Result<usize, ResolveError> {
    METRICS
        .iter()
        .position(|m| m.name == name)
        .ok_or_else(|| ResolveError::UnknownMetric {
            name: name.to_string(),
            valid: METRICS
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Resolves the metric names of `objectives`, and the arms its relative bounds name
/// among `arms` (in experiment order).
pub fn resolve(
    objectives: &Objectives,
    arms: &[String],
) -> Result<ResolvedObjectives, ResolveError> {
    let velocity = metric_index(&objectives.velocity)?;
    let mut costs = vec![(velocity, Worse::Lower)];
    for c in &objectives.costs {
        let m = metric_index(&c.metric)?;
        if !costs.iter().any(|&(k, _)| k == m) {
            costs.push((m, c.worse));
        }
    }
    let constraints = objectives
        .constraints
        .iter()
        .map(|c| {
            let bound = match &c.bound {
                Bound::Value(v) => ResolvedBound::Value(*v),
                Bound::Arm(name) => {
                    ResolvedBound::Arm(arms.iter().position(|a| a == name).ok_or_else(|| {
                        ResolveError::UnknownArm {
                            name: name.clone(),
                            valid: arms.join(", "),
                        }
                    })?)
                }
            };
            Ok(ResolvedConstraint {
                metric: metric_index(&c.metric)?,
                at_most: c.at_most,
                bound,
            })
        })
        .collect::<Result<_, ResolveError>>()?;
    Ok(ResolvedObjectives {
        velocity,
        risk: metric_index(&objectives.risk)?,
        costs,
        constraints,
    })
}

/// A mean and its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// The mean.
    pub mean: f64,
    /// Lower end of the 95% CI.
    pub low: f64,
    /// Upper end of the 95% CI.
    pub high: f64,
}

impl Interval {
    /// A value without spread (its interval is itself).
    pub fn exact(v: f64) -> Interval {
        Interval {
            mean: v,
            low: v,
            high: v,
        }
    }
}

/// One metric of one setting: its mean with CI, and the paired difference against the
/// baseline arm at the same point (`None` for the baseline itself).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Mean over replications, with its CI.
    pub value: Interval,
    /// Mean of (setting − baseline) over paired replications, with its CI.
    pub diff: Option<Interval>,
}

/// One (arm, point) setting as the decision sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// Arm index.
    pub arm: usize,
    /// Point index.
    pub point: usize,
    /// One estimate per metric, in `METRICS` order (NaN where a metric is unknown).
    pub metrics: Vec<Estimate>,
    /// Known to break an invariant by evidence outside these metrics (chaos findings).
    pub flagged: bool,
}

impl Setting {
    /// A setting from its statistics (`METRICS` order) and its paired differences.
    pub fn from_stats(
        arm: usize,
        point: usize,
        stats: &[Describe],
        paired: Option<&[Paired]>,
    ) -> Setting {
        let metrics = stats
            .iter()
            .enumerate()
            .map(|(m, d)| Estimate {
                value: Interval {
                    mean: d.mean,
                    low: d.ci95_low,
                    high: d.ci95_high,
                },
                diff: paired.map(|p| Interval {
                    mean: p[m].mean,
                    low: p[m].ci95_low,
                    high: p[m].ci95_high,
                }),
            })
            .collect();
        Setting {
            arm,
            point,
            metrics,
            flagged: false,
        }
    }

    /// The mean of metric `m` (NaN when unknown).
    pub fn mean(&self, m: usize) -> f64 {
        self.metrics.get(m).map_or(f64::NAN, |e| e.value.mean)
    }
}

/// How a setting compares with the baseline on one metric, from the paired 95% CI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Measurably better: the interval excludes zero on the good side.
    Better,
    /// Measurably worse: the interval excludes zero on the bad side.
    Worse,
    /// The interval includes zero.
    Inconclusive,
    /// Not different in any run (the two arms ran the same simulation).
    Same,
}

impl Mark {
    /// "better", "worse", "inconclusive", "same".
    pub fn name(self) -> &'static str {
        match self {
            Mark::Better => "better",
            Mark::Worse => "worse",
            Mark::Inconclusive => "inconclusive",
            Mark::Same => "same",
        }
    }
}

/// The mark of a paired difference `diff` on a metric where `worse` is the bad direction.
pub fn mark(diff: Interval, worse: Worse) -> Mark {
    if diff.mean == 0.0 && diff.low == 0.0 && diff.high == 0.0 {
        return Mark::Same;
    }
    let (up, down) = (diff.low > 0.0, diff.high < 0.0);
    match (worse, up, down) {
        (Worse::Higher, true, _) | (Worse::Lower, _, true) => Mark::Worse,
        (Worse::Higher, _, true) | (Worse::Lower, true, _) => Mark::Better,
        _ => Mark::Inconclusive,
    }
}

/// The costs (indices into `objectives.costs`) on which `s` is measurably worse than the
/// baseline. Empty for the baseline.
pub fn rising_costs(s: &Setting, objectives: &ResolvedObjectives) -> Vec<usize> {
    objectives
        .costs
        .iter()
        .enumerate()
        .filter(|(_, (m, worse))| {
            s.metrics
                .get(*m)
                .and_then(|e| e.diff)
                .is_some_and(|d| mark(d, *worse) == Mark::Worse)
        })
        .map(|(k, _)| k)
        .collect()
}

/// Whether `s` is safer than the baseline for free: its risk is measurably lower and none
/// of the costs rises measurably.
pub fn is_free(s: &Setting, objectives: &ResolvedObjectives) -> bool {
    let safer = s
        .metrics
        .get(objectives.risk)
        .and_then(|e| e.diff)
        .is_some_and(|d| mark(d, Worse::Higher) == Mark::Better);
    safer && rising_costs(s, objectives).is_empty()
}

/// What one constraint did to the choice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binding {
    /// It excluded `excluded` settings (and others meet it).
    Binds {
        /// Settings that miss it.
        excluded: usize,
    },
    /// Every setting meets it, so it decided nothing. `closest` is the setting nearest to
    /// the bound; `clear` says whether every setting meets it even at the far end of its
    /// 95% CI (a wide margin) rather than only on average.
    Never {
        /// The setting nearest to the bound.
        closest: usize,
        /// Every setting's whole interval is inside the bound.
        clear: bool,
    },
    /// No setting meets it.
    Nothing,
}

/// Which settings are on the frontier, which one is recommended, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// One flag per setting: not dominated by any other setting.
    pub on_frontier: Vec<bool>,
    /// One flag per setting: meets every constraint.
    pub feasible: Vec<bool>,
    /// The recommended setting, or `None` when no setting meets the constraints.
    pub recommended: Option<usize>,
    /// The settings tied with the best on velocity (the recommended one among them), in
    /// setting order. Empty when nothing is recommended.
    pub ties: Vec<usize>,
    /// When nothing is feasible: the setting that misses the constraints by the least.
    pub closest: Option<usize>,
    /// One entry per constraint, in the objectives' order.
    pub bindings: Vec<Binding>,
    /// One flag per setting: breaks an invariant (`invariant_violations` > 0 on average,
    /// or flagged).
    pub broken: Vec<bool>,
}

impl Choice {
    /// Whether the recommended setting breaks an invariant (every feasible one does).
    pub fn recommended_breaks_invariant(&self) -> bool {
        self.recommended.is_some_and(|i| self.broken[i])
    }
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

/// The value constraint `c` compares setting `s` with: the fixed bound, or the mean of
/// the reference arm at the same point (`None` when that arm has no such setting).
pub fn bound_for(settings: &[Setting], s: &Setting, c: &ResolvedConstraint) -> Option<f64> {
    match c.bound {
        ResolvedBound::Value(v) => Some(v),
        ResolvedBound::Arm(a) => settings
            .iter()
            .find(|o| o.arm == a && o.point == s.point)
            .map(|o| o.mean(c.metric)),
    }
}

/// Whether setting `s` meets constraint `c` (on its mean); a bound that cannot be
/// evaluated is not met.
fn meets_constraint(settings: &[Setting], s: &Setting, c: &ResolvedConstraint) -> bool {
    bound_for(settings, s, c).is_some_and(|b| meets(s.mean(c.metric), c.at_most, b))
}

/// What constraint `c` does over `settings`, its relative bounds looked up in `reference`.
fn binding(settings: &[Setting], reference: &[Setting], c: &ResolvedConstraint) -> Binding {
    let met: Vec<usize> = (0..settings.len())
        .filter(|&i| meets_constraint(reference, &settings[i], c))
        .collect();
    if met.is_empty() {
        return Binding::Nothing;
    }
    if met.len() < settings.len() {
        return Binding::Binds {
            excluded: settings.len() - met.len(),
        };
    }
    // Every setting meets it: which is nearest, and is every interval inside the bound?
    let mut closest = 0;
    let mut best_slack = f64::INFINITY;
    let mut clear = true;
    for (i, s) in settings.iter().enumerate() {
        let b = bound_for(reference, s, c).unwrap_or(f64::NAN);
        let e = s.metrics[c.metric].value;
        let (slack, far_end) = if c.at_most {
            (b - e.mean, e.high)
        } else {
            (e.mean - b, e.low)
        };
        // A setting compared with itself (the reference arm) sits on the bound by
        // definition; it says nothing about the margin.
        let is_reference = matches!(c.bound, ResolvedBound::Arm(a) if a == s.arm);
        if !is_reference && !meets(far_end, c.at_most, b) {
            clear = false;
        }
        if !is_reference && slack < best_slack {
            best_slack = slack;
            closest = i;
        }
    }
    Binding::Never { closest, clear }
}

/// The recommendation over `settings` (arm-major, then point), under `objectives`: see
/// the module documentation for the rule. This is the one function every caller uses to
/// choose (the run, the report, and anyone re-deciding under a varied assumption).
pub fn decide(settings: &[Setting], objectives: &ResolvedObjectives) -> Choice {
    decide_in(settings, settings, objectives)
}

/// The runner-up to setting `excluded`: what `decide` recommends with `excluded` left out
/// of the choice but kept as the reference of relative constraints, so a bound
/// `at_most = "arm:NAME"` still finds its arm when that arm's setting is the one left out.
pub fn decide_without(
    settings: &[Setting],
    excluded: usize,
    objectives: &ResolvedObjectives,
) -> Option<usize> {
    let others: Vec<Setting> = (0..settings.len())
        .filter(|&i| i != excluded)
        .map(|i| settings[i].clone())
        .collect();
    decide_in(&others, settings, objectives)
        .recommended
        .map(|k| if k >= excluded { k + 1 } else { k })
}

/// `decide` over the candidates `settings`, with the bounds of relative constraints looked
/// up in `reference` (`settings` itself, or a superset of it).
fn decide_in(
    settings: &[Setting],
    reference: &[Setting],
    objectives: &ResolvedObjectives,
) -> Choice {
    let n = settings.len();
    let (vm, rm) = (objectives.velocity, objectives.risk);
    let points: Vec<(f64, f64)> = settings.iter().map(|s| (s.mean(vm), s.mean(rm))).collect();
    let feasible: Vec<bool> = settings
        .iter()
        .map(|s| {
            objectives
                .constraints
                .iter()
                .all(|c| meets_constraint(reference, s, c))
        })
        .collect();
    let violations = metric_index("invariant_violations").ok();
    let broken: Vec<bool> = settings
        .iter()
        .map(|s| s.flagged || violations.is_some_and(|m| s.mean(m) > 0.0))
        .collect();
    let clean: Vec<usize> = (0..n).filter(|&i| feasible[i] && !broken[i]).collect();
    let candidates: Vec<usize> = if clean.is_empty() {
        (0..n).filter(|&i| feasible[i]).collect()
    } else {
        clean
    };

    let mut recommended = None;
    let mut ties = Vec::new();
    // The fastest candidate; an earlier setting wins an exact tie.
    if let Some(best) = candidates
        .iter()
        .copied()
        .reduce(|b, i| if points[i].0 > points[b].0 { i } else { b })
    {
        let floor = settings[best].metrics[vm].value.low.min(points[best].0);
        ties = candidates
            .iter()
            .copied()
            .filter(|&i| points[i].0 >= floor)
            .collect();
        // The safest tie, and every tie within its interval.
        let safest = ties
            .iter()
            .copied()
            .reduce(|b, i| if points[i].1 < points[b].1 { i } else { b })
            .unwrap_or(best);
        let ceiling = settings[safest].metrics[rm]
            .value
            .high
            .max(points[safest].1);
        let safe: Vec<usize> = ties
            .iter()
            .copied()
            .filter(|&i| points[i].1 <= ceiling)
            .collect();
        // The cheapest of those, costs compared in order; then the earlier setting.
        let cheaper = |i: usize, j: usize| -> bool {
            for &(m, worse) in &objectives.costs {
                let (a, b) = (settings[i].mean(m), settings[j].mean(m));
                let (a, b) = match worse {
                    Worse::Higher => (a, b),
                    Worse::Lower => (-a, -b),
                };
                if a < b {
                    return true;
                }
                if a > b {
                    return false;
                }
            }
            false
        };
        recommended = safe
            .iter()
            .copied()
            .reduce(|b, i| if cheaper(i, b) { i } else { b });
    }

    let closest_setting = if recommended.is_none() && !objectives.constraints.is_empty() {
        let misses: Vec<(f64, f64)> = settings
            .iter()
            .map(|s| {
                let miss = objectives
                    .constraints
                    .iter()
                    .map(|c| match bound_for(reference, s, c) {
                        Some(b) => shortfall(s.mean(c.metric), c.at_most, b),
                        None => f64::INFINITY,
                    })
                    .sum();
                (s.mean(vm), miss)
            })
            .collect();
        closest(&misses)
    } else {
        None
    };

    Choice {
        on_frontier: non_dominated(&points),
        feasible,
        recommended,
        ties,
        closest: closest_setting,
        bindings: objectives
            .constraints
            .iter()
            .map(|c| binding(settings, reference, c))
            .collect(),
        broken,
    }
}

/// `decide` over the settings `subset` (indices into `settings`, e.g. those with at least
/// one run), with every index of the answer into `settings`: settings outside the subset
/// are neither on the frontier nor feasible nor broken.
pub fn decide_subset(
    settings: &[Setting],
    subset: &[usize],
    objectives: &ResolvedObjectives,
) -> Choice {
    let sub: Vec<Setting> = subset.iter().map(|&i| settings[i].clone()).collect();
    let c = decide(&sub, objectives);
    let n = settings.len();
    let mut out = Choice {
        on_frontier: vec![false; n],
        feasible: vec![false; n],
        recommended: c.recommended.map(|k| subset[k]),
        ties: c.ties.iter().map(|&k| subset[k]).collect(),
        closest: c.closest.map(|k| subset[k]),
        bindings: c
            .bindings
            .iter()
            .map(|b| match *b {
                Binding::Never { closest, clear } => Binding::Never {
                    closest: subset[closest],
                    clear,
                },
                other => other,
            })
            .collect(),
        broken: vec![false; n],
    };
    for (k, &i) in subset.iter().enumerate() {
        out.on_frontier[i] = c.on_frontier[k];
        out.feasible[i] = c.feasible[k];
        out.broken[i] = c.broken[k];
    }
    out
}
