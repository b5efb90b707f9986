//! The recommendation on hand-made summaries: the tie rule, relative constraints, which
//! constraints bind, invariant breakers, "free" only when no cost rises, per-year
//! scaling and two-significant-figure numbers. Golden answers, computed by hand.

use blastsim::experiment::frontier::{
    self, Binding, Estimate, Interval, Mark, ResolveError, Setting,
};
use blastsim::metrics::METRICS;
use blastsim::report::charts::business::sig2;
use blastsim::scenario::{Bound, Constraint, Cost, Objectives, Worse};

fn idx(name: &str) -> usize {
    METRICS.iter().position(|m| m.name == name).unwrap()
}

fn iv(mean: f64, half: f64) -> Interval {
    Interval {
        mean,
        low: mean - half,
        high: mean + half,
    }
}

/// (metric, mean, CI half-width, paired difference from the baseline and its half-width).
type Row<'a> = (&'a str, f64, f64, Option<(f64, f64)>);

/// A setting of `arm` at `point` with the given metrics (value, CI half-width, and the
/// paired difference from the baseline with its half-width); every other metric is 0.
fn setting(arm: usize, point: usize, metrics: &[Row<'_>]) -> Setting {
    let mut m = vec![
        Estimate {
            value: Interval::exact(0.0),
            diff: None,
        };
        METRICS.len()
    ];
    for &(name, mean, half, diff) in metrics {
        m[idx(name)] = Estimate {
            value: iv(mean, half),
            diff: diff.map(|(d, h)| iv(d, h)),
        };
    }
    Setting {
        arm,
        point,
        metrics: m,
        flagged: false,
    }
}

fn arms(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("arm{i}")).collect()
}

fn objectives(
    costs: &[(&str, Worse)],
    constraints: Vec<Constraint>,
    n_arms: usize,
) -> frontier::ResolvedObjectives {
    let mut o = Objectives::new("deploys_per_day", "user_impact_min_total");
    for &(m, worse) in costs {
        o.costs.push(Cost {
            metric: m.into(),
            worse,
        });
    }
    o.constraints = constraints;
    frontier::resolve(&o, &arms(n_arms)).unwrap()
}

fn at_most(metric: &str, bound: Bound) -> Constraint {
    Constraint {
        metric: metric.into(),
        at_most: true,
        bound,
    }
}

#[test]
fn settings_within_the_best_ci_tie_and_the_safer_then_cheaper_wins() {
    // Velocity 10 ± 0.5: 9.8 and 9.6 are within it, 9.4 is not.
    let s = vec![
        setting(
            0,
            0,
            &[
                ("deploys_per_day", 10.0, 0.5, None),
                ("user_impact_min_total", 50.0, 2.0, None),
            ],
        ),
        setting(
            1,
            0,
            &[
                ("deploys_per_day", 9.8, 0.5, None),
                ("user_impact_min_total", 30.0, 2.0, None),
                ("senior_review_h_per_week", 40.0, 1.0, None),
            ],
        ),
        setting(
            2,
            0,
            &[
                ("deploys_per_day", 9.6, 0.5, None),
                ("user_impact_min_total", 31.0, 2.0, None),
                ("senior_review_h_per_week", 10.0, 1.0, None),
            ],
        ),
        setting(
            3,
            0,
            &[
                ("deploys_per_day", 9.4, 0.5, None),
                ("user_impact_min_total", 5.0, 1.0, None),
            ],
        ),
    ];
    // Costs: velocity first, then senior hours. 1 and 2 are equally safe (31 is within
    // 30 ± 2); 1 is faster, so velocity (the first cost) decides.
    let o = objectives(&[("senior_review_h_per_week", Worse::Higher)], vec![], 4);
    let c = frontier::decide(&s, &o);
    assert_eq!(c.ties, [0, 1, 2]);
    assert_eq!(c.recommended, Some(1));
    // With senior hours the only tie-breaking cost that differs (equal velocity), the
    // cheaper of the two safe ties wins.
    let mut s2 = s.clone();
    s2[2].metrics[idx("deploys_per_day")].value = iv(9.8, 0.5);
    let c = frontier::decide(&s2, &o);
    assert_eq!(c.recommended, Some(2));
    // A tighter CI on the best breaks the tie: 10 ± 0.1 leaves it alone.
    let mut s3 = s.clone();
    s3[0].metrics[idx("deploys_per_day")].value = iv(10.0, 0.1);
    let c = frontier::decide(&s3, &o);
    assert_eq!((c.ties.clone(), c.recommended), (vec![0], Some(0)));
}

#[test]
fn a_relative_constraint_compares_with_the_named_arm_at_the_same_point() {
    // Two arms at two points; arm 1 is the reference ("as safe as arm1").
    let s = vec![
        setting(
            0,
            0,
            &[
                ("deploys_per_day", 12.0, 0.1, None),
                ("user_impact_min_total", 90.0, 5.0, None),
            ],
        ),
        setting(
            0,
            1,
            &[
                ("deploys_per_day", 11.0, 0.1, None),
                ("user_impact_min_total", 40.0, 5.0, None),
            ],
        ),
        setting(
            1,
            0,
            &[
                ("deploys_per_day", 10.0, 0.1, None),
                ("user_impact_min_total", 60.0, 5.0, None),
            ],
        ),
        setting(
            1,
            1,
            &[
                ("deploys_per_day", 10.0, 0.1, None),
                ("user_impact_min_total", 60.0, 5.0, None),
            ],
        ),
    ];
    let o = objectives(
        &[],
        vec![at_most("user_impact_min_total", Bound::Arm("arm1".into()))],
        2,
    );
    let c = frontier::decide(&s, &o);
    assert_eq!(c.feasible, [false, true, true, true]);
    assert_eq!(c.recommended, Some(1));
    assert_eq!(c.bindings, [Binding::Binds { excluded: 1 }]);
    assert_eq!(
        frontier::bound_for(&s, &s[1], &o.constraints[0]),
        Some(60.0)
    );
    // An arm the experiment does not have is an error naming the valid ones.
    let mut bad = Objectives::new("deploys_per_day", "user_impact_min_total");
    bad.constraints = vec![at_most("user_impact_min_total", Bound::Arm("arm9".into()))];
    let e = frontier::resolve(&bad, &arms(2)).unwrap_err();
    assert_eq!(
        e,
        ResolveError::UnknownArm {
            name: "arm9".into(),
            valid: "arm0, arm1".into()
        }
    );
    assert!(e.to_string().contains("valid arms: arm0, arm1"));
}

#[test]
fn a_constraint_every_setting_meets_is_said_never_to_bind() {
    let s = vec![
        setting(
            0,
            0,
            &[
                ("deploys_per_day", 12.0, 0.1, None),
                ("user_impact_min_p95", 6.1, 0.6, None),
            ],
        ),
        setting(
            1,
            0,
            &[
                ("deploys_per_day", 11.0, 0.1, None),
                ("user_impact_min_p95", 4.3, 0.6, None),
            ],
        ),
    ];
    let c = |bound: f64| {
        frontier::decide(
            &s,
            &objectives(
                &[],
                vec![at_most("user_impact_min_p95", Bound::Value(bound))],
                2,
            ),
        )
    };
    // 600 is a hundred times every value: never binds, by a wide margin; 6.1 is closest.
    assert_eq!(
        c(600.0).bindings,
        [Binding::Never {
            closest: 0,
            clear: true
        }]
    );
    // 6.5 is met by every mean, but 6.1's interval reaches 6.7: met only on average.
    assert_eq!(
        c(6.5).bindings,
        [Binding::Never {
            closest: 0,
            clear: false
        }]
    );
    // 5 excludes one setting; 4 excludes both.
    let five = c(5.0);
    assert_eq!(five.bindings, [Binding::Binds { excluded: 1 }]);
    assert_eq!(five.recommended, Some(1));
    let four = c(4.0);
    assert_eq!(four.bindings, [Binding::Nothing]);
    assert_eq!((four.recommended, four.closest), (None, Some(1)));
}

#[test]
fn an_arm_that_breaks_an_invariant_is_picked_only_when_all_do_and_then_flagged() {
    let s = vec![
        setting(
            0,
            0,
            &[
                ("deploys_per_day", 12.0, 0.1, None),
                ("invariant_violations", 2.0, 1.0, None),
            ],
        ),
        setting(1, 0, &[("deploys_per_day", 10.0, 0.1, None)]),
    ];
    let o = objectives(&[], vec![], 2);
    let c = frontier::decide(&s, &o);
    assert_eq!(c.broken, [true, false]);
    assert_eq!(c.recommended, Some(1));
    assert!(!c.recommended_breaks_invariant());
    // When the clean arm is flagged too (e.g. chaos findings), the fastest is picked and
    // the choice says it breaks an invariant.
    let mut s2 = s.clone();
    s2[1].flagged = true;
    let c = frontier::decide(&s2, &o);
    assert_eq!(c.recommended, Some(0));
    assert!(c.recommended_breaks_invariant());
}

#[test]
fn free_only_when_safer_and_no_cost_rises_measurably() {
    let o = objectives(
        &[
            ("senior_review_h_per_week", Worse::Higher),
            ("block_delay_h_total", Worse::Higher),
        ],
        vec![],
        2,
    );
    // Safer (risk -100 ± 20), velocity inconclusive (-0.1 ± 0.2), delay inconclusive.
    let base = [
        ("deploys_per_day", 10.0, 0.2, Some((-0.1, 0.2))),
        ("user_impact_min_total", 400.0, 30.0, Some((-100.0, 20.0))),
        ("block_delay_h_total", 3.0, 4.0, Some((3.0, 4.0))),
    ];
    let mut m = base.to_vec();
    m.push(("senior_review_h_per_week", 10.0, 1.0, Some((0.0, 0.0))));
    let free = setting(1, 0, &m);
    assert!(frontier::is_free(&free, &o));
    assert!(frontier::rising_costs(&free, &o).is_empty());
    // The same, but senior hours rise by 61 ± 1 h/week: no longer free.
    let mut m = base.to_vec();
    m.push(("senior_review_h_per_week", 70.0, 1.0, Some((61.0, 1.0))));
    let priced = setting(1, 0, &m);
    assert!(!frontier::is_free(&priced, &o));
    // Costs: 0 velocity, 1 senior hours, 2 delay.
    assert_eq!(frontier::rising_costs(&priced, &o), [1]);
    // Marks follow the direction of each cost.
    assert_eq!(frontier::mark(iv(-0.9, 0.1), Worse::Lower), Mark::Worse);
    assert_eq!(frontier::mark(iv(-0.9, 0.1), Worse::Higher), Mark::Better);
    assert_eq!(
        frontier::mark(iv(0.1, 0.2), Worse::Higher),
        Mark::Inconclusive
    );
    assert_eq!(
        frontier::mark(Interval::exact(0.0), Worse::Higher),
        Mark::Same
    );
}

#[test]
fn per_run_figures_scale_to_a_year_and_show_two_significant_figures() {
    // 90-day runs: x 365/90; 180-day runs: x 365/180.
    assert_eq!(frontier::per_year(9.0, 90.0), 36.5);
    assert!((frontier::per_year(0.667, 180.0) - 1.352_527_777_777_777_8).abs() < 1e-12);
    assert_eq!(sig2(1.352_527_777_777_777_8), "1.4");
    assert_eq!(sig2(6261.9), "6,300");
    assert_eq!(sig2(0.04567), "0.046");
    assert_eq!(sig2(9.96), "10");
    assert_eq!(sig2(-5.234), "-5.2");
    assert_eq!(sig2(0.0), "0");
}
