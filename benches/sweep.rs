//! A 200-run sweep at 1 and 2 worker threads: runs per second (criterion's throughput in
//! elements/s is runs/s) and, from the two, the parallel speed-up (target ≥ 1.8× on 2
//! cores with the real model).
//!
//! It sweeps `scenarios/baseline.toml` when that loads, else a hand-built scenario of the
//! same size (4 arms × 5 points × 10 replications). Two simulators: the model's
//! `simulate`, and a synthetic one with a fixed amount of busy work per run, which
//! measures the runner's own scaling independently of the model.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use blastsim::experiment::fixture::{demo_scenario, synthetic_simulate_with_work};
use blastsim::experiment::plan;
use blastsim::experiment::run_all_with;
use blastsim::scenario::Scenario;

fn sweep_scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let loaded = if path.exists() {
        blastsim::scenario::load(&path).ok()
    } else {
        None
    };
    match loaded {
        Some(mut s) => {
            // 200 runs whatever the file's shape: replications = 200 / settings, at least 1.
            let settings = (s.arms.len() * s.points.len()) as u32;
            let reps = (200 / settings.max(1)).max(1);
            plan::apply_overrides(
                &mut s,
                &plan::Overrides {
                    replications: Some(reps),
                    ..Default::default()
                },
            );
            s
        }
        None => demo_scenario(4, 5, 10, 2026),
    }
}

fn bench_sweep(c: &mut Criterion) {
    let scenario = sweep_scenario();
    let runs = plan::runs(&scenario, None);
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(runs.len() as u64));
    for threads in [1, 2] {
        group.bench_function(format!("model/{}runs/{threads}threads", runs.len()), |b| {
            b.iter(|| {
                run_all_with(
                    &scenario,
                    &runs,
                    threads,
                    blastsim::model::simulate,
                    |_, o| {
                        black_box(o.fingerprint);
                        Ok(())
                    },
                )
                .unwrap()
            })
        });
        // About 2 ms of arithmetic per run: a stand-in for model cost.
        group.bench_function(
            format!("synthetic/{}runs/{threads}threads", runs.len()),
            |b| {
                b.iter(|| {
                    run_all_with(
                        &scenario,
                        &runs,
                        threads,
                        |w, s| synthetic_simulate_with_work(w, s, 400_000),
                        |_, o| {
                            black_box(o.fingerprint);
                            Ok(())
                        },
                    )
                    .unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_sweep);
criterion_main!(benches);
