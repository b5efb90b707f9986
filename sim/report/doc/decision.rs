//! The decision: "What to do" (the first screen: one paragraph on the pick, why, what it
//! costs and how sure, then the options in business units per year), and "The decision in
//! detail" (the recommendation or why there is none, each constraint, and the trade-off
//! of every arm against the baseline), all from `experiment::frontier::decide` on the
//! folder's numbers.

use std::fmt::Write as _;

use super::super::charts::business::{self, Quantity};
use super::super::charts::input::{ConstraintMeta, Decided, Results, Stat};
use super::super::charts::style::{fmt_num, fmt_signed, metric_name, metric_unit};
use super::markdown::Block;
use super::text::{
    capital, constraint_text, diff_text, horizon_text, md, per_run_metric, setting, short_risk,
    sig2, sig2_ci, unit_suffix, with_ci,
};
use crate::experiment::frontier::{self, Binding, Mark};
use crate::metrics::violation_metric;
use crate::model::config::InvariantKind;
use crate::scenario::Worse;

/// " (6,500 per year)" for a per-run figure `v` of `metric`, when the horizon is known.
fn per_year_note(r: &Results, metric: &str, v: f64) -> String {
    match business::horizon_days(r) {
        Some(d) if per_run_metric(metric) && v.is_finite() => {
            format!(" ({} per year)", fmt_num(frontier::per_year(v, d)))
        }
        _ => String::new(),
    }
}

/// "one run = 90 days" or "".
fn run_length(r: &Results) -> String {
    if r.manifest.meta.horizon.is_empty() {
        String::new()
    } else {
        format!("one run = {}", horizon_text(&r.manifest.meta.horizon))
    }
}

/// The mean the constraint `c` is compared with for setting (a, p): its value, or the
/// reference arm's mean at the same point.
fn bound_value(r: &Results, c: &ConstraintMeta, p: usize) -> Option<f64> {
    match &c.arm {
        Some(name) => r.summary.mean(r.arm_index(name)?, p, &c.metric),
        None => Some(c.value),
    }
}

/// What one constraint did, in a sentence.
fn binding_sentence(
    r: &Results,
    d: &Decided,
    k: usize,
    c: &ConstraintMeta,
    pick: Option<(usize, usize)>,
) -> String {
    let Some(b) = d.choice.bindings.get(k) else {
        return String::new();
    };
    let n = d.settings.len();
    let name = constraint_text(c);
    match *b {
        Binding::Nothing => format!("No setting meets the constraint {name}."),
        Binding::Binds { excluded } => {
            let mut s =
                format!("The constraint {name} binds: it rules out {excluded} of the {n} settings");
            let reference = |a: usize| c.arm.as_deref().is_some_and(|n| r.arms[a] == n);
            if let Some((a, _)) = pick
                && reference(a)
            {
                s.push_str("; the pick is that arm itself");
            } else if let Some((a, p)) = pick
                && let (Some(st), Some(bound)) =
                    (r.summary.get(a, p, &c.metric), bound_value(r, c, p))
            {
                let far = if c.at_most { st.ci_high } else { st.ci_low };
                let _ = write!(
                    s,
                    "; the pick has {} against a limit of {}",
                    with_ci(st),
                    fmt_num(bound)
                );
                if far.is_finite() && !frontier::meets(far, c.at_most, bound) {
                    s.push_str(
                        ", and its interval reaches past the limit, so a slightly stricter limit could change the answer",
                    );
                }
            }
            s.push('.');
            s
        }
        Binding::Never { closest, clear } => {
            let (a, p) = d.keys[closest];
            let here = r
                .summary
                .mean(a, p, &c.metric)
                .map(fmt_num)
                .unwrap_or_default();
            let bound = bound_value(r, c, p).map(fmt_num).unwrap_or_default();
            if clear {
                format!(
                    "The constraint {name} never binds: every setting meets it by a wide margin (even at the far end of \
                     its 95% CI; the closest, {}, has {here} against {bound}), so it decides nothing.",
                    setting(r, a, p)
                )
            } else {
                format!(
                    "Every setting meets the constraint {name} on average, so it decides nothing; the closest, {}, \
                     has {here} against {bound}, with an interval that reaches past it.",
                    setting(r, a, p)
                )
            }
        }
    }
}

/// "senior review time +61.1 h/week (95% CI ...), 1.5 senior FTEs" for a rising cost.
fn cost_phrase(r: &Results, metric: &str, st: &Stat) -> String {
    let mut s = format!(
        "{} {}{}",
        metric_name(metric).to_lowercase(),
        diff_text(st).unwrap_or_else(|| "n/a".to_string()),
        unit_suffix(metric)
    );
    if let Some(dm) = st.diff_mean {
        s.push_str(&per_year_note(r, metric, dm));
        if metric == "senior_review_h_per_week" && r.manifest.meta.senior_hours_per_week > 0.0 {
            let _ = write!(
                s,
                " ({} senior FTEs)",
                sig2(dm / r.manifest.meta.senior_hours_per_week)
            );
        }
        if metric.ends_with("_per_day") {
            let _ = write!(s, " ({} per week)", fmt_signed(dm * 7.0));
        }
    }
    s
}

/// The costs of setting `i` (a, p) against the baseline: which rise, which do not.
fn costs_sentence(r: &Results, d: &Decided, i: usize, a: usize, p: usize) -> String {
    let base = r.baseline();
    if a == base {
        return format!(
            "It is the baseline, **{}**: it costs nothing it does not cost today.",
            md(&r.arms[base])
        );
    }
    let Some(o) = &d.objectives else {
        return String::new();
    };
    let s = &d.settings[i];
    let rising = frontier::rising_costs(s, o);
    let names = |ks: &[usize]| -> Vec<String> {
        ks.iter()
            .map(|&k| metric_name(frontier_metric(o.costs[k].0)).to_lowercase())
            .collect()
    };
    let steady: Vec<usize> = (0..o.costs.len()).filter(|k| !rising.contains(k)).collect();
    if frontier::is_free(s, o) {
        return format!(
            "It is free against the baseline, **{}**: its {} is measurably lower and none of its costs ({}) rises \
             measurably (paired 95% CIs).",
            md(&r.arms[base]),
            short_risk(r.risk()),
            names(&steady).join(", ")
        );
    }
    let mut parts = Vec::new();
    for &k in &rising {
        let m = frontier_metric(o.costs[k].0);
        if let Some(st) = r.summary.get(a, p, m) {
            parts.push(cost_phrase(r, m, st));
        }
    }
    let mut out = if parts.is_empty() {
        format!(
            "Against the baseline, **{}**, none of its costs rises measurably",
            md(&r.arms[base])
        )
    } else {
        format!(
            "What it costs against the baseline, **{}**, on the same seeds: {}",
            md(&r.arms[base]),
            parts.join("; ")
        )
    };
    if !steady.is_empty() && !parts.is_empty() {
        let _ = write!(out, "; no measurable rise in {}", names(&steady).join(", "));
    }
    out.push('.');
    out
}

fn frontier_metric(m: usize) -> &'static str {
    crate::metrics::METRICS[m].name
}

/// ": incidents that lasted longer than `max_outage`: 38 per year (95% CI 33 to 43; the
/// baseline, autonomous, 45)…" for each invariant setting (a, p) breaks, so a reader sees
/// which limit is broken, how often, and whether the pick breaks it less than the baseline.
/// Empty for a folder of an older build without the per-invariant counts.
fn broken_invariants(r: &Results, a: usize, p: usize) -> String {
    let base = r.baseline();
    let days = business::horizon_days(r);
    let parts: Vec<String> = InvariantKind::ALL
        .iter()
        .filter_map(|&kind| {
            let metric = violation_metric(kind);
            let st = r.summary.get(a, p, metric).filter(|st| st.mean > 0.0)?;
            let what = match kind {
                InvariantKind::MaxUsersHitByOneChange
                | InvariantKind::MaxOutage
                | InvariantKind::MaxUserImpactMinutes => crate::metrics::METRICS
                    .iter()
                    .find(|m| m.name == metric)
                    .map_or(metric, |m| m.doc)
                    .to_string(),
                InvariantKind::MinDeploysPerDay => {
                    format!("deploys per day below `{}`", kind.name())
                }
            };
            let amount = |v: f64| violation_amount(kind, days, v);
            let unit = match (kind, days) {
                (InvariantKind::MinDeploysPerDay, _) => " of runs",
                (_, Some(_)) => " per year",
                (_, None) => " per run",
            };
            let ci = if st.ci_low.is_finite() && st.ci_high.is_finite() && st.ci_low != st.ci_high {
                format!("95% CI {} to {}; ", amount(st.ci_low), amount(st.ci_high))
            } else {
                String::new()
            };
            let against = if a == base {
                "it is the baseline".to_string()
            } else {
                let b = r.summary.mean(base, p, metric).unwrap_or(0.0);
                format!("the baseline, {}, {}", md(&r.arms[base]), amount(b))
            };
            Some(format!("{what}: {}{unit} ({ci}{against})", amount(st.mean)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
    }
}

/// A mean of invariant `kind`'s violation count for people. Incidents are counted, so
/// their counts scale to a year (over a horizon of `days`); the deploy-rate floor is
/// judged once per run, so its mean is the share of runs below it.
fn violation_amount(kind: InvariantKind, days: Option<f64>, v: f64) -> String {
    match kind {
        InvariantKind::MaxUsersHitByOneChange
        | InvariantKind::MaxOutage
        | InvariantKind::MaxUserImpactMinutes => match days {
            Some(d) => sig2(frontier::per_year(v, d)),
            None => sig2(v),
        },
        InvariantKind::MinDeploysPerDay => format!("{}%", sig2(v * 100.0)),
    }
}

/// The invariant warnings for arm `a` at setting `i`: from `invariant_violations` and
/// from the folder's chaos campaigns.
fn invariant_sentence(r: &Results, d: &Decided, i: usize, a: usize, p: usize) -> String {
    let mut out = String::new();
    if d.choice.broken.get(i).copied().unwrap_or(false) {
        let _ = write!(
            out,
            "**Warning: it breaks an invariant**, as every setting that meets the constraints does{}. ",
            broken_invariants(r, a, p)
        );
    }
    if let Some(ch) = r.chaos_findings() {
        let found = ch.of_arm(&r.arms[a]);
        let clean: Vec<String> = r
            .arms
            .iter()
            .filter(|name| ch.of_arm(name).is_empty())
            .map(|n| format!("**{}**", md(n)))
            .collect();
        let others = if clean.is_empty() {
            "no arm survived every campaign".to_string()
        } else {
            format!("arms without findings: {}", clean.join(", "))
        };
        if found.is_empty() {
            let _ = write!(
                out,
                "In the {} chaos campaigns (`chaos/chaos.md`) it broke no invariant.",
                ch.campaigns
            );
        } else {
            let list: Vec<String> = found
                .iter()
                .map(|(inv, n)| format!("`{inv}` in {n} of {}", ch.campaigns))
                .collect();
            let _ = write!(
                out,
                "**Warning: under chaos campaigns (`chaos/chaos.md`) it broke {}** campaigns; {others}.",
                list.join(", ")
            );
        }
    }
    out.trim_end().to_string()
}

/// The first screen's paragraph: the pick, why, what it costs, how sure.
fn what_to_do_paragraph(r: &Results, d: &Decided) -> String {
    let vm = r.velocity();
    match r.recommended() {
        Some((a, p)) => {
            let Some(i) = d.index(a, p) else {
                return format!("Pick {}.", setting(r, a, p));
            };
            let mut s = format!("Pick {}. ", setting(r, a, p));
            let v = r.summary.get(a, p, vm).map(with_ci).unwrap_or_default();
            let scope = if r.constraints().is_empty() {
                "of every setting".to_string()
            } else {
                "of the settings that meet every constraint".to_string()
            };
            let ties: Vec<usize> = d.choice.ties.iter().copied().filter(|&t| t != i).collect();
            if ties.is_empty() {
                let _ = write!(
                    s,
                    "It has the highest {} {scope}: {v} {}, and no other such setting comes within its 95% CI. ",
                    metric_name(vm).to_lowercase(),
                    metric_unit(vm)
                );
            } else {
                let names: Vec<String> = ties
                    .iter()
                    .map(|&t| {
                        let (ta, tp) = d.keys[t];
                        setting(r, ta, tp)
                    })
                    .collect();
                let _ = write!(
                    s,
                    "On {} it is tied with {} ({} in all {scope}, each within the 95% CI of the fastest; it has {v} {}); \
                     among ties the safer wins, then the cheaper, and it is the safest of them within the data's \
                     precision. ",
                    metric_name(vm).to_lowercase(),
                    names.join(", "),
                    ties.len() + 1,
                    metric_unit(vm)
                );
            }
            s.push_str(&costs_sentence(r, d, i, a, p));
            for (k, c) in r.constraints().iter().enumerate() {
                s.push(' ');
                s.push_str(&binding_sentence(r, d, k, c, Some((a, p))));
            }
            let risk = r.risk();
            if a != r.baseline()
                && let Some(st) = r.summary.get(a, p, risk)
                && let Some(dt) = diff_text(st)
            {
                let m =
                    st.diff_mean
                        .zip(st.diff_low)
                        .zip(st.diff_high)
                        .map(|((mean, low), high)| {
                            frontier::mark(frontier::Interval { mean, low, high }, Worse::Higher)
                        });
                let _ = write!(
                    s,
                    " How sure: its {} per run differs from the baseline's by {dt}{}{}.",
                    short_risk(risk),
                    unit_suffix(risk),
                    match m {
                        Some(Mark::Better) => ", measurably better",
                        Some(Mark::Worse) => ", measurably worse",
                        Some(Mark::Inconclusive) => ", inconclusive",
                        Some(Mark::Same) | None => "",
                    }
                );
            }
            let w = invariant_sentence(r, d, i, a, p);
            if !w.is_empty() {
                s.push(' ');
                s.push_str(&w);
            }
            s
        }
        None => {
            let mut s = "**No setting meets every constraint, so there is no pick.** ".to_string();
            for (k, c) in r.constraints().iter().enumerate() {
                let b = binding_sentence(r, d, k, c, None);
                if !b.is_empty() {
                    s.push_str(&b);
                    s.push(' ');
                }
            }
            if let Some((a, p)) = r.closest() {
                let _ = write!(
                    s,
                    "The closest is {}; the table below sets out what each option gives and costs.",
                    setting(r, a, p)
                );
            }
            s.trim_end().to_string()
        }
    }
}

/// "What to do": the paragraph and the table of options in business units.
pub(super) fn what_to_do(r: &Results) -> Vec<Block> {
    let d = r.decision();
    let mut out = vec![Block::P(what_to_do_paragraph(r, &d))];
    let measures = business::measures(r);
    if measures.is_empty() {
        return out;
    }
    let p = r.focus_point();
    let base = r.baseline();
    let scale = match business::horizon_days(r) {
        Some(days) => format!(
            "Per-year figures are per-run means scaled by 365 / {} days.",
            fmt_num(days)
        ),
        None => "The horizon is unknown, so figures are per run.".to_string(),
    };
    out.push(Block::P(format!(
        "The options{}. Each cell is the mean with its 95% CI, to two significant figures, and a mark against the \
         baseline, **{}**, from the paired difference on the same seeds: *better* or *worse* when the interval \
         excludes zero, *inconclusive* when it does not. {scale}",
r.focus_phrase(" ", ""),
        md(&r.arms[base])
    )));
    let mut head = vec!["Option".to_string()];
    head.extend(measures.iter().map(|m| m.heading.clone()));
    let rec = r.recommended();
    let rows = (0..r.arms.len())
        .filter(|&a| measures.iter().any(|m| m.value(r, a, p).is_some()))
        .map(|a| {
            let mut name = md(&r.arms[a]);
            if rec.is_some_and(|(ra, rp)| ra == a && rp == p) {
                name = if a == base {
                    format!("**{name}** (pick; baseline)")
                } else {
                    format!("**{name}** (pick)")
                };
            } else if a == base {
                name = format!("{name} (baseline)");
            }
            let mut row = vec![name];
            for m in &measures {
                let cell = match m.value(r, a, p) {
                    None => "n/a".to_string(),
                    Some(v) => {
                        let shown = if m.kind == Quantity::GivenUp && a == base {
                            "0".to_string()
                        } else {
                            sig2_ci(v.mean, v.low, v.high)
                        };
                        match m.mark(r, a, p) {
                            Some(mk) => format!("{shown} {}", mk.name()),
                            None => shown,
                        }
                    }
                };
                row.push(cell);
            }
            row
        })
        .collect();
    out.push(Block::Table { head, rows });
    out
}

/// "It deploys X changes/day and has Y user-impact minutes per run" for a setting.
fn describe(r: &Results, a: usize, p: usize) -> String {
    let (vm, rm) = (r.velocity(), r.risk());
    let horizon = {
        let len = run_length(r);
        let year = r
            .summary
            .mean(a, p, rm)
            .map(|v| per_year_note(r, rm, v))
            .unwrap_or_default();
        match (len.is_empty(), year.is_empty()) {
            (true, _) => year,
            (false, true) => format!(" ({len})"),
            (false, false) => format!(" ({len}; {})", year.trim().trim_matches(['(', ')'])),
        }
    };
    let mut s = String::new();
    if let Some(v) = r.summary.get(a, p, vm) {
        // "deploys" only when the velocity metric counts changes (tasks are not deployed).
        let unit = metric_unit(vm);
        let verb = if unit.starts_with("changes") {
            "deploys"
        } else {
            "achieves"
        };
        let _ = write!(s, "It {verb} {} {unit}", with_ci(v));
    }
    if let Some(k) = r.summary.get(a, p, rm) {
        let _ = write!(
            s,
            "{}{} {} per run{horizon}",
            if s.is_empty() { "It has " } else { " and has " },
            with_ci(k),
            metric_unit(rm)
        );
    }
    if !s.is_empty() {
        s.push('.');
    }
    s
}

/// "The decision in detail": the recommendation and why, or why there is none.
pub(super) fn headline(r: &Results) -> Vec<String> {
    match (r.recommended(), r.closest()) {
        (Some((a, p)), _) => recommended(r, a, p),
        (None, Some((a, p))) => closest(r, a, p),
        (None, None) => vec![
            "The run made no recommendation. The frontier below shows the choices.".to_string(),
        ],
    }
}

/// The recommended setting `(a, p)`: what it gives, against the baseline, and the
/// constraints it meets.
fn recommended(r: &Results, a: usize, p: usize) -> Vec<String> {
    let (vm, rm) = (r.velocity(), r.risk());
    let base = r.baseline();
    let mut out = Vec::new();
    let mut first = format!("Recommendation: {}.", setting(r, a, p));
    let d = describe(r, a, p);
    if !d.is_empty() {
        first = format!("{first} {d}");
    }
    out.push(first);
    if a != base {
        let dv = r.summary.get(a, p, vm).and_then(diff_text);
        let dk = r.summary.get(a, p, rm).and_then(|st| {
            let t = diff_text(st)?;
            Some(format!(
                "{t} {} per run{}",
                metric_unit(rm),
                st.diff_mean
                    .map(|m| per_year_note(r, rm, m))
                    .unwrap_or_default()
            ))
        });
        if let (Some(dv), Some(dk)) = (dv, dk) {
            out.push(format!(
                "Against the baseline, **{}**, on the same simulated changes: {dv} {} and {dk}.",
                md(&r.arms[base]),
                metric_unit(vm),
            ));
        }
    } else {
        out.push("This is the baseline arm: no alternative that meets the constraints is preferred to it.".to_string());
    }
    if !r.constraints().is_empty() {
        let parts: Vec<String> = r
            .constraints()
            .iter()
            .map(|c| {
                let here = match (r.summary.mean(a, p, &c.metric), bound_value(r, c, p)) {
                    (Some(v), Some(b)) if c.arm.is_some() => {
                        format!(" (here {} against {})", fmt_num(v), fmt_num(b))
                    }
                    (Some(v), _) => format!(" (here {})", fmt_num(v)),
                    _ => String::new(),
                };
                format!("{}{here}", constraint_text(c))
            })
            .collect();
        out.push(format!(
            "It meets every constraint: {}. Among the settings that do, the fastest on {} and every setting within \
             its 95% CI are tied; among ties the safer wins (lower {}, within the CI of the safest), then the cheaper \
             (costs compared in the order the scenario lists them).",
            parts.join("; "),
            metric_name(vm).to_lowercase(),
            short_risk(rm)
        ));
    }
    out
}

/// No setting is feasible: the closest one `(a, p)` and what it misses.
fn closest(r: &Results, a: usize, p: usize) -> Vec<String> {
    let misses: Vec<String> = r
        .constraints()
        .iter()
        .filter_map(|c| {
            let v = r.summary.mean(a, p, &c.metric)?;
            let b = bound_value(r, c, p)?;
            (!frontier::meets(v, c.at_most, b)).then(|| {
                format!(
                    "{} (it has {}{})",
                    constraint_text(c),
                    fmt_num(v),
                    unit_suffix(&c.metric)
                )
            })
        })
        .collect();
    let mut out = vec![format!(
        "**No setting met the constraints.** The closest is {}, which misses {}.",
        setting(r, a, p),
        if misses.is_empty() {
            "them narrowly".to_string()
        } else {
            misses.join("; ")
        }
    )];
    let d = describe(r, a, p);
    if !d.is_empty() {
        out.push(d);
    }
    out.push(
        "So the choice is a trade-off between velocity and blast radius, set out below; to get a \
         recommendation, relax a constraint or add a stronger safeguard to the scenario and run it again."
            .to_string(),
    );
    out
}

/// The trade-off against the baseline, arm by arm, from the paired differences at the
/// focus point: how much velocity each arm gives up for how much less blast radius, and
/// which other costs rise. Said whether or not a setting was recommended.
pub(super) fn tradeoff(r: &Results) -> Vec<Block> {
    let (vm, rm) = (r.velocity(), r.risk());
    let p = r.focus_point();
    let base = r.baseline();
    let (Some(bv), Some(bk)) = (r.summary.mean(base, p, vm), r.summary.mean(base, p, rm)) else {
        return Vec::new();
    };
    let arms: Vec<usize> = (0..r.arms.len())
        .filter(|&a| r.summary.get(a, p, vm).is_some() && r.summary.get(a, p, rm).is_some())
        .collect();
    if arms.len() < 2 {
        return Vec::new();
    }
    let d = r.decision();
    let mut out = vec![Block::P(safest_and_fastest(r, &arms, (bv, bk)))];
    let rows: Vec<Vec<String>> = arms
        .iter()
        .copied()
        .filter(|&a| a != base)
        .filter_map(|a| tradeoff_row(r, &d, a, p, (bv, bk)))
        .collect();
    if !rows.is_empty() {
        let costs: Vec<String> = d
            .objectives
            .as_ref()
            .map(|o| {
                o.costs
                    .iter()
                    .map(|&(m, _)| metric_name(frontier_metric(m)).to_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        out.push(Block::P(format!(
            "Each arm against the baseline on the same simulated changes (paired runs). The last column is the \
             price of safety: the share of the baseline's {} given up for every 10% of its {} removed (lower is a \
             better deal), and any other cost that rises. \"Free\" means safer with no measurable rise in any cost \
             ({}). A difference counts only when its 95% interval excludes zero.",
            metric_name(vm).to_lowercase(),
            short_risk(rm),
            costs.join(", ")
        )));
        out.push(Block::Table {
            head: vec![
                "Arm".to_string(),
                format!("{} vs baseline", metric_name(vm)),
                format!("{} vs baseline", metric_name(rm)),
                "Price of safety".to_string(),
            ],
            rows,
        });
    }
    out
}

/// "**The trade-off.** Safest: ... Fastest: ... The baseline ... has ...", at the focus
/// point, among `arms`; `(bv, bk)` are the baseline's velocity and risk.
fn safest_and_fastest(r: &Results, arms: &[usize], (bv, bk): (f64, f64)) -> String {
    let (vm, rm) = (r.velocity(), r.risk());
    let p = r.focus_point();
    let base = r.baseline();
    let mean = |a: usize, metric: &str| r.summary.mean(a, p, metric).unwrap_or(f64::NAN);
    // Ties go to the earlier arm (scenario order), so the sentence is stable.
    let safest = arms.iter().copied().fold(
        arms[0],
        |b, a| if mean(a, rm) < mean(b, rm) { a } else { b },
    );
    let fastest = arms.iter().copied().fold(
        arms[0],
        |b, a| if mean(a, vm) > mean(b, vm) { a } else { b },
    );
    let at = r.focus_description();
    format!(
        "**The trade-off.** {}Safest: **{}**, with {} {} per run{}. Fastest: **{}**, with {} {}. \
         The baseline, **{}**, has {} and {}.",
        if at.is_empty() {
            String::new()
        } else {
            format!("{}: ", capital(&at))
        },
        md(&r.arms[safest]),
        fmt_num(mean(safest, rm)),
        metric_unit(rm),
        per_year_note(r, rm, mean(safest, rm)),
        md(&r.arms[fastest]),
        fmt_num(mean(fastest, vm)),
        metric_unit(vm),
        md(&r.arms[base]),
        format_args!("{} {}", fmt_num(bv), metric_unit(vm)),
        format_args!(
            "{} {} per run{}",
            fmt_num(bk),
            metric_unit(rm),
            per_year_note(r, rm, bk)
        ),
    )
}

/// "-12% (-5.1; 95% CI -6.0 to -4.2)": a paired difference relative to the baseline's
/// mean `of`.
fn change(st: &Stat, of: f64) -> String {
    let Some(d) = st.diff_mean.filter(|d| d.is_finite()) else {
        return "n/a".to_string();
    };
    if diff_text(st).as_deref() == Some("same in every run") {
        return "same in every run".to_string();
    }
    let pct = if of.abs() > 0.0 {
        format!("{}%", fmt_signed(100.0 * d / of))
    } else {
        "n/a".to_string()
    };
    let ci = match (st.diff_low, st.diff_high) {
        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => {
            format!("; 95% CI {} to {}", fmt_signed(lo), fmt_signed(hi))
        }
        _ => String::new(),
    };
    format!("{pct} ({}{ci})", fmt_signed(d))
}

/// Arm `a`'s row of the trade-off table at point `p`: its changes against the baseline
/// (whose velocity and risk are `(bv, bk)`) and the price of safety, every cost counted.
fn tradeoff_row(
    r: &Results,
    d: &Decided,
    a: usize,
    p: usize,
    (bv, bk): (f64, f64),
) -> Option<Vec<String>> {
    let (vm, rm) = (r.velocity(), r.risk());
    let (sv, sk) = (r.summary.get(a, p, vm)?, r.summary.get(a, p, rm)?);
    let (dv, dk) = (sv.diff_mean?, sk.diff_mean?);
    // "Clearly" = the 95% CI of the paired difference excludes 0.
    let below = |st: &Stat| st.diff_high.is_some_and(|h| h < 0.0);
    let above = |st: &Stat| st.diff_low.is_some_and(|l| l > 0.0);
    let (slower, faster) = (below(sv), above(sv));
    let (safer, riskier) = (below(sk), above(sk));
    // The costs other than velocity that rise measurably.
    let others: Vec<String> = match (&d.objectives, d.index(a, p)) {
        (Some(o), Some(i)) => frontier::rising_costs(&d.settings[i], o)
            .into_iter()
            .filter(|&k| o.costs[k].0 != o.velocity)
            .map(|k| metric_name(frontier_metric(o.costs[k].0)).to_lowercase())
            .collect(),
        _ => Vec::new(),
    };
    let also = if others.is_empty() {
        String::new()
    } else {
        format!("; more {}", others.join(", "))
    };
    let price = if safer && slower && bv > 0.0 && bk > 0.0 {
        let cost = 100.0 * -dv / bv;
        let gain = 100.0 * -dk / bk;
        format!(
            "{}% of velocity per 10% less {}{also}",
            fmt_num(10.0 * cost / gain),
            short_risk(rm)
        )
    } else if safer && !slower && others.is_empty() {
        "free: safer, no cost rises measurably".to_string()
    } else if safer && !slower {
        format!(
            "safer, at no velocity cost but{}",
            also.trim_start_matches(';')
        )
    } else if riskier && slower {
        format!("worse on both{also}")
    } else if riskier {
        format!("buys velocity with blast radius{also}")
    } else if slower {
        format!("costs velocity, no measurable safety gain{also}")
    } else if faster {
        format!("faster, no measurable safety change{also}")
    } else if !others.is_empty() {
        format!("no measurable safety change{also}")
    } else {
        "no measurable difference".to_string()
    };
    Some(vec![md(&r.arms[a]), change(sv, bv), change(sk, bk), price])
}
