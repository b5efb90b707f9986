//! "Method and assumptions" and "Reproduce": the model in a paragraph, common random
//! numbers and what they bought, uncertainty, how the recommendation is chosen, and the
//! commands that rebuild the folder.

use std::fmt::Write as _;

use super::super::charts::input::Results;
use super::super::charts::style::{fmt_num, fmt_pct, metric_name, short_path};
use super::text::constraint_text;

pub(super) fn method(r: &Results) -> Vec<String> {
    let mut out = vec![
        "**The model.** A discrete-event simulation of an engineering organisation. AI agents and human engineers \
         propose changes; each change is, unknown to everyone, either sound or defective, and how badly. The approval \
         policy routes it to reviewers (juniors and seniors, with working hours, queues and imperfect detection that \
         gets worse when rushed). Automated circuit breakers can stop an agent as it acts. A defective change that \
         reaches production starts an incident at its service, which spreads along the service dependency graph until \
         it is detected and rolled back or rebuilt."
            .to_string(),
        "**User-impact minutes** measure an outage's size: minutes down, weighted by the share of user traffic \
         affected. 60 user-impact minutes is every user cut off for an hour, or 10% of users for ten hours."
            .to_string(),
    ];
    // Common random numbers: how much the pairing bought, from the rows that measure it.
    let mut ratios: Vec<f64> = r
        .summary
        .iter()
        .filter(|((_, _, metric), _)| metric == r.velocity() || metric == r.risk())
        .filter_map(|(_, s)| s.pairing_variance_ratio)
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let mut crn = "**Fair comparison.** Every arm faces the same simulated world: replication r uses one random seed \
                   in every arm, so the same changes are proposed, with the same hidden defects, on the same days \
                   (common random numbers). Differences between arms then come from the policy, not from luck."
        .to_string();
    if !ratios.is_empty() {
        let med = ratios[ratios.len() / 2];
        if med < 1.0 {
            let _ = write!(
                crn,
                " Measured on these runs, pairing cut the variance of the differences to {} of what independent \
                 seeds would give (median over arms and settings, for {} and {}): each comparison is as precise as \
                 about {}× as many unpaired runs.",
                fmt_pct(med),
                metric_name(r.velocity()).to_lowercase(),
                metric_name(r.risk()).to_lowercase(),
                fmt_num(1.0 / med)
            );
        } else {
            let _ = write!(
                crn,
                " Measured on these runs, pairing did not reduce the variance of the differences (ratio {} of \
                 independent seeds), so the paired intervals are no tighter than unpaired ones.",
                fmt_num(med)
            );
        }
    }
    out.push(crn);
    out.push(format!(
        "**Uncertainty.** Each number is a mean over {} replications with a 95% confidence interval (Student t). \
         Differences from the baseline are paired, run by run.",
        r.replications()
    ));
    let cs: Vec<String> = r.constraints().iter().map(constraint_text).collect();
    let costs: Vec<String> = r
        .decision()
        .objectives
        .map(|o| {
            o.costs
                .iter()
                .map(|&(m, _)| metric_name(crate::metrics::METRICS[m].name).to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    out.push(format!(
        "**How the recommendation is chosen.** Settings whose mean meets every constraint{} are candidates; one \
         that breaks an invariant is a candidate only when all of them do, and the report then says so. The fastest \
         candidate on {}, and every candidate within its 95% CI, are tied: the runs cannot tell them apart. Among \
         ties the safer wins (lower {}, within the CI of the safest), then the cheaper, comparing the costs ({}) in \
         that order. A setting is called free only when its {} is measurably lower than the baseline's and none of \
         these costs rises measurably (paired 95% CIs). A bound \"arm:NAME\" compares with that arm's mean at the \
         same sweep setting, on the same seeds.",
        if cs.is_empty() {
            " (the scenario states none)".to_string()
        } else {
            format!(" ({})", cs.join("; "))
        },
        metric_name(r.velocity()).to_lowercase(),
        metric_name(r.risk()).to_lowercase(),
        costs.join(", "),
        metric_name(r.risk()).to_lowercase(),
    ));
    if !r.axes().is_empty() {
        let paths: Vec<String> = r
            .axes()
            .iter()
            .map(|a| format!("`{}`", short_path(&a.path)))
            .collect();
        out.push(format!(
            "**Assumptions.** The swept parameters ({}) are what the scenario leaves open; every other parameter \
             is fixed at the scenario's value. Parameters without a source below are modelling assumptions.",
            paths.join(", ")
        ));
    }
    out
}

/// The recorded command without the flags that cannot change a result (`--threads`,
/// `--quiet`, `--no-charts`), so the report reads the same however the run was invoked.
pub(super) fn reproduce_command(command: &str) -> String {
    let mut out = Vec::new();
    let mut words = command.split_whitespace();
    while let Some(w) = words.next() {
        match w {
            "--quiet" | "--no-charts" => {}
            "--threads" => {
                words.next();
            }
            _ if w.starts_with("--threads=") => {}
            _ => out.push(w),
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod reproduce_tests {
    use super::reproduce_command;

    #[test]
    fn flags_that_cannot_change_a_result_are_dropped() {
        assert_eq!(
            reproduce_command(
                "blastsim run s.toml --threads 2 --quiet --seed 7 --no-charts --threads=1"
            ),
            "blastsim run s.toml --seed 7"
        );
    }
}
