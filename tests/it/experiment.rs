//! Experiments at scale: thread-count independence, shards and merge, resume, statistics,
//! frontier and recommendation, refusal of foreign folders.
//!
//! The real model is not needed: `experiment::fixture` supplies a small hand-built
//! scenario and a synthetic simulator whose outputs vary with seed, arm and point, so the
//! byte-equality tests compare non-trivial files. The lead re-runs them with the model.

use std::fs;
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use blastsim::engine::Seed;
use blastsim::experiment::fixture::{demo_graph, demo_scenario, synthetic_simulate};
use blastsim::experiment::frontier::{self, ResolvedObjectives};
use blastsim::experiment::plan::{self, Shard};
use blastsim::experiment::run_all_with;
use blastsim::experiment::stats;
use blastsim::metrics::METRICS;
use blastsim::model::graph::{EdgeKind, ServiceGraphBuilder, ServiceId, ServiceSpec};
use blastsim::report::journal;
use blastsim::report::manifest::{ExperimentMeta, read_manifest};
use blastsim::report::tables;
use blastsim::scenario::{Bound, Constraint, Objectives, Scenario};
use rand::rngs::ChaCha8Rng;

use blastsim::pipeline::Silent;
use blastsim::pipeline::merge::merge_dirs;
use blastsim::pipeline::run::{RunOptions, RunOutcome, prepare, run_experiment, summary_table};

const TABLES: &[&str] = &[
    "runs.csv",
    "summary.csv",
    "incidents.csv",
    "timeline.csv",
    "graph_nodes.csv",
    "graph_edges.csv",
];

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blastsim-it-exp-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn opts(out: &Path, threads: usize, shard: Option<Shard>) -> RunOptions {
    RunOptions {
        shard,
        ..RunOptions::new(out, threads, "test")
    }
}

fn run(s: &Scenario, out: &Path, threads: usize, shard: Option<Shard>) -> RunOutcome {
    run_experiment(s, &opts(out, threads, shard), synthetic_simulate, &Silent).unwrap()
}

/// Asserts every final table is byte-identical in the two folders.
fn assert_same_tables(a: &Path, b: &Path) {
    for t in TABLES {
        let x = fs::read(a.join(t)).unwrap_or_else(|e| panic!("{}: {e}", a.join(t).display()));
        let y = fs::read(b.join(t)).unwrap_or_else(|e| panic!("{}: {e}", b.join(t).display()));
        assert!(
            x == y,
            "{t} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn lines(path: &Path) -> usize {
    fs::read_to_string(path).unwrap().lines().count()
}

#[test]
fn one_and_two_threads_write_identical_bytes() {
    let s = demo_scenario(3, 2, 8, 7);
    let base = scratch("threads");
    let (a, b) = (base.join("t1"), base.join("t2"));
    let oa = run(&s, &a, 1, None);
    run(&s, &b, 2, None);
    assert_same_tables(&a, &b);
    // Non-trivial content: 48 runs, incidents, 6 timelines of 14 days, 12 services.
    assert_eq!(oa.assembled.runs_done, 48);
    assert_eq!(lines(&a.join("runs.csv")), 49);
    assert_eq!(lines(&a.join("timeline.csv")), 1 + 6 * 14);
    assert!(lines(&a.join("incidents.csv")) > 10);
    assert_eq!(lines(&a.join("graph_nodes.csv")), 13);
    assert_eq!(lines(&a.join("summary.csv")), 1 + 6 * METRICS.len());
    let m = read_manifest(&a).unwrap();
    assert_eq!((m.runs_total, m.runs_done, m.threads), (48, 48, 1));
}

#[test]
fn runs_csv_header_and_row_format() {
    let s = demo_scenario(2, 1, 2, 3);
    let out = scratch("format");
    run(&s, &out, 1, None);
    let text = fs::read_to_string(out.join("runs.csv")).unwrap();
    let mut it = text.lines();
    let header: Vec<&str> = it.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..6],
        [
            "run_id",
            "arm",
            "point",
            "replication",
            "seed",
            "reviewers.senior.count"
        ]
    );
    assert_eq!(header[6], METRICS[0].name);
    assert_eq!(header[header.len() - 2..], ["stop_reason", "fingerprint"]);
    // Run 3 = arm 1, point 0, replication 1, with the seed of replication 1.
    let row: Vec<&str> = it.nth(3).unwrap().split(',').collect();
    assert_eq!(&row[..4], ["3", "arm-1", "0", "1"]);
    assert_eq!(row[4], plan::replication_seed(3, 1).0.to_string());
    assert_eq!(row[5], "4");
    assert_eq!(row[row.len() - 2], "horizon");
    assert_eq!(row[row.len() - 1].len(), 16);
    assert!(row[row.len() - 1].chars().all(|c| c.is_ascii_hexdigit()));
    // No wall-clock figure: a second run of the same command writes the same bytes.
    let again = scratch("format-again");
    run(&s, &again, 2, None);
    assert_same_tables(&out, &again);
}

#[test]
fn summary_rows_pair_against_the_baseline_only() {
    let s = demo_scenario(2, 2, 5, 11);
    let out = scratch("summary");
    let o = run(&s, &out, 2, None);
    let mut r = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 4 * METRICS.len());
    let mut recommended = 0;
    for row in &rows {
        let baseline = &row[col("arm")] == "arm-0";
        assert_eq!(row[col("paired_diff_mean")].is_empty(), baseline);
        assert_eq!(row[col("n")].parse::<usize>().unwrap(), 5);
        recommended += usize::from(&row[col("recommended")] == "true");
    }
    // One recommended setting, marked on each of its metric rows.
    assert_eq!(recommended, METRICS.len());
    assert!(o.assembled.choice.recommended.is_some());
    // Paired mean equals the difference of the means (same replications in both).
    let dpd = METRICS
        .iter()
        .position(|m| m.name == "deploys_per_day")
        .unwrap();
    let base = &o.assembled.settings[0].stats[dpd];
    let arm1 = &o.assembled.settings[2];
    let p = &arm1.paired.as_ref().unwrap()[dpd];
    assert!((p.mean - (arm1.stats[dpd].mean - base.mean)).abs() < 1e-9);
    // The synthetic arms share a large common component, so pairing must cut variance.
    assert!(
        p.variance_ratio.unwrap() < 0.2,
        "ratio {:?}",
        p.variance_ratio
    );
}

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let s = demo_scenario(3, 2, 7, 5);
    let base = scratch("shards");
    run(&s, &base.join("whole"), 2, None);
    let mut dirs = Vec::new();
    for i in 1..=3 {
        let d = base.join(format!("shard{i}"));
        let o = run(&s, &d, 1, Some(Shard { index: i, count: 3 }));
        assert_eq!(o.runs_total, 14);
        dirs.push(d);
    }
    let merged = base.join("merged");
    let a = merge_dirs(&dirs, &merged, "merge", false).unwrap();
    assert_eq!(a.runs_done, 42);
    assert_same_tables(&base.join("whole"), &merged);
    let m = read_manifest(&merged).unwrap();
    assert_eq!((m.runs_total, m.runs_done, m.shard.clone()), (42, 42, None));
    assert_eq!(m.merged_from.len(), 3);
    // The same through the command line, shards given in another order.
    use clap::Parser;
    let via_cli = base.join("via-cli");
    let args = ["blastsim", "merge", "--no-charts", "--out"];
    let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    argv.push(via_cli.display().to_string());
    for d in dirs.iter().rev() {
        argv.push(d.display().to_string());
    }
    let code = blastsim::cli::dispatch(blastsim::cli::Cli::parse_from(argv));
    assert_eq!(code, blastsim::cli::EXIT_OK);
    assert_same_tables(&base.join("whole"), &via_cli);
}

#[test]
fn the_printed_summary_names_every_setting_and_the_recommendation() {
    let s = demo_scenario(2, 2, 4, 8);
    let out = scratch("table");
    let o = run(&s, &out, 1, None);
    let text = summary_table(&o.meta, &o.assembled);
    let lines: Vec<&str> = text.lines().collect();
    // Header, 4 settings, legend, recommendation.
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[0].starts_with("arm") && lines[0].contains("deploys_per_day"));
    assert!(lines[0].contains("senior_review_h_per_week") && lines[0].contains("blocks_false"));
    let rec = o.assembled.choice.recommended.unwrap();
    let rec_line = lines[1 + rec];
    assert!(rec_line.contains(" *"), "{text}");
    assert!(lines[6].starts_with("recommendation: arm "), "{text}");
    assert!(lines[1].contains('±'));

    // With a constraint no setting meets, the table says there is no recommendation.
    let mut strict = s.clone();
    strict.hash = "strict".into();
    strict.objectives.constraints.push(Constraint {
        metric: "deploys_per_day".into(),
        at_most: false,
        bound: Bound::Value(1e9),
    });
    let o = run(&strict, &scratch("table-strict"), 1, None);
    assert_eq!(o.assembled.choice.recommended, None);
    let text = summary_table(&o.meta, &o.assembled);
    assert!(text.ends_with("recommendation: none: no setting meets every constraint\n"));
}

#[test]
fn merge_refuses_missing_overlapping_and_foreign_shards() {
    let s = demo_scenario(2, 1, 3, 5);
    let base = scratch("merge-refuse");
    let shard = |i| Some(Shard { index: i, count: 2 });
    let (d1, d2) = (base.join("s1"), base.join("s2"));
    run(&s, &d1, 1, shard(1));
    run(&s, &d2, 1, shard(2));

    let err = merge_dirs(std::slice::from_ref(&d1), &base.join("m1"), "m", false).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("lack 3 of 6 runs: run ids 1, 3, 5"), "{msg}");

    let err = merge_dirs(&[d1.clone(), d1.clone()], &base.join("m2"), "m", false).unwrap_err();
    assert!(format!("{err:#}").contains("run 0 is in both"), "{err:#}");

    let mut other = s.clone();
    other.seed = 6;
    let d3 = base.join("other");
    run(&other, &d3, 1, shard(2));
    let err = merge_dirs(&[d1, d3], &base.join("m3"), "m", false).unwrap_err();
    assert!(format!("{err:#}").contains("another experiment"), "{err:#}");

    let err = merge_dirs(&[base.join("nothing")], &base.join("m4"), "m", false).unwrap_err();
    assert!(
        format!("{err:#}").contains("not a blastsim results folder"),
        "{err:#}"
    );
}

#[test]
fn resume_after_an_abort_at_a_random_point_equals_the_uninterrupted_run() {
    let s = demo_scenario(2, 3, 6, 9);
    let total = plan::run_count(&s) as usize;
    let base = scratch("resume");
    let whole = base.join("whole");
    run(&s, &whole, 2, None);

    // BLASTSIM_SEED picks another interruption point; the default is fixed.
    let seed = std::env::var("BLASTSIM_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(42);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for trial in 0..3 {
        let k = rng.random_range(1..total);
        let out = base.join(format!("cut{trial}"));
        // An interrupted run: the journal callback fails after k runs, like a kill.
        let key = plan::experiment_key(&s);
        let meta = ExperimentMeta::from_scenario(&s, &key);
        let jdir = prepare(&s, &out, &meta).unwrap();
        let count = std::sync::atomic::AtomicUsize::new(0);
        let all = plan::runs(&s, None);
        let r = run_all_with(&s, &all, 2, synthetic_simulate, |spec, o| {
            if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= k {
                anyhow::bail!("killed");
            }
            journal::write_record(
                &jdir,
                &tables::run_record(&key, &s, spec, o, tables::IncidentsKept::All),
            )
        });
        assert!(r.is_err(), "seed={seed} k={k}: the abort must surface");
        let journaled = journal::done(&jdir).unwrap().len();
        assert_eq!(
            journaled, k,
            "seed={seed}: exactly the runs before the kill are kept"
        );
        // A killed writer's leftovers.
        fs::write(out.join(".tmp-runs.csv-99999"), "torn").unwrap();
        fs::write(jdir.join(".tmp-run-000000001.csv-99999"), "K,torn").unwrap();

        let o = run(&s, &out, 2, None);
        assert_eq!(o.runs_new as usize, total - k, "seed={seed} k={k}");
        assert_same_tables(&whole, &out);
        assert!(!out.join(".tmp-runs.csv-99999").exists());
        assert!(!jdir.join(".tmp-run-000000001.csv-99999").exists());
    }
}

#[test]
fn resume_after_losing_journal_entries_and_final_files_equals_the_uninterrupted_run() {
    let s = demo_scenario(2, 2, 5, 13);
    let base = scratch("resume-lost");
    let (whole, out) = (base.join("whole"), base.join("out"));
    run(&s, &whole, 1, None);
    run(&s, &out, 2, None);
    let jdir = journal::journal_dir(&out);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut removed = 0;
    for path in journal::done(&jdir).unwrap().values() {
        if rng.random_bool(0.4) {
            fs::remove_file(path).unwrap();
            removed += 1;
        }
    }
    for t in TABLES {
        fs::remove_file(out.join(t)).unwrap();
    }
    assert!(removed > 0);
    let o = run(&s, &out, 2, None);
    assert_eq!(o.runs_new, removed);
    assert_same_tables(&whole, &out);
    // Rerunning a finished folder simulates nothing and rewrites the same bytes.
    let o = run(&s, &out, 2, None);
    assert_eq!(o.runs_new, 0);
    assert_same_tables(&whole, &out);
}

#[test]
fn a_folder_of_another_experiment_is_refused() {
    let s = demo_scenario(2, 1, 3, 1);
    let out = scratch("refuse");
    run(&s, &out, 1, None);
    let mut changed = s.clone();
    changed.hash = "edited".to_string();
    let err =
        run_experiment(&changed, &opts(&out, 1, None), synthetic_simulate, &Silent).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("another experiment (scenario hash demo-2-1"),
        "{msg}"
    );
    assert!(
        msg.contains("another --out") && msg.contains("delete the folder"),
        "{msg}"
    );

    // The same scenario (same hash) under another seed.
    let mut reseeded = s.clone();
    reseeded.seed = 2;
    let err =
        run_experiment(&reseeded, &opts(&out, 1, None), synthetic_simulate, &Silent).unwrap_err();
    assert!(format!("{err:#}").contains("another seed"), "{err:#}");
    // Nothing was overwritten: the folder still holds the first experiment.
    assert_eq!(read_manifest(&out).unwrap().meta.seed, 1);
}

#[test]
fn run_ids_seeds_and_shards() {
    let s = demo_scenario(3, 4, 5, 99);
    assert_eq!(plan::run_count(&s), 60);
    let spec = plan::run_spec(&s, 37).unwrap();
    // 37 = ((1 * 4) + 3) * 5 + 2.
    assert_eq!((spec.arm, spec.point, spec.replication), (1, 3, 2));
    assert!(plan::run_spec(&s, 60).is_none());
    // Common random numbers: replication r has one seed in every arm and point.
    let all = plan::runs(&s, None);
    for r in &all {
        assert_eq!(r.seed, Seed(99).derive(u64::from(r.replication)));
    }
    assert_ne!(all[0].seed, all[1].seed);
    // Shards partition the run ids.
    let mut seen = vec![0; 60];
    for i in 1..=4u32 {
        for r in plan::runs(&s, Some(Shard::parse(&format!("{i}/4")).unwrap())) {
            assert_eq!(r.run_id % 4, u64::from(i - 1));
            seen[r.run_id as usize] += 1;
        }
    }
    assert!(seen.iter().all(|&c| c == 1));
}

#[test]
fn shard_parse_errors_are_clear() {
    assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
    for (text, reason) in [
        ("3", "expected I/N"),
        ("0/3", "between 1 and N"),
        ("4/3", "between 1 and N"),
        ("a/3", "I must be a whole number"),
        ("1/x", "N must be a whole number"),
        ("1/0", "at least 1"),
    ] {
        let e = Shard::parse(text).unwrap_err().to_string();
        assert!(e.starts_with(&format!("invalid shard '{text}'")), "{e}");
        assert!(e.contains(reason), "{e}");
    }
    // Through the command line: a usage error, exit 2, before any scenario is read.
    use clap::Parser;
    let cli = blastsim::cli::Cli::parse_from(["blastsim", "run", "x.toml", "--shard", "0/2"]);
    assert_eq!(blastsim::cli::dispatch(cli), blastsim::cli::EXIT_BAD_INPUT);
}

#[test]
fn describe_matches_hand_computed_numbers() {
    let d = stats::describe(&[4.0, 1.0, 3.0, 2.0]);
    assert_eq!(d.n, 4);
    assert_eq!(d.mean, 2.5);
    // sd = sqrt(5/3); t(0.975, 3) = 3.182446; half width = t * sd / 2.
    assert!((d.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
    let half = 3.182_446 * (5.0f64 / 3.0).sqrt() / 2.0;
    assert!((d.ci95_low - (2.5 - half)).abs() < 1e-5, "{d:?}");
    assert!((d.ci95_high - (2.5 + half)).abs() < 1e-5, "{d:?}");
    // Type-7 quantiles: p50 between 2 and 3; p95 at h = 2.85 -> 3 + 0.85.
    assert_eq!(d.p50, 2.5);
    assert!((d.p95 - 3.85).abs() < 1e-12);
    assert_eq!(d.max, 4.0);
    // n = 1: no spread to estimate; the interval is the value itself.
    let one = stats::describe(&[7.0]);
    assert_eq!(
        (one.sd, one.ci95_low, one.ci95_high, one.p95),
        (0.0, 7.0, 7.0, 7.0)
    );
    let none = stats::describe(&[]);
    assert_eq!((none.n, none.mean, none.sd), (0, 0.0, 0.0));
    // t quantile with many degrees of freedom tends to the normal 1.96.
    assert!((stats::t_975(10_000) - 1.960).abs() < 1e-3);
    assert!((stats::t_975(29) - 2.0452).abs() < 1e-4);
}

#[test]
fn paired_uses_only_replications_present_in_both() {
    let arm = [Some(5.0), None, Some(9.0), Some(4.0)];
    let base = [Some(3.0), Some(1.0), None, Some(1.0)];
    let p = stats::paired(&arm, &base);
    // Pairs: (5,3) and (4,1): diffs 2 and 3.
    assert_eq!(p.n, 2);
    assert_eq!(p.mean, 2.5);
    // Var(d) = 0.5; Var(arm) = 0.5, Var(base) = 2: ratio 0.2.
    assert!((p.variance_ratio.unwrap() - 0.2).abs() < 1e-12);
    // No spread at all: the ratio is undefined, reported as None (an empty cell).
    let flat = stats::paired(&[Some(1.0), Some(1.0)], &[Some(1.0), Some(1.0)]);
    assert_eq!((flat.mean, flat.variance_ratio), (0.0, None));
}

/// Coverage of the paired 95% interval on synthetic pairs with a known difference.
///
/// x_base = s + e1, x_arm = s + delta + e2 with a shared s ~ N(0, 3²) (the common random
/// numbers) and independent e ~ N(0, 1). Over 2000 trials of 10 pairs the share of
/// intervals holding delta is binomial around 0.95 with sd 0.0049: the tolerance ±1.5 pp
/// is about 3 sd. The variance ratio should average σe² / (σs² + σe²) = 1/10.
#[test]
fn paired_ci_coverage_is_near_95_percent() {
    let delta = 0.7;
    let shared = Normal::new(0.0, 3.0).unwrap();
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let trials = 2000;
    let mut covered = 0;
    let mut ratio_sum = 0.0;
    for _ in 0..trials {
        let mut arm = Vec::new();
        let mut base = Vec::new();
        for _ in 0..10 {
            let s = shared.sample(&mut rng);
            base.push(Some(s + noise.sample(&mut rng)));
            arm.push(Some(s + delta + noise.sample(&mut rng)));
        }
        let p = stats::paired(&arm, &base);
        covered += usize::from(p.ci95_low <= delta && delta <= p.ci95_high);
        ratio_sum += p.variance_ratio.unwrap();
    }
    let coverage = covered as f64 / f64::from(trials);
    assert!((coverage - 0.95).abs() <= 0.015, "coverage {coverage}");
    let ratio = ratio_sum / f64::from(trials);
    // A ratio of sample variances is biased upwards a little at n = 10; ±0.03 holds it.
    assert!((ratio - 0.1).abs() < 0.03, "mean variance ratio {ratio}");
}

#[test]
fn frontier_and_recommendation_on_a_hand_built_summary() {
    // (velocity, risk, senior hours) per setting.
    let settings = [
        (10.0, 5.0, 30.0), // 0: on the frontier, too many senior hours
        (8.0, 2.0, 10.0),  // 1: on the frontier, feasible
        (6.0, 6.0, 5.0),   // 2: dominated by 0 and 1
        (10.0, 5.0, 30.0), // 3: equal to 0: equal settings do not dominate each other
        (4.0, 1.0, 2.0),   // 4: on the frontier (lowest risk), feasible
        (8.0, 3.0, 10.0),  // 5: dominated by 1 (same velocity, more risk)
    ];
    let v = METRICS
        .iter()
        .position(|m| m.name == "deploys_per_day")
        .unwrap();
    let r = METRICS
        .iter()
        .position(|m| m.name == "user_impact_min_total")
        .unwrap();
    let h = METRICS
        .iter()
        .position(|m| m.name == "senior_review_h_per_week")
        .unwrap();
    // Exact values (no spread), one arm per setting: no two settings tie unless equal.
    let decided: Vec<frontier::Setting> = settings
        .iter()
        .enumerate()
        .map(|(i, &(a, b, c))| {
            let mut m = vec![
                frontier::Estimate {
                    value: frontier::Interval::exact(0.0),
                    diff: None,
                };
                METRICS.len()
            ];
            m[v].value = frontier::Interval::exact(a);
            m[r].value = frontier::Interval::exact(b);
            m[h].value = frontier::Interval::exact(c);
            frontier::Setting {
                arm: i,
                point: 0,
                metrics: m,
                flagged: false,
            }
        })
        .collect();
    let arms: Vec<String> = (0..settings.len()).map(|i| format!("arm{i}")).collect();
    let objectives = |constraints: Vec<Constraint>| {
        let mut o = Objectives::new("deploys_per_day", "user_impact_min_total");
        o.constraints = constraints;
        frontier::resolve(&o, &arms).unwrap()
    };
    let senior_at_most = |value| Constraint {
        metric: "senior_review_h_per_week".into(),
        at_most: true,
        bound: Bound::Value(value),
    };
    let c = frontier::decide(&decided, &objectives(vec![senior_at_most(20.0)]));
    assert_eq!(c.on_frontier, [true, true, false, true, true, false]);
    // 1 and 5 tie on velocity (8.0 exactly); the safer (1) wins.
    assert_eq!(c.recommended, Some(1));
    assert_eq!(c.ties, [1, 5]);
    // Without constraints the earliest of the fastest (equal) settings wins.
    assert_eq!(
        frontier::decide(&decided, &objectives(vec![])).recommended,
        Some(0)
    );
    // A lower bound on velocity plus a tight senior budget: nothing qualifies.
    let none = objectives(vec![
        senior_at_most(3.0),
        Constraint {
            metric: "deploys_per_day".into(),
            at_most: false,
            bound: Bound::Value(5.0),
        },
    ]);
    let c = frontier::decide(&decided, &none);
    assert_eq!(c.recommended, None);
    assert!(c.ties.is_empty());
    let e =
        frontier::resolve(&Objectives::new("speed", "user_impact_min_total"), &arms).unwrap_err();
    assert!(
        e.to_string().contains("unknown metric 'speed'")
            && e.to_string().contains("deploys_per_day")
    );
    let _: ResolvedObjectives = objectives(vec![]);
}

#[test]
fn depth_is_the_longest_dependency_chain_and_survives_cycles() {
    let g = demo_graph(5);
    assert_eq!(tables::depths(&g), [4, 3, 2, 1, 0]);
    // a -> b -> c -> a (a cycle) and b -> d.
    let mut b = ServiceGraphBuilder::new();
    for n in ["a", "b", "c", "d"] {
        b.add_service(ServiceSpec {
            name: n.into(),
            weight: 1.0,
            tier: 0,
            cells: 1,
        });
    }
    let e = |b: &mut ServiceGraphBuilder, x, y| {
        b.add_edge(ServiceId(x), ServiceId(y), EdgeKind::Hard, false)
    };
    e(&mut b, 0, 1);
    e(&mut b, 1, 2);
    e(&mut b, 2, 0);
    e(&mut b, 1, 3);
    // From a: the back edge c -> a is dropped, so c = 0, d = 0, b = 1, a = 2.
    assert_eq!(tables::depths(&b.build()), [2, 1, 0, 0]);
}

#[test]
fn journal_records_round_trip() {
    let s = demo_scenario(2, 2, 3, 4);
    let dir = scratch("journal");
    let spec = plan::run_spec(&s, 6).unwrap();
    let out = synthetic_simulate(s.world(spec.arm, spec.point), spec.seed);
    let rec = tables::run_record("k", &s, &spec, &out, tables::IncidentsKept::All);
    journal::write_record(&dir, &rec).unwrap();
    let back = journal::read_record(&journal::record_path(&dir, 6)).unwrap();
    assert_eq!(back, rec);
    // Metric values read back bit-for-bit.
    let values: Vec<f64> = back.run_row[6..6 + METRICS.len()]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(values, out.summary.values());
    // A truncated record is rejected, not trusted.
    let p = journal::record_path(&dir, 7);
    fs::write(&p, "K,k,7,0,0,1\nR,7\n").unwrap();
    assert!(format!("{:#}", journal::read_record(&p).unwrap_err()).contains("incomplete"));
}

/// A real `kill -9`: this test re-runs itself as a child process that sweeps into a
/// folder, kills it once a random number of runs are journaled, checks that nothing on
/// disk is torn, resumes in this process and compares with an uninterrupted run.
#[test]
fn kill_9_mid_sweep_then_resume_equals_the_uninterrupted_run() {
    const CHILD: &str = "BLASTSIM_IT_KILL_CHILD_OUT";
    let s = demo_scenario(3, 2, 24, 21);
    // A few milliseconds of busy work per run, so the sweep takes long enough to kill.
    let sim = |w: &blastsim::model::config::WorldConfig, seed| {
        blastsim::experiment::fixture::synthetic_simulate_with_work(w, seed, 600_000)
    };
    if let Ok(out) = std::env::var(CHILD) {
        run_experiment(&s, &opts(Path::new(&out), 1, None), sim, &Silent).unwrap();
        return;
    }
    let base = scratch("kill9");
    let (whole, out) = (base.join("whole"), base.join("out"));
    run_experiment(&s, &opts(&whole, 2, None), sim, &Silent).unwrap();

    let total = plan::run_count(&s) as usize;
    let k = ChaCha8Rng::seed_from_u64(5).random_range(3..total / 4);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "experiment::kill_9_mid_sweep_then_resume_equals_the_uninterrupted_run",
        ])
        .env(CHILD, &out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let jdir = journal::journal_dir(&out);
    let started = std::time::Instant::now();
    loop {
        let n = journal::done(&jdir).map(|d| d.len()).unwrap_or(0);
        if n >= k || started.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL on Unix.
    child.wait().unwrap();
    let done = journal::done(&jdir).unwrap();
    assert!(
        done.len() >= k && done.len() < total,
        "killed after {} of {total} runs",
        done.len()
    );
    // Every journaled run is whole; no final table exists yet (the sweep never finished).
    for path in done.values() {
        journal::read_record(path).unwrap();
    }
    assert!(!out.join("runs.csv").exists());

    let o = run_experiment(&s, &opts(&out, 2, None), sim, &Silent).unwrap();
    assert_eq!(o.runs_new as usize, total - done.len());
    assert_same_tables(&whole, &out);
}

/// `--threads N` really runs N runs at once: runs that sleep (so CPU contention on a busy
/// machine cannot serialise them) count how many are in flight together; with 2 threads
/// two overlap, with 1 never more than one, and the rows still come back in run-id order.
/// Nothing is timed: the test reads the overlap, not the wall clock.
#[test]
fn two_threads_run_concurrently_and_keep_run_id_order() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let s = demo_scenario(1, 1, 16, 3);
    let runs = plan::runs(&s, None);
    for threads in [1, 2] {
        let active = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let sleepy = |w: &blastsim::model::config::WorldConfig, seed| {
            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(15));
            active.fetch_sub(1, Ordering::SeqCst);
            synthetic_simulate(w, seed)
        };
        let rows = run_all_with(&s, &runs, threads, sleepy, |_, _| Ok(())).unwrap();
        assert_eq!(
            most.load(Ordering::SeqCst),
            threads,
            "runs in flight at once"
        );
        let ids: Vec<u64> = rows.iter().map(|r| r.spec.run_id).collect();
        assert_eq!(ids, (0..16).collect::<Vec<_>>());
    }
}

/// `blastsim ARGS...` from the crate root: (exit code, stderr).
fn blastsim(args: &[&str]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `blastsim run scenarios/smoke.toml --quiet --no-charts --out OUT EXTRA...`.
fn run_smoke(out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = out.display().to_string();
    let mut args = vec![
        "run",
        "scenarios/smoke.toml",
        "--quiet",
        "--no-charts",
        "--out",
        &out,
    ];
    args.extend_from_slice(extra);
    blastsim(&args)
}

/// The journal file of run `id` in results folder `out`.
fn record(out: &Path, id: u64) -> PathBuf {
    journal::record_path(&journal::journal_dir(out), id)
}

/// Each way of damaging a journal record (copied under another run's name, a value
/// changed, an incident line deleted, a record of another experiment) is refused with exit
/// 2, the file named and the way out said; `--discard-damaged` then reruns the damaged run
/// and the folder ends byte-identical to an untouched one.
#[test]
fn damaged_journal_records_are_refused_and_discard_damaged_recovers() {
    let base = scratch("damaged");
    let pristine = base.join("pristine");
    assert_eq!(run_smoke(&pristine, &[]).0, Some(0));
    let foreign = base.join("foreign");
    assert_eq!(run_smoke(&foreign, &["--seed", "99"]).0, Some(0));
    let runs = journal::done(&journal::journal_dir(&pristine))
        .unwrap()
        .len() as u64;
    assert!(runs >= 2, "smoke has {runs} runs");
    // A run with at least one incident, for the deleted-line case.
    let with_incident = (0..runs)
        .find(|&id| {
            fs::read_to_string(record(&pristine, id))
                .unwrap()
                .lines()
                .any(|l| l.starts_with("I,"))
        })
        .expect("some smoke run has an incident");

    type Tamper = Box<dyn Fn(&Path) -> PathBuf>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "copied",
            Box::new(|out: &Path| {
                fs::copy(record(out, 0), record(out, 1)).unwrap();
                record(out, 1)
            }),
            "under the file name of run 1",
        ),
        (
            "edited",
            Box::new(|out: &Path| {
                let p = record(out, 0);
                let text = fs::read_to_string(&p).unwrap();
                let r = text.find("\nR,").unwrap() + 3;
                // The first field of the runs row is the run id; change the arm name instead.
                let comma = r + text[r..].find(',').unwrap() + 1;
                let mut bytes = text.into_bytes();
                bytes[comma] = if bytes[comma] == b'x' { b'y' } else { b'x' };
                fs::write(&p, bytes).unwrap();
                p
            }),
            "checksum does not match",
        ),
        (
            "incident-deleted",
            Box::new(move |out: &Path| {
                let p = record(out, with_incident);
                let text = fs::read_to_string(&p).unwrap();
                let kept: Vec<&str> = {
                    let mut dropped = false;
                    text.lines()
                        .filter(|l| {
                            let drop = !dropped && l.starts_with("I,");
                            dropped |= drop;
                            !drop
                        })
                        .collect()
                };
                fs::write(&p, kept.join("\n") + "\n").unwrap();
                p
            }),
            "checksum does not match",
        ),
        (
            "foreign-record",
            Box::new(|out: &Path| {
                let theirs = record(&base_foreign(out), 2);
                fs::copy(theirs, record(out, 2)).unwrap();
                record(out, 2)
            }),
            "another experiment",
        ),
    ];
    for (name, tamper, why) in &cases {
        let out = base.join(name);
        assert_eq!(run_smoke(&out, &[]).0, Some(0), "{name}");
        let file = tamper(&out);
        let (code, err) = run_smoke(&out, &[]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(&file.display().to_string()), "{name}: {err}");
        assert!(err.contains(why), "{name}: {err}");
        assert!(err.contains("--discard-damaged"), "{name}: {err}");
        // Nothing was resumed from the damaged record: the tables are still the good ones.
        assert_same_tables(&pristine, &out);
        let (code, err) = run_smoke(&out, &["--discard-damaged"]);
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(
            err.contains("discarded 1 damaged journal record and simulated its run again"),
            "{name}: {err}"
        );
        assert_same_tables(&pristine, &out);
        // And the folder is whole again: a plain rerun is accepted.
        assert_eq!(run_smoke(&out, &[]).0, Some(0), "{name}");
    }
}

/// The folder the `foreign` case of the damaged-journal test copies from (a sibling).
fn base_foreign(out: &Path) -> PathBuf {
    out.parent().unwrap().join("foreign")
}

/// A second process on a folder that one holds exits 2 at once, saying so; the lock is an
/// OS lock, so it goes with its holder and never outlives a process.
#[test]
fn a_second_process_on_a_locked_folder_exits_2_at_once() {
    let s = demo_scenario(2, 1, 3, 1);
    let out = scratch("locked");
    let held = journal::lock(&out).unwrap();
    let (code, err) = run_smoke(&out, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("in use by another blastsim process") && err.contains("another --out"),
        "{err}"
    );
    // In the same process too (a second lock of the same file).
    let e = run_experiment(&s, &opts(&out, 1, None), synthetic_simulate, &Silent).unwrap_err();
    assert!(format!("{e:#}").contains("in use by another"), "{e:#}");
    drop(held);
    run(&s, &out, 1, None);
    // `merge` takes the lock of its output folder.
    let merged = scratch("locked-merge");
    let held = journal::lock(&merged).unwrap();
    let e = merge_dirs(std::slice::from_ref(&out), &merged, "m", false).unwrap_err();
    assert!(format!("{e:#}").contains("in use by another"), "{e:#}");
    drop(held);
    merge_dirs(std::slice::from_ref(&out), &merged, "m", false).unwrap();
    assert_same_tables(&out, &merged);
}

/// A lock released a moment after it is asked for is taken, not refused. The case it is
/// for: a process that spawns a child while the lock file is open copies the descriptor
/// into the child until the child's exec closes it, so a lock just released can read as
/// held for a few milliseconds (on this 2-core machine, 2,235 of 20,000 lock-and-release
/// cycles failed so while a second thread spawned `true` in a loop; CI once failed the
/// lost-journal resume test that way). Here a second descriptor in this process holds
/// the lock and lets go of it after 100 ms, well inside the patience and far beyond the
/// time a single try takes.
#[test]
fn a_lock_released_within_its_patience_is_taken() {
    let out = scratch("lock-patience");
    let held = journal::lock(&out).unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
    });
    let again = journal::lock(&out);
    releaser.join().unwrap();
    assert!(again.is_ok(), "{:#}", again.unwrap_err());
}

/// A journal left by another build of the model is refused with the reason and the way
/// out, whether its build is recorded (`build.json`) or predates the record.
#[test]
fn a_journal_of_an_older_model_is_refused() {
    let s = demo_scenario(2, 1, 3, 1);
    for keep_build_file in [true, false] {
        let out = scratch(&format!("old-model-{keep_build_file}"));
        run(&s, &out, 1, None);
        let jdir = journal::journal_dir(&out);
        // What an older build leaves: another experiment key (the key covers the build)…
        let meta = fs::read_to_string(jdir.join("meta.json")).unwrap();
        let key = plan::experiment_key(&s);
        fs::write(
            jdir.join("meta.json"),
            meta.replace(&key, "00000000000000aa"),
        )
        .unwrap();
        // …and another model version, or no build file at all.
        let build = jdir.join("build.json");
        if keep_build_file {
            let text = fs::read_to_string(&build).unwrap();
            let now = format!("\"model_version\": {}", plan::MODEL_VERSION);
            assert!(text.contains(&now), "{text}");
            let old = format!("\"model_version\": {}", plan::MODEL_VERSION - 1);
            fs::write(&build, text.replace(&now, &old)).unwrap();
        } else {
            fs::remove_file(&build).unwrap();
        }
        let e = run_experiment(&s, &opts(&out, 1, None), synthetic_simulate, &Silent).unwrap_err();
        let msg = format!("{e:#}");
        let why = if keep_build_file {
            format!("(model version {})", plan::MODEL_VERSION - 1)
        } else {
            "written by a build older than".to_string()
        };
        assert!(msg.contains(&why), "{msg}");
        assert!(
            msg.contains("another --out") && msg.contains("delete the folder"),
            "{msg}"
        );
    }
}

/// A shard with no runs is an error that says how many runs there are, in the library and
/// as exit 2 on the command line; nothing is written.
#[test]
fn an_empty_shard_is_refused() {
    let s = demo_scenario(2, 1, 3, 1);
    let out = scratch("empty-shard").join("out");
    let shard = Shard::parse("8/10").unwrap();
    let e =
        run_experiment(&s, &opts(&out, 1, Some(shard)), synthetic_simulate, &Silent).unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("shard 8/10 holds no runs: the experiment has 6 runs")
            && msg.contains("use at most 6 shards"),
        "{msg}"
    );
    assert!(!out.exists());
    let (code, err) = run_smoke(&out, &["--shard", "10/10"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("shard 10/10 holds no runs"), "{err}");
    // The last non-empty shard still runs.
    let last = Shard::parse("6/10").unwrap();
    assert_eq!(run(&s, &out, 1, Some(last)).runs_total, 1);
}

/// `--threads` means the same in `run` and `chaos`: absent is one per core, 0 and more
/// than the limit are refused (exit 2) with the same message.
#[test]
fn threads_zero_and_above_the_limit_are_refused_by_run_and_chaos() {
    use blastsim::pipeline::{THREADS_MAX, worker_threads};
    assert_eq!(worker_threads(None).unwrap(), 0);
    assert_eq!(worker_threads(Some(3)).unwrap(), 3);
    assert_eq!(worker_threads(Some(THREADS_MAX)).unwrap(), THREADS_MAX);
    let out = scratch("threads-refused");
    let o = out.display().to_string();
    let too_many = (THREADS_MAX + 1).to_string();
    for threads in ["0", too_many.as_str()] {
        let expected = format!("--threads {threads}: must be between 1 and {THREADS_MAX}");
        let (code, err) = run_smoke(&out.join("run"), &["--threads", threads]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&expected), "{err}");
        let (code, err) = blastsim(&[
            "chaos",
            "scenarios/chaos-policies.toml",
            "--quiet",
            "--out",
            &o,
            "--threads",
            threads,
        ]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&expected), "{err}");
    }
}

#[test]
fn ordered_hands_results_over_in_index_order_and_stops_at_the_first_error() {
    use blastsim::experiment::ordered;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Later items finish first (less work), so the reorder buffer has to hold them back.
    for threads in [1, 2, 3] {
        let mut seen = Vec::new();
        ordered(
            40,
            threads,
            |i| {
                let spin = (40 - i) * 2000;
                Ok((0..spin).fold(i as u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64)))
                    .map(|_| i * 10)
            },
            |i, v| {
                assert_eq!(v, i * 10, "result {i} belongs to index {i}");
                seen.push(i);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..40).collect::<Vec<_>>(), "threads={threads}");
    }
    // An error in `work` surfaces, and items after it are never handed over.
    let started = AtomicUsize::new(0);
    let mut handed = Vec::new();
    let r = ordered(
        1000,
        2,
        |i| {
            started.fetch_add(1, Ordering::SeqCst);
            if i == 5 {
                anyhow::bail!("item 5 fails")
            }
            // Items after the failing one take a while, so the other worker cannot run
            // through all 1000 while the one failing item 5 is descheduled on a busy
            // machine (CI once saw that with instant items).
            if i > 5 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Ok(i)
        },
        |i, _| {
            handed.push(i);
            Ok(())
        },
    );
    assert_eq!(r.unwrap_err().to_string(), "item 5 fails");
    assert!(
        handed.iter().all(|&i| i < 5),
        "nothing past the failure: {handed:?}"
    );
    assert!(
        started.load(Ordering::SeqCst) < 1000,
        "no new item starts after the failure"
    );
    // An error in `ready` stops it too.
    let r = ordered(100, 2, Ok, |i, _| {
        if i == 3 {
            anyhow::bail!("ready fails at 3")
        }
        Ok(())
    });
    assert_eq!(r.unwrap_err().to_string(), "ready fails at 3");
}

/// `--incidents` changes `incidents.csv` (and the journal) and nothing else: every summary
/// number, every chart and the report are byte-identical under `all`, `first:1` and `none`,
/// because they come from per-run summaries, not from `incidents.csv`.
#[test]
fn the_incidents_option_changes_only_incidents_csv() {
    use blastsim::report::tables::IncidentsKept;
    let s = blastsim::scenario::load(Path::new("scenarios/smoke.toml")).unwrap();
    let folder = |kept: IncidentsKept, name: &str| {
        let out = scratch(name);
        let o = RunOptions {
            charts: true,
            incidents: kept,
            ..opts(&out, 2, None)
        };
        run_experiment(&s, &o, blastsim::metrics::simulate, &Silent).unwrap();
        out
    };
    let all = folder(IncidentsKept::All, "inc-all");
    let first = folder(IncidentsKept::First(1), "inc-first1");
    let none = folder(IncidentsKept::None, "inc-none");
    let lines = |d: &Path| {
        fs::read_to_string(d.join("incidents.csv"))
            .unwrap()
            .lines()
            .count()
    };
    assert!(
        lines(&all) > lines(&first),
        "first:1 keeps fewer incidents than all"
    );
    assert!(lines(&first) > 1, "first:1 keeps replication 0's incidents");
    assert_eq!(lines(&none), 1, "none keeps the header only");
    // Replication 0's rows are the same under first:1 as under all.
    let rep0: Vec<String> = fs::read_to_string(all.join("incidents.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.split(',').nth(3) == Some("0"))
        .map(str::to_string)
        .collect();
    let kept: Vec<String> = fs::read_to_string(first.join("incidents.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(rep0, kept);
    let mut names: Vec<String> = fs::read_dir(&all)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "incidents.csv" && n != "manifest.json" && !n.starts_with('.'))
        .collect();
    names.sort();
    for must in [
        "summary.csv",
        "tail.csv",
        "impact_over_time.csv",
        "worst_incident.csv",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "{must} is written: {names:?}"
        );
    }
    assert!(
        names.iter().any(|n| n.ends_with(".png")),
        "charts drawn: {names:?}"
    );
    for other in [&first, &none] {
        for n in &names {
            let (a, b) = (
                fs::read(all.join(n)).unwrap(),
                fs::read(other.join(n)).unwrap(),
            );
            if n == "report.md" || n == "report.html" {
                // The report names its own folder.
                let fix = |bytes: Vec<u8>, d: &Path| {
                    String::from_utf8(bytes)
                        .unwrap()
                        .replace(&d.display().to_string(), "OUT")
                };
                assert_eq!(
                    fix(a, &all),
                    fix(b, other),
                    "{n} differs in {}",
                    other.display()
                );
            } else {
                assert!(a == b, "{n} differs in {}", other.display());
            }
        }
    }
    // The option is recorded, and a resume with another one is refused, not mixed.
    let m = blastsim::report::manifest::read_manifest(&first).unwrap();
    assert_eq!(m.meta.incidents, IncidentsKept::First(1));
    let o = RunOptions {
        incidents: IncidentsKept::All,
        ..opts(&first, 1, None)
    };
    let e = run_experiment(&s, &o, blastsim::metrics::simulate, &Silent).unwrap_err();
    assert!(format!("{e:#}").contains("another experiment"), "{e:#}");
    // `merge` of a first:1 folder keeps first:1.
    let merged = scratch("inc-merged");
    merge_dirs(std::slice::from_ref(&first), &merged, "m", false).unwrap();
    assert!(
        fs::read(merged.join("incidents.csv")).unwrap()
            == fs::read(first.join("incidents.csv")).unwrap()
    );
    assert!(fs::read(merged.join("tail.csv")).unwrap() == fs::read(all.join("tail.csv")).unwrap());
}

#[test]
fn the_incidents_option_parses_and_refuses_bad_values() {
    use blastsim::report::tables::IncidentsKept;
    assert_eq!(IncidentsKept::parse("all"), Ok(IncidentsKept::All));
    assert_eq!(IncidentsKept::parse("none"), Ok(IncidentsKept::None));
    assert_eq!(IncidentsKept::parse("first:3"), Ok(IncidentsKept::First(3)));
    for bad in ["first:0", "first:", "first:x", "some", ""] {
        assert!(IncidentsKept::parse(bad).is_err(), "{bad}");
    }
    let (code, err) = run_smoke(&scratch("inc-bad"), &["--incidents", "first:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("first:K"), "{err}");
}
