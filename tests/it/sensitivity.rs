//! The `[sensitivity]` section and analysis: every marked assumption of the shipped
//! scenarios has a range, the comment rule ties markers to the right keys, bad ranges are
//! located errors, the analysis finds and bisects a flip, and `sensitivity.csv` is the
//! same bytes at any thread count and on a repeated run.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use blastsim::engine::Seed;
use blastsim::experiment::fixture::synthetic_simulate;
use blastsim::metrics::RunOutput;
use blastsim::model::config::WorldConfig;
use blastsim::pipeline::sensitivity::{analyse, write_sensitivity};
use blastsim::pipeline::{RunOptions, Silent, run_experiment};
use blastsim::scenario::sensitivity::{notes, unranged};
use blastsim::scenario::{self, Scenario, ScenarioError};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Two arms on a tiny organisation, with one range. Line numbers matter.
const BASE: &str = r#"name = "sens"
question = "q"
horizon = "7d"
replications = 3
seed = 1

[infrastructure]
topology = { generator = "layered", services = 6, layers = 2, mean_dependencies = 1.0 }
soft_dependency_share = 0.5
# ASSUMPTION (range: 0.1..0.5)
soft_propagation = 0.3
detection = { fixed = "5m" }
rollback = { exponential = { mean = "30m" } }
rebuild = { lognormal = { median = "10h", sigma = 0.5 } }
restart_step = "1m"
responders = 1

[[authors]]
name = "bots"
kind = "agent"
count = 2
tasks_per_day = 3.0
mix = { code = 0.5, config = 0.5 }
defect_probability = { code = 0.1, config = 0.2 }
permissions = ["code", "config"]

[[reviewers]]
name = "seniors"
seniority = "senior"
count = 2
review_time = { uniform = { min = "10m", max = "20m" } }
detection = 0.7

[[arms]]
name = "open"
policy = "autonomous"

[[arms]]
name = "reviewed"
policy = "peer-review"

[sensitivity]
"infrastructure.soft_propagation" = { low = 0.1, high = 0.5, label = "chance a fault crosses a soft edge" }
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    scenario::parse(text, Path::new("dir/s.toml"), |_: &Path| {
        Err(io::Error::new(io::ErrorKind::NotFound, "no files"))
    })
}

/// BASE with its `[sensitivity]` line replaced by `line`.
fn with_range(line: &str) -> String {
    let old = r#""infrastructure.soft_propagation" = { low = 0.1, high = 0.5, label = "chance a fault crosses a soft edge" }"#;
    assert_eq!(BASE.matches(old).count(), 1);
    BASE.replacen(old, line, 1)
}

#[track_caller]
fn check_err(text: &str, line: usize, column: usize, phrases: &[&str]) {
    let e = match parse(text) {
        Ok(_) => panic!("expected an error at {line}:{column}, but the scenario validated"),
        Err(e) => e,
    };
    let shown = e.to_string();
    assert_eq!((e.line(), e.column()), (line, column), "{shown}");
    for p in phrases {
        assert!(e.message().contains(p), "missing `{p}` in: {shown}");
    }
}

fn shipped() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["scenarios", "scenarios/audit"] {
        for e in fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 7, "found {out:?}");
    out
}

#[test]
fn every_marked_value_of_the_shipped_scenarios_has_a_range() {
    let mut missing = Vec::new();
    for path in shipped() {
        let s = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        // A swept path is varied by the sweep itself, so it counts as ranged.
        let mut ranged: Vec<&str> = s.sensitivity.iter().map(|e| e.path.as_str()).collect();
        ranged.extend(s.axes.iter().map(|a| a.path.as_str()));
        let rel = path
            .strip_prefix(ROOT)
            .unwrap_or(&path)
            .display()
            .to_string();
        for u in unranged(&s.source, &ranged) {
            missing.push(format!("{rel}:{u}"));
        }
    }
    assert!(
        missing.is_empty(),
        "marked values without a [sensitivity] range:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_comment_rule_ties_each_marker_to_its_key() {
    let text = r#"# A header block, then a blank line: it annotates nothing.

name = "x"
[infrastructure]
# ASSUMPTION: above a key, it annotates that key (range: 0.1..0.5)
soft_propagation = 0.3
rollback = { lognormal = { median = "1h", sigma = 1.0 } } # NOT FOUND: sigma

# ASSUMPTION (no range: a reason)
cells = 1

# NOT FOUND, then a blank line

responders = 2

# ASSUMPTIONS for the whole table
[review]
false_rejection = 0.03

[[authors]]
name = "ops"
# ASSUMPTION
tasks_per_day = 2.0
"#;
    let n = notes(text);
    let at = |line: usize| n.iter().find(|x| x.line == line).unwrap();
    assert_eq!(at(1).path, None);
    assert_eq!(
        at(5).path.as_deref(),
        Some("infrastructure.soft_propagation")
    );
    assert_eq!(at(5).range(), Some(("0.1".to_string(), "0.5".to_string())));
    assert_eq!(at(7).path.as_deref(), Some("infrastructure.rollback"));
    assert_eq!(at(9).opt_out(), Some("a reason"));
    assert_eq!(at(12).path, None);
    assert_eq!(at(16).path.as_deref(), Some("review"));
    assert_eq!(at(22).path.as_deref(), Some("authors.ops.tasks_per_day"));
    // A range below the annotated key covers it; the opt-out needs none; the orphan
    // marker and the unranged keys are named.
    let left = unranged(
        text,
        &[
            "infrastructure.rollback.lognormal.sigma",
            "review.false_rejection",
        ],
    );
    let shown: Vec<String> = left.iter().map(ToString::to_string).collect();
    assert_eq!(left.len(), 3, "{shown:#?}");
    assert!(shown[0].contains("`infrastructure.soft_propagation` is marked ASSUMPTION"));
    assert!(
        shown[0].contains("proposes range: 0.1..0.5"),
        "{}",
        shown[0]
    );
    assert!(shown[1].starts_with("line 12: a NOT FOUND comment annotates no key"));
    assert!(shown[2].contains("`authors.ops.tasks_per_day`"));
}

#[test]
fn a_valid_range_is_typed_like_its_value_and_sourced_from_its_comment() {
    let s = parse(BASE).unwrap();
    assert_eq!(s.sensitivity.len(), 1);
    let e = &s.sensitivity[0];
    assert_eq!(e.path, "infrastructure.soft_propagation");
    assert_eq!(e.base, toml::Value::Float(0.3));
    assert_eq!(e.source, "ASSUMPTION");
    assert_eq!(e.label, "chance a fault crosses a soft edge");
    // Durations and whole numbers are accepted where the value is one.
    let s = parse(&with_range(
        r#""infrastructure.restart_step" = { low = "30s", high = "10m" }
"authors.bots.count" = { low = 1, high = 4 }"#,
    ))
    .unwrap();
    assert_eq!(s.sensitivity[0].low, toml::Value::String("30s".into()));
    assert_eq!(s.sensitivity[1].label, "authors.bots.count");
    // A varied scenario keeps seeds and shape, and carries the value.
    let v = parse(BASE)
        .unwrap()
        .varied("infrastructure.soft_propagation", toml::Value::Float(0.1))
        .unwrap();
    assert_eq!(v.world(1, 0).infra.soft_propagation, 0.1);
    assert_eq!((v.seed, v.replications, v.run_count()), (1, 3, 6));
}

#[test]
fn bad_ranges_are_located_errors() {
    let line = 43;
    check_err(
        &with_range(r#""infrastructure.soft_propagaton" = { low = 0.1, high = 0.5 }"#),
        line,
        1,
        &["unknown path", "infrastructure.soft_propagation"],
    );
    check_err(
        &with_range(r#""infrastructure.soft_propagation" = { low = 0.5, high = 0.1 }"#),
        line,
        45,
        &["low (0.5) is above high (0.1)"],
    );
    check_err(
        &with_range(r#""infrastructure.soft_propagation" = { low = "1h", high = 0.5 }"#),
        line,
        45,
        &["expected a number"],
    );
    check_err(
        &with_range(r#""authors.bots.count" = { low = 1.5, high = 4 }"#),
        line,
        32,
        &["expected a whole number"],
    );
    check_err(
        &with_range(r#""infrastructure.soft_propagation" = { low = 0.4, high = 0.5 }"#),
        line,
        37,
        &["does not contain the value written", "(0.3)"],
    );
    check_err(
        &with_range(r#""infrastructure.soft_propagation" = { low = 0.1, high = 1.5 }"#),
        line,
        57,
        &["[sensitivity] sets `infrastructure.soft_propagation` = 1.5"],
    );
    check_err(
        &with_range(r#""infrastructure.cells" = { low = 1, high = 4 }"#),
        line,
        1,
        &["is not written in the scenario"],
    );
    check_err(
        &with_range(r#""authors.bots.permissions" = { low = 1, high = 4 }"#),
        line,
        1,
        &["cannot be varied over a range"],
    );
    // Where toml puts these two is its business; the message and the line are ours.
    let message_of = |text: &str| match parse(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };
    let m = message_of(&with_range(
        "infrastructure.soft_propagation = { low = 0.1, high = 0.5 }",
    ));
    assert!(m.contains("quote the whole path"), "{m}");
    let mut many = String::new();
    for i in 0..=blastsim::scenario::limits::SENSITIVITY_ENTRIES_MAX {
        many.push_str(&format!("\"a{i}\" = {{ low = 1, high = 2 }}\n"));
    }
    let m = message_of(&with_range(many.trim_end()));
    assert!(m.contains("SENSITIVITY_ENTRIES_MAX = 64"), "{m}");
    let swept = with_range(
        "\"infrastructure.soft_propagation\" = { low = 0.1, high = 0.5 }\n\n[sweep]\n\"infrastructure.soft_propagation\" = [0.2, 0.3]",
    );
    check_err(&swept, line, 1, &["is swept in [sweep]"]);
}

/// The synthetic simulator with the objective set by the world: the autonomous arm ships
/// 1 change a day, the peer-reviewed one 4 T + 0.01 (T = soft propagation), so the pick
/// flips to the autonomous arm below T = 0.2475.
fn flipping(world: &WorldConfig, seed: Seed) -> RunOutput {
    let mut out = synthetic_simulate(world, seed);
    out.summary.deploys_per_day = if world.policy.name == "autonomous" {
        1.0
    } else {
        4.0 * world.infra.soft_propagation + 0.01
    };
    out
}

#[test]
fn a_flip_inside_the_range_is_found_and_bisected() {
    let s = parse(BASE).unwrap();
    let out = analyse(&s, 2, &flipping, &Silent).unwrap();
    let [low, high] = &out.rows[..] else {
        panic!("{:?}", out.rows)
    };
    assert_eq!(low.base_recommended, "reviewed");
    assert!((low.base_advantage.unwrap() - 0.21).abs() < 1e-9);
    assert!(low.flips && !high.flips);
    assert_eq!(low.recommended, "open");
    assert_eq!(low.flips_to, "open");
    assert!((high.advantage.unwrap() - 1.01).abs() < 1e-9);
    // Bisection between 0.3 (holds) and 0.1 (flips), 4 steps: 0.2 flips, 0.25 holds,
    // 0.225 flips, 0.2375 flips.
    assert_eq!(
        (low.holds_at.as_str(), low.flips_at.as_str()),
        ("0.25", "0.2375")
    );
    assert_eq!(low.runs, 5 * 6);
    assert_eq!(out.runs, 7 * 6);
}

#[test]
fn sensitivity_csv_is_the_same_bytes_at_any_thread_count_and_on_a_repeat() {
    let text = fs::read_to_string(Path::new(ROOT).join("scenarios/smoke.toml")).unwrap();
    let s = scenario::parse(&text, &Path::new(ROOT).join("scenarios/smoke.toml"), |p| {
        fs::read_to_string(p)
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("blastsim-sens-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let (a, b) = (dir.join("a"), dir.join("b"));
    let run = |out: &Path, threads: usize| {
        let opts = RunOptions {
            sensitivity: true,
            ..RunOptions::new(out, threads, "test")
        };
        run_experiment(&s, &opts, blastsim::metrics::simulate, &Silent).unwrap();
        fs::read(out.join("sensitivity.csv")).unwrap()
    };
    let one = run(&a, 1);
    let two = run(&b, 2);
    assert_eq!(one, two, "1 and 2 threads");
    // A repeated (fully resumed) run writes the same bytes.
    assert_eq!(run(&a, 2), one, "repeat");
    let rows = String::from_utf8(one).unwrap();
    assert_eq!(rows.lines().count(), 1 + 2 * s.sensitivity.len(), "{rows}");
    // Without the option there is no analysis and no file.
    let c = dir.join("c");
    run_experiment(
        &s,
        &RunOptions::new(&c, 1, "test"),
        blastsim::metrics::simulate,
        &Silent,
    )
    .unwrap();
    assert!(!c.join("sensitivity.csv").exists());
    // Written by the library function alone, the same bytes again.
    let d = dir.join("d");
    fs::create_dir_all(&d).unwrap();
    write_sensitivity(&s, &d, 2, &blastsim::metrics::simulate, &Silent, false).unwrap();
    assert_eq!(fs::read(d.join("sensitivity.csv")).unwrap(), two);
    let _ = fs::remove_dir_all(&dir);
}

/// A `Progress` that asks to stop once `limit` runs are done, like a Ctrl-C.
struct StopAfter {
    done: std::sync::atomic::AtomicU64,
    limit: u64,
}

impl blastsim::pipeline::Progress for StopAfter {
    fn start(&self, _total: u64, done: u64) {
        self.done.store(done, std::sync::atomic::Ordering::SeqCst);
    }
    fn advance(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn finish(&self) {}
    fn interrupted(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::SeqCst) >= self.limit
    }
}

/// An analysis interrupted part-way resumes at the variation it was in: the variations
/// finished before the stop are read back, not simulated again, and `sensitivity.csv`
/// is the same bytes as an uninterrupted analysis's. A damaged variation record is refused
/// with the way out, and `--discard-damaged` simulates that variation again.
#[test]
fn an_interrupted_analysis_resumes_at_the_variation_it_was_in() {
    let s = parse(BASE).unwrap();
    let dir = std::env::temp_dir().join(format!("blastsim-sens-resume-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let (whole, cut) = (dir.join("whole"), dir.join("cut"));
    for d in [&whole, &cut] {
        fs::create_dir_all(d).unwrap();
    }
    let full = write_sensitivity(&s, &whole, 2, &flipping, &Silent, false)
        .unwrap()
        .unwrap();
    assert_eq!((full.runs, full.resumed), (7 * 6, 0));
    let want = fs::read(whole.join("sensitivity.csv")).unwrap();

    // Stopped once 13 runs are done: the base (6), the low end (6) and the first
    // bisection step (6) finish, the stop is seen before the next variation starts.
    let stop = StopAfter {
        done: Default::default(),
        limit: 13,
    };
    let err = write_sensitivity(&s, &cut, 2, &flipping, &stop, false).unwrap_err();
    // The error the command line turns into exit code 130, saying what is kept.
    let stopped = err
        .downcast_ref::<blastsim::pipeline::Interrupted>()
        .expect("an Interrupted error");
    assert_eq!(stopped.variations, Some(3));
    let text = stopped.to_string();
    assert!(
        text.starts_with(
            "interrupted during the sensitivity analysis: all 6 runs and 3 finished variations"
        ) && text.contains("run the same command again to resume"),
        "{text}"
    );
    assert!(!cut.join("sensitivity.csv").exists());
    let records = || {
        let mut v: Vec<PathBuf> = fs::read_dir(cut.join(".journal/sensitivity"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    assert_eq!(records().len(), 3);

    let resumed = write_sensitivity(&s, &cut, 2, &flipping, &Silent, false)
        .unwrap()
        .unwrap();
    assert_eq!((resumed.runs, resumed.resumed), (7 * 6, 3 * 6));
    assert_eq!(fs::read(cut.join("sensitivity.csv")).unwrap(), want);
    assert_eq!(records().len(), 7);

    // One record cut short: refused, named, with the way out; discarded, it is simulated
    // again and the bytes are the same.
    let victim = records()[2].clone();
    let text = fs::read_to_string(&victim).unwrap();
    fs::write(&victim, &text[..text.len() - 5]).unwrap();
    let err = write_sensitivity(&s, &cut, 2, &flipping, &Silent, false).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(&victim.display().to_string())
            && msg.contains("damaged sensitivity journal record")
            && msg.contains("--discard-damaged"),
        "{msg}"
    );
    let again = write_sensitivity(&s, &cut, 2, &flipping, &Silent, true)
        .unwrap()
        .unwrap();
    assert_eq!((again.runs, again.resumed), (7 * 6, 6 * 6));
    assert_eq!(fs::read(cut.join("sensitivity.csv")).unwrap(), want);
    // A huge file in a record's place is refused without being read whole.
    fs::write(&victim, vec![b'x'; 1 << 20]).unwrap();
    let err = write_sensitivity(&s, &cut, 2, &flipping, &Silent, false).unwrap_err();
    assert!(
        format!("{err:#}").contains("damaged sensitivity journal record: far larger than a record"),
        "{err:#}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The way README "Scale-out" gives to add the analysis to a sharded sweep: `run` on the
/// merged folder reads every run of the sweep back (simulating none of them; the analysis
/// simulates its own variations) and writes the sensitivity.csv one unsharded run writes.
#[test]
fn run_on_a_merged_folder_adds_the_analysis_without_simulating_the_runs_again() {
    let path = Path::new(ROOT).join("scenarios/smoke.toml");
    let text = fs::read_to_string(&path).unwrap();
    let s = scenario::parse(&text, &path, |p| fs::read_to_string(p)).unwrap();
    let dir = std::env::temp_dir().join(format!("blastsim-sens-merge-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let with_analysis = |out: &Path| RunOptions {
        sensitivity: true,
        ..RunOptions::new(out, 2, "test")
    };
    let whole = dir.join("whole");
    run_experiment(
        &s,
        &with_analysis(&whole),
        blastsim::metrics::simulate,
        &Silent,
    )
    .unwrap();
    let mut shards = Vec::new();
    for index in 1..=2 {
        let out = dir.join(format!("shard{index}"));
        let opts = RunOptions {
            shard: Some(blastsim::experiment::plan::Shard { index, count: 2 }),
            ..with_analysis(&out)
        };
        run_experiment(&s, &opts, blastsim::metrics::simulate, &Silent).unwrap();
        assert!(
            !out.join("sensitivity.csv").exists(),
            "a shard runs no analysis"
        );
        shards.push(out);
    }
    let merged = dir.join("merged");
    blastsim::pipeline::merge::merge_dirs(&shards, &merged, "test", false).unwrap();
    assert!(!merged.join("sensitivity.csv").exists());
    let o = run_experiment(
        &s,
        &with_analysis(&merged),
        blastsim::metrics::simulate,
        &Silent,
    )
    .unwrap();
    assert_eq!(
        o.runs_new, 0,
        "every run is read back from the merged journal"
    );
    assert_eq!(
        fs::read(merged.join("sensitivity.csv")).unwrap(),
        fs::read(whole.join("sensitivity.csv")).unwrap()
    );
    let _ = fs::remove_dir_all(&dir);
}
