//! DORA 2019 from mechanism (`scenarios/dora-2019-approval.toml`): senior approval of
//! every change against peer review, and four times the agents, on common seeds with
//! paired confidence intervals; plus the new scenario keys' located errors.

use std::path::Path;

use blastsim::engine::Seed;
use blastsim::metrics::{RunSummary, simulate_traced};
use blastsim::model::trace::{TraceEvent, TraceRecord};
use blastsim::scenario::{self, Scenario};

fn dora() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/dora-2019-approval.toml");
    scenario::load(&path).expect("the shipped DORA scenario loads")
}

/// One run's metrics plus what the trace alone tells: mean change size and mean review
/// working time.
struct Run {
    s: RunSummary,
    size_loc_mean: f64,
    review_h_mean: f64,
}

fn run(s: &Scenario, arm: &str, r: u64) -> Run {
    let a = s
        .arms
        .iter()
        .position(|x| x.name == arm)
        .expect("arm exists");
    let (mut size, mut changes, mut busy, mut reviews) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let out = simulate_traced(
        s.world(a, 0),
        Seed(s.seed).derive(r),
        |t: &TraceRecord| match t.event {
            TraceEvent::Proposed { size: loc, .. } => {
                size += loc as f64;
                changes += 1.0;
            }
            TraceEvent::ReviewFinished { busy_ms, .. } => {
                busy += busy_ms as f64 / 3_600_000.0;
                reviews += 1.0;
            }
            _ => {}
        },
    );
    Run {
        s: out.summary,
        size_loc_mean: size / changes.max(1.0),
        review_h_mean: busy / reviews.max(1.0),
    }
}

/// Mean and 95% half-width of the paired differences `b − a` (normal approximation,
/// t(9) would widen it by 15%: the assertions below hold with that margin).
fn paired(a: &[Run], b: &[Run], f: impl Fn(&Run) -> f64) -> (f64, f64, f64, f64) {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| f(y) - f(x)).collect();
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let ma = a.iter().map(&f).sum::<f64>() / n;
    let mb = b.iter().map(&f).sum::<f64>() / n;
    (ma, mb, mean, 2.262 * sd / n.sqrt())
}

#[test]
fn heavyweight_approval_does_what_dora_2019_found_and_adoption_what_dora_2024_found() {
    let s = dora();
    let reps = u64::from(s.replications);
    let arm = |name: &str| (0..reps).map(|r| run(&s, name, r)).collect::<Vec<_>>();
    let peer = arm("peer-review");
    let senior = arm("senior-approval");
    let adoption = arm("adoption-80");
    type Metric = (&'static str, fn(&Run) -> f64);
    let metrics: [Metric; 10] = [
        ("deploys_per_day", |r| r.s.deploys_per_day),
        ("good_deploys_per_day", |r| r.s.good_deploys_per_day),
        ("tasks_done_per_day", |r| r.s.tasks_done_per_day),
        ("lead_time_h_p50", |r| r.s.lead_time_h_p50),
        ("batch_size_p95", |r| r.s.batch_size_p95),
        ("change_failure_rate", |r| r.s.change_failure_rate),
        ("incidents_per_day", |r| r.s.incidents / 90.0),
        ("change_size_loc_mean", |r| r.size_loc_mean),
        ("review_h_mean", |r| r.review_h_mean),
        ("queue_unstable", |r| r.s.queue_unstable),
    ];
    let mut table = std::collections::BTreeMap::new();
    for (name, f) in metrics {
        let sv = paired(&peer, &senior, f);
        let av = paired(&peer, &adoption, f);
        eprintln!(
            "{name:<22} peer {:>9.3} | senior {:>9.3} (diff {:+.3} ± {:.3}) | adoption {:>9.3} (diff {:+.3} ± {:.3})",
            sv.0, sv.1, sv.2, sv.3, av.1, av.2, av.3
        );
        table.insert(name, (sv, av));
    }
    let lower = |m: &str, which: usize| {
        let d = if which == 0 { table[m].0 } else { table[m].1 };
        d.2 + d.3 < 0.0
    };
    let higher = |m: &str, which: usize| {
        let d = if which == 0 { table[m].0 } else { table[m].1 };
        d.2 - d.3 > 0.0
    };
    // DORA 2019: heavyweight approval → fewer deploys and tasks, longer lead time,
    // larger batches, and no lower change failure rate.
    assert!(lower("deploys_per_day", 0), "deploys/day not clearly lower");
    assert!(
        lower("tasks_done_per_day", 0),
        "tasks/day not clearly lower"
    );
    assert!(higher("lead_time_h_p50", 0), "lead time not clearly longer");
    assert!(higher("batch_size_p95", 0), "batches not larger");
    assert!(
        !lower("change_failure_rate", 0),
        "senior approval clearly lowered the change failure rate"
    );
    // DORA 2024/2025 and Faros AI: more agents → larger changes, longer reviews, more
    // throughput, more instability.
    assert!(higher("change_size_loc_mean", 1), "changes not larger");
    assert!(higher("review_h_mean", 1), "reviews not longer");
    assert!(higher("tasks_done_per_day", 1), "throughput not higher");
    assert!(higher("incidents_per_day", 1), "instability not higher");
}

#[test]
fn the_new_people_keys_give_located_errors() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/dora-2019-approval.toml"),
    )
    .unwrap();
    let cases = [
        (
            "from_authors = \"devs\"",
            "from_authors = \"dev\"",
            "unknown author group `dev` (did you mean `devs`?)",
        ),
        (
            "from_authors = \"devs\"",
            "from_authors = \"agents\"",
            "must name a human group",
        ),
        (
            "discipline = \"fifo\"",
            "discipline = \"lifo\"",
            "unknown queue discipline `lifo`",
        ),
        (
            "flow = { wip_limit = 2, batch_max = 5, patience = \"10d\"",
            "flow = { wip_limit = 0, batch_max = 5, patience = \"10d\"",
            "flow.wip_limit",
        ),
    ];
    for (from, to, want) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let err = scenario::parse(&text, Path::new("dora.toml"), |p: &Path| {
            std::fs::read_to_string(p)
        })
        .expect_err("the edit is invalid")
        .to_string();
        assert!(err.contains(want), "{err}");
        assert!(err.contains("dora.toml:"), "located: {err}");
    }
}

#[test]
fn the_flow_and_pipeline_keys_are_addressable_by_dotted_paths() {
    // The sensitivity ranges in the scenario comments are meant as `[sweep]`/`set` paths.
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/dora-2019-approval.toml"),
    )
    .unwrap();
    let text = base.replacen(
        "set = { \"authors.agents.count\" = 40 }",
        "set = { \"authors.devs.flow.wip_limit\" = 3, \"review.lines_per_hour\" = 200, \
         \"deployment.build\" = { fixed = \"1h\" } }",
        1,
    );
    let s = scenario::parse(&text, Path::new("dora.toml"), |p: &Path| {
        std::fs::read_to_string(p)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let a = s.arms.iter().position(|x| x.name == "adoption-80").unwrap();
    let w = s.world(a, 0);
    assert_eq!(w.authors[0].flow.wip_limit, Some(3));
    assert_eq!(w.reviewers.lines_per_hour, Some(200.0));
    assert_eq!(
        w.pipeline.build,
        Some(blastsim::model::dist::DurationDist::Fixed(
            blastsim::engine::SimDuration::from_hours(1)
        ))
    );
    assert_eq!(s.world(0, 0).authors[0].flow.wip_limit, Some(2));
}
