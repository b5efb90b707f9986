//! "How sure is this?": the sensitivity analysis (the tornado chart and where the
//! recommendation flips) and the trust section (the assumptions the answer rests on, with
//! their sources and whether they flip it, and the model's checks against published
//! figures).

use super::markdown::Block;
use super::text;
use crate::report::charts::input::{Results, SensitivityRow, range_ends};
use crate::report::charts::style::{fmt_num, fmt_signed, metric_name, metric_unit};
use crate::report::charts::{ChartFile, Charts};

/// The checks of the model against theory and published figures that the test suite runs
/// (tests/it/*.rs): what is checked, the figure, its source and the tolerance.
const CHECKS: &[[&str; 5]] = &[
    [
        "Waiting time for review in an M/M/c queue (3 reviewers)",
        "Erlang C: 1.0787 h mean wait",
        "queueing theory (Erlang C formula)",
        "within 4 standard errors and 5%",
        "world.rs `review_wait_matches_erlang_c`",
    ],
    [
        "Review queue length against arrivals × wait",
        "L = λW",
        "Little's law",
        "2%",
        "world.rs `littles_law_holds_on_the_review_queue`",
    ],
    [
        "Cascade size on a soft k-ary tree",
        "Σ (kT)^i (branching process)",
        "docs/calibration.md §5.1",
        "4 standard errors, standard error under 1%",
        "graph.rs `soft_tree_matches_branching_process`",
    ],
    [
        "Cascade threshold on a random graph; giant cascade share above it",
        "T_c = ⟨k⟩/(⟨k²⟩−⟨k⟩) ≈ 1/4; share 0.797 at 2 T_c",
        "Newman 2002 (docs/calibration.md §5.1)",
        "T_c ±0.03; P(giant) ±0.08; share ±0.05",
        "graph.rs `random_graph_has_a_cascade_threshold`",
    ],
    [
        "DeathStarBench socialNetwork and TrainTicket topologies",
        "27 services, 46 edges; 41 services",
        "DeathStarBench, train-ticket repositories (docs/calibration.md §5.2, §5.3)",
        "exact",
        "graph.rs `presets_load_with_expected_counts`",
    ],
    [
        "Alibaba-like generated graph",
        "13% entry, 48% middle, 39% leaf services",
        "Winchester et al. 2025, Alibaba 2022 trace (docs/calibration.md §5.4)",
        "exact counts",
        "graph.rs `generators_give_the_stated_shares`",
    ],
    [
        "Error-budget page alert",
        "2% of a 30-day budget in 1 h fires (burn 14.4×), 1% does not",
        "Google SRE workbook (docs/calibration.md §3.3)",
        "exact",
        "breaker.rs `error_budget_google_sre_table_two_percent_fires_one_percent_does_not`",
    ],
    [
        "Paired 95% confidence intervals",
        "cover the true difference 95% of the time",
        "statistics (t interval)",
        "±1.5 percentage points over 2,000 trials",
        "experiment.rs `paired_ci_coverage_is_near_95_percent`",
    ],
];

/// "between 0.1 and 0.15" for a flipping end, lower value first; the value alone when
/// bisection closed in.
fn flip_value(r: &SensitivityRow) -> String {
    if r.holds_at.is_empty() || r.holds_at == r.flips_at {
        r.flips_at.clone()
    } else if r.side == "low" {
        format!("between {} and {}", r.flips_at, r.holds_at)
    } else {
        format!("between {} and {}", r.holds_at, r.flips_at)
    }
}

fn advantage(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), fmt_signed)
}

/// The whole section, or a short note when the analysis was not run.
pub(super) fn section(r: &Results, charts: &Charts, figure: fn(&ChartFile) -> Block) -> Vec<Block> {
    let mut b = vec![Block::H2("How sure is this?".to_string())];
    let Some(rows) = &r.sensitivity else {
        b.push(Block::P(
            "No sensitivity analysis was run for this folder (the scenario has no `[sensitivity]` section, \
             or the run used `--no-sensitivity` or `--shard`): the answer has not been tested against its assumptions."
                .to_string(),
        ));
        b.extend(checks());
        return b;
    };
    let pairs = range_ends(rows);
    let Some(first) = pairs.first().map(|p| p.low) else {
        b.push(Block::P("sensitivity.csv lists no assumption.".to_string()));
        b.extend(checks());
        return b;
    };
    let objective = metric_name(&first.objective).to_lowercase();
    let unit = metric_unit(&first.objective);
    let flips: Vec<&SensitivityRow> = rows.iter().filter(|x| x.flips).collect();
    let flipping: Vec<&str> = pairs
        .iter()
        .filter(|p| p.low.flips || p.high.flips)
        .map(|p| p.low.label.as_str())
        .collect();
    let runs: u64 = rows.iter().map(|x| x.runs).sum();
    let mut intro = format!(
        "Each of the {} assumptions below was set to the low and then the high end of its range, one at a time, \
         with everything else as in the scenario, and every arm was simulated again on the same seeds as the main \
         runs ({} in all). Each variation was judged by the same rule as the recommendation above. ",
        pairs.len(),
        if runs == 1 {
            "1 run".to_string()
        } else {
            format!("{runs} runs")
        }
    );
    match first.base_advantage {
        Some(a) => intro.push_str(&format!(
            "The **lead** of the recommendation, {}, is its {objective} minus that of the runner-up (the setting \
             the rule picks when {} is left out): {} {unit} at the scenario's values. ",
            text::md(&first.base_recommended),
            text::md(&first.base_recommended),
            fmt_num(a)
        )),
        None => intro.push_str(&format!(
            "At the scenario's values the recommendation is {}, with no runner-up to measure a lead against. ",
            text::md(&first.base_recommended)
        )),
    }
    if flipping.is_empty() {
        intro.push_str(&format!(
            "**No assumption changes the recommendation anywhere in its range**: the answer ({}) holds.",
            text::md(&first.base_recommended)
        ));
    } else {
        intro.push_str(&format!(
            "**{} of {} assumptions change the recommendation within their range** ({}); the table below says \
             at what value and to which arm. Read the answer as conditional on those values.",
            flipping.len(),
            pairs.len(),
            flipping
                .iter()
                .map(|l| text::md(l))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    b.push(Block::P(intro));
    if let Some(f) = charts.get("tornado") {
        b.push(figure(f));
    }
    if !flips.is_empty() {
        b.push(Block::P("Where the recommendation changes (the value is located by bisection between the scenario's value and the end of the range, so it is approximate; a parameter may flip again elsewhere in its range):".to_string()));
        b.push(Block::Table {
            head: vec![
                "Assumption".to_string(),
                "Scenario's value".to_string(),
                "Changes at".to_string(),
                "To".to_string(),
                "Why (at the end of the range)".to_string(),
            ],
            rows: flips
                .iter()
                .map(|x| {
                    vec![
                        text::md(&x.label),
                        text::md(&x.base),
                        text::md(&flip_value(x)),
                        text::md(&x.flips_to),
                        if x.pick_feasible {
                            "another arm ships more".to_string()
                        } else {
                            format!(
                                "{} no longer meets a constraint",
                                text::md(&x.base_recommended)
                            )
                        },
                    ]
                })
                .collect(),
        });
    }
    b.push(Block::H2("What the answer rests on".to_string()));
    b.push(Block::P(
        "Every value the scenario marks ASSUMPTION (no published figure) or NOT FOUND (searched for, not found) has a \
         range here; values with a published source cite docs/calibration.md by section. The lead is given at both \
         ends of the range (– where no other setting meets every constraint, so there is no runner-up)."
            .to_string(),
    ));
    b.push(Block::Table {
        head: vec![
            "Assumption".to_string(),
            "Value".to_string(),
            "Source".to_string(),
            "Range tested".to_string(),
            format!("Lead at low / high ({unit})"),
            "Does the answer flip?".to_string(),
        ],
        rows: pairs
            .iter()
            .map(|p| {
                let flip = match (p.low.flips, p.high.flips) {
                    (false, false) => "no".to_string(),
                    (true, false) => format!("yes, low: {}", p.low.recommended),
                    (false, true) => format!("yes, high: {}", p.high.recommended),
                    (true, true) => format!(
                        "yes, low: {}; high: {}",
                        p.low.recommended, p.high.recommended
                    ),
                };
                vec![
                    format!(
                        "{} ({})",
                        text::md(&p.low.label),
                        text::code(&p.low.parameter)
                    ),
                    text::md(&p.low.base),
                    text::md(&p.low.source),
                    format!("{} to {}", text::md(&p.low.value), text::md(&p.high.value)),
                    format!(
                        "{} / {}",
                        advantage(p.low.advantage),
                        advantage(p.high.advantage)
                    ),
                    text::md(&flip),
                ]
            })
            .collect(),
    });
    b.extend(checks());
    b
}

/// The model's checks against published figures.
fn checks() -> Vec<Block> {
    vec![
        Block::P(
            "The model's checks against theory and published figures (each is a test in `tests/it/` that fails \
             when the simulator drifts from the figure by more than the tolerance):"
                .to_string(),
        ),
        Block::Table {
            head: vec![
                "What is checked".to_string(),
                "Figure".to_string(),
                "Source".to_string(),
                "Tolerance".to_string(),
                "Test".to_string(),
            ],
            rows: CHECKS
                .iter()
                .map(|c| {
                    let (file, name) = c[4].split_once(' ').unwrap_or((c[4], ""));
                    vec![
                        text::md(c[0]),
                        text::md(c[1]),
                        text::md(c[2]),
                        text::md(c[3]),
                        format!("{} {name}", text::md(file)),
                    ]
                })
                .collect(),
        },
    ]
}
