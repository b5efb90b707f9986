//! The model's speed: one simulated year of the first arm of `scenarios/baseline.toml`,
//! one run, as shipped, with all five breakers on, and for an organisation ten times the
//! size (see `common/worlds.rs`).
//!
//! criterion's time is the time per run; its throughput (elements/s) is model events per
//! second, the events of that run being counted once up front. Targets (issue 4): a year
//! of baseline under 0.5 s, at least 5 M events/s; breakers must not push the rate below
//! that (issue 5).
//!
//! ```text
//! cargo bench --bench model            # measure
//! cargo bench --bench model -- --test  # CI: each case once
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use blastsim::metrics::simulate;

#[path = "common/worlds.rs"]
mod worlds;

fn year(c: &mut Criterion) {
    let cases = worlds::cases();
    let mut group = c.benchmark_group("year");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    for case in &cases {
        // The run is a pure function of (world, seed): counting its events once is exact
        // for every iteration, and the fingerprint printed here is the result hash a
        // regression in determinism would change.
        let once = simulate(&case.world, case.seed);
        let events = once.summary.events as u64;
        eprintln!(
            "year/{}: {events} events, {:.1} deploys/day, {} incidents, fingerprint {:016x}",
            case.name, once.summary.deploys_per_day, once.summary.incidents, once.fingerprint
        );
        group.throughput(Throughput::Elements(events));
        group.bench_function(case.name, |b| {
            b.iter(|| simulate(black_box(&case.world), black_box(case.seed)).fingerprint)
        });
    }
    group.finish();
}

criterion_group!(benches, year);
criterion_main!(benches);
