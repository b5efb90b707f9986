//! A 200-run sweep of `scenarios/baseline.toml` with the real model (its 4 arms × 50
//! replications, 90 simulated days each) at 1 and 2 worker threads. criterion's
//! throughput (elements/s) is runs per second.
//!
//! After criterion, unless in test mode, it times the sweep again, best of 7 interleaved
//! rounds at each thread count in the same process, and prints the speed-up (target
//! ≥ 1.8× on 2 cores, issue 6) with the load average beside it: on a shared machine other
//! processes take cores, and the speed-up cannot be read without it. A synthetic sweep of pure arithmetic
//! is timed the same way as a control for the machine's own scaling.
//!
//! The `command` group times the whole `run` pipeline the way `blastsim run` does it
//! (simulate, journal, tables, summary, manifest, charts and the report) into a fresh
//! folder, at 1 and 2 threads: the speed-up users see, not the simulation's alone
//! (issue 16). In test mode it runs a bounded smoke size (8 runs of 30 days) once each.
//!
//! ```text
//! cargo bench --bench sweep            # measure, then print the speed-up
//! cargo bench --bench sweep -- --test  # CI: each case once, no speed-up report
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};

use blastsim::experiment::fixture::synthetic_simulate_with_work;
use blastsim::experiment::plan::{self, RunSpec};
use blastsim::experiment::{run_all, run_all_with};
use blastsim::pipeline::{self, RunOptions};
use blastsim::scenario::Scenario;

#[path = "common/worlds.rs"]
mod worlds;

/// Runs in the sweep.
const RUNS: u32 = 200;

/// baseline.toml with replications set so that arms × points × replications = 200.
fn sweep_scenario() -> Scenario {
    let s = worlds::load("scenarios/baseline.toml");
    let settings = (s.arms.len() * s.points.len()) as u32;
    assert_eq!(
        RUNS % settings,
        0,
        "200 runs split evenly over the settings"
    );
    let s = s
        .with_overrides(None, Some(RUNS / settings), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.run_count(), u64::from(RUNS));
    s
}

/// The whole sweep on `threads` workers; the fingerprints, in run-id order.
fn sweep(scenario: &Scenario, runs: &[RunSpec], threads: usize) -> Vec<u64> {
    run_all(scenario, runs, threads, |_, o| {
        black_box(o.fingerprint);
        Ok(())
    })
    .expect("the sweep runs")
    .iter()
    .map(|r| r.fingerprint)
    .collect()
}

fn bench_sweep(c: &mut Criterion, scenario: &Scenario, runs: &[RunSpec]) {
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(runs.len() as u64));
    for threads in [1, 2] {
        group.bench_function(
            format!("baseline/{}runs/{threads}threads", runs.len()),
            |b| b.iter(|| sweep(scenario, runs, threads)),
        );
    }
    group.finish();
}

/// The same sweep with a synthetic simulator doing about 2 ms of arithmetic per run and
/// touching no shared memory: the control. If it does not scale either, the machine is
/// busy, not the model.
fn synthetic_sweep(scenario: &Scenario, runs: &[RunSpec], threads: usize) -> Vec<u64> {
    run_all_with(
        scenario,
        runs,
        threads,
        |w, s| synthetic_simulate_with_work(w, s, 400_000),
        |_, o| {
            black_box(o.fingerprint);
            Ok(())
        },
    )
    .expect("the sweep runs")
    .iter()
    .map(|r| r.fingerprint)
    .collect()
}

/// The whole `run` command (tables, manifest, charts and report) into a fresh folder;
/// the fingerprints of `runs.csv`, for the determinism check.
fn command(scenario: &Scenario, _runs: &[RunSpec], threads: usize) -> Vec<u64> {
    let dir = std::env::temp_dir().join(format!(
        "blastsim-bench-command-{}-{threads}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut opts = RunOptions::new(&dir, threads, "bench");
    opts.charts = true;
    pipeline::run_experiment(
        scenario,
        &opts,
        blastsim::metrics::simulate,
        &pipeline::Silent,
    )
    .expect("the run pipeline runs");
    let runs = std::fs::read_to_string(dir.join("runs.csv")).expect("runs.csv written");
    let _ = std::fs::remove_dir_all(&dir);
    runs.lines()
        .skip(1)
        .map(|l| {
            let f = l.rsplit(',').next().unwrap_or("");
            u64::from_str_radix(f, 16).expect("a hex fingerprint ends each row")
        })
        .collect()
}

/// The scenario of the `command` group: the 200-run sweep, or in test mode a bounded
/// smoke size (2 replications × 4 arms of 30 days).
fn command_scenario(full: &Scenario, test_mode: bool) -> Scenario {
    if test_mode {
        full.clone()
            .with_overrides(
                None,
                Some(2),
                Some(blastsim::engine::SimDuration::from_days(30)),
            )
            .unwrap_or_else(|e| panic!("{e}"))
    } else {
        full.clone()
    }
}

fn bench_command(c: &mut Criterion, scenario: &Scenario) {
    let runs = plan::runs(scenario, None);
    let mut group = c.benchmark_group("command");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(runs.len() as u64));
    for threads in [1, 2] {
        group.bench_function(
            format!("run-with-charts/{}runs/{threads}threads", runs.len()),
            |b| b.iter(|| command(scenario, &runs, threads)),
        );
    }
    group.finish();
}

type Sweep = fn(&Scenario, &[RunSpec], usize) -> Vec<u64>;

/// Wall time of one sweep, in seconds.
fn secs(run: Sweep, scenario: &Scenario, runs: &[RunSpec], threads: usize) -> f64 {
    let start = Instant::now();
    black_box(run(scenario, runs, threads));
    start.elapsed().as_secs_f64()
}

/// Best wall times at 1 and at 2 threads over `REPEATS` rounds. The two are interleaved
/// so that a burst of load from other processes hits both alike, and the best is kept,
/// since other processes only ever add time.
fn best_secs(run: Sweep, scenario: &Scenario, runs: &[RunSpec]) -> (f64, f64) {
    (0..REPEATS).fold((f64::INFINITY, f64::INFINITY), |(one, two), _| {
        (
            one.min(secs(run, scenario, runs, 1)),
            two.min(secs(run, scenario, runs, 2)),
        )
    })
}

/// Rounds of timings in the speed-up report.
const REPEATS: u32 = 7;

fn speedup_report(scenario: &Scenario, runs: &[RunSpec]) {
    // Determinism first: a speed-up that changed the answer would be worthless.
    assert_eq!(
        sweep(scenario, runs, 1),
        sweep(scenario, runs, 2),
        "1 and 2 threads give the same fingerprints"
    );
    let n = runs.len() as f64;
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .map_or_else(|_| "n/a".into(), |l| l.trim().to_string())
    };
    println!(
        "cores {}; loadavg before {}",
        std::thread::available_parallelism().map_or(0, |p| p.get()),
        load()
    );
    assert_eq!(
        command(scenario, runs, 1),
        command(scenario, runs, 2),
        "the whole command gives the same runs at 1 and 2 threads"
    );
    for (name, run) in [
        ("model", sweep as Sweep),
        ("command", command as Sweep),
        ("synthetic", synthetic_sweep),
    ] {
        let (one, two) = best_secs(run, scenario, runs);
        println!(
            "{name:<9} sweep of {} runs: 1 thread {one:.3} s ({:.0} runs/s), 2 threads {two:.3} s ({:.0} runs/s), speed-up {:.2}x",
            runs.len(),
            n / one,
            n / two,
            one / two,
        );
    }
    println!("loadavg after {}", load());
}

fn main() {
    // `--test` (CI) runs each bench once; the speed-up report would only add time there.
    let test_mode = std::env::args().any(|a| a == "--test");
    let scenario = sweep_scenario();
    let runs = plan::runs(&scenario, None);
    let mut c = Criterion::default().configure_from_args();
    bench_sweep(&mut c, &scenario, &runs);
    bench_command(&mut c, &command_scenario(&scenario, test_mode));
    c.final_summary();
    if !test_mode {
        speedup_report(&scenario, &runs);
    }
}
