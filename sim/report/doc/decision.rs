//! "The answer": the recommendation (or why there is none) and the trade-off of every arm
//! against the baseline, from the decision `experiment::frontier` made for the run.

use std::fmt::Write as _;

use super::super::charts::input::{Results, Stat};
use super::super::charts::style::{fmt_num, fmt_signed, metric_name, metric_unit};
use super::markdown::Block;
use super::text::{
    capital, constraint_text, diff_text, horizon_text, md, setting, short_risk, unit_suffix,
    with_ci,
};

/// The answer's opening paragraphs: the recommendation and why, or why there is none.
pub(super) fn headline(r: &Results) -> Vec<String> {
    match (r.recommended(), r.closest()) {
        (Some((a, p)), _) => recommended(r, a, p),
        (None, Some((a, p))) => closest(r, a, p),
        (None, None) => vec!["The run made no recommendation (the scenario states no constraints to choose by). The frontier below shows the choices.".to_string()],
    }
}

/// "It deploys X changes/day and has Y user-impact minutes per run" for a setting.
fn describe(r: &Results, a: usize, p: usize) -> String {
    let (vm, rm) = (r.velocity(), r.risk());
    let horizon = if r.manifest.meta.horizon.is_empty() {
        String::new()
    } else {
        format!(" (one run = {})", horizon_text(&r.manifest.meta.horizon))
    };
    let mut s = String::new();
    if let Some(v) = r.summary.get(a, p, vm) {
        let _ = write!(s, "It deploys {} {}", with_ci(v), metric_unit(vm));
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
        let dk = r.summary.get(a, p, rm).and_then(diff_text);
        if let (Some(dv), Some(dk)) = (dv, dk) {
            out.push(format!(
                "Against the baseline, **{}**, on the same simulated changes: {dv} {} and {dk} {} per run.",
                md(&r.arms[base]),
                metric_unit(vm),
                metric_unit(rm)
            ));
        }
    } else {
        out.push(
            "This is the baseline arm: no alternative that meets the constraints deploys more."
                .to_string(),
        );
    }
    if !r.constraints().is_empty() {
        let parts: Vec<String> = r
            .constraints()
            .iter()
            .map(|c| {
                let here = r
                    .summary
                    .mean(a, p, &c.metric)
                    .map(|v| format!(" (here {})", fmt_num(v)))
                    .unwrap_or_default();
                format!("{}{here}", constraint_text(c))
            })
            .collect();
        out.push(format!(
            "It is the setting with the highest {} that meets every constraint: {}.",
            metric_name(vm).to_lowercase(),
            parts.join("; ")
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
            (!c.met_by(v)).then(|| {
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
/// focus point: how much velocity each arm gives up for how much less blast radius. Said
/// whether or not a setting was recommended, since it is what a reader weighs.
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
    let mut out = vec![Block::P(safest_and_fastest(r, &arms, (bv, bk)))];
    let rows: Vec<Vec<String>> = arms
        .iter()
        .copied()
        .filter(|&a| a != base)
        .filter_map(|a| tradeoff_row(r, a, p, (bv, bk)))
        .collect();
    if !rows.is_empty() {
        out.push(Block::P(format!(
            "Each arm against the baseline on the same simulated changes (paired runs). The last column is the \
             price of safety: the share of the baseline's {} given up for every 10% of its {} removed; \
             lower is a better deal. A difference counts only when its 95% interval excludes zero.",
            metric_name(vm).to_lowercase(),
            short_risk(rm),
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
        "**The trade-off.** {}Safest: **{}**, with {} {} per run. Fastest: **{}**, with {} {}. \
         The baseline, **{}**, has {} and {}.",
        if at.is_empty() {
            String::new()
        } else {
            format!("{}: ", capital(&at))
        },
        md(&r.arms[safest]),
        fmt_num(mean(safest, rm)),
        metric_unit(rm),
        md(&r.arms[fastest]),
        fmt_num(mean(fastest, vm)),
        metric_unit(vm),
        md(&r.arms[base]),
        format_args!("{} {}", fmt_num(bv), metric_unit(vm)),
        format_args!("{} {}", fmt_num(bk), metric_unit(rm)),
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
/// (whose velocity and risk are `(bv, bk)`) and the price of safety.
fn tradeoff_row(r: &Results, a: usize, p: usize, (bv, bk): (f64, f64)) -> Option<Vec<String>> {
    let (vm, rm) = (r.velocity(), r.risk());
    let (sv, sk) = (r.summary.get(a, p, vm)?, r.summary.get(a, p, rm)?);
    let (dv, dk) = (sv.diff_mean?, sk.diff_mean?);
    // "Clearly" = the 95% CI of the paired difference excludes 0.
    let below = |st: &Stat| st.diff_high.is_some_and(|h| h < 0.0);
    let above = |st: &Stat| st.diff_low.is_some_and(|l| l > 0.0);
    let (slower, faster) = (below(sv), above(sv));
    let (safer, riskier) = (below(sk), above(sk));
    let price = if safer && slower && bv > 0.0 && bk > 0.0 {
        let cost = 100.0 * -dv / bv;
        let gain = 100.0 * -dk / bk;
        format!(
            "{}% of velocity per 10% less {}",
            fmt_num(10.0 * cost / gain),
            short_risk(rm)
        )
    } else if safer && !slower {
        "free: safer at no measurable velocity cost".to_string()
    } else if riskier && slower {
        "worse on both".to_string()
    } else if riskier {
        "buys velocity with blast radius".to_string()
    } else if slower {
        "costs velocity, no measurable safety gain".to_string()
    } else if faster {
        "faster, no measurable safety change".to_string()
    } else {
        "no measurable difference".to_string()
    };
    Some(vec![md(&r.arms[a]), change(sv, bv), change(sk, bk), price])
}
