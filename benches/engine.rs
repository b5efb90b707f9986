//! Criterion benchmarks of the event engine: the hold model at K = 10^2, 10^3 and 10^5
//! pending events, the engine beside a plain `BinaryHeap<Reverse<(u64, u64)>>` loop doing
//! the same draws, in the same run, so the ratio is read side by side.
//!
//! ```text
//! cargo bench --bench engine -- --measurement-time 3
//! ```

use std::hint::black_box;

use blastsim::engine::Seed;
use blastsim::engine::hold::{hold_baseline, hold_engine};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Events dispatched per measured iteration.
const EVENTS: u64 = 100_000;
/// Mean delay of a rescheduled event, in milliseconds.
const MEAN_MS: f64 = 1_000.0;

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold");
    group.throughput(Throughput::Elements(EVENTS));
    for pending in [100u32, 1_000, 100_000] {
        group.bench_with_input(BenchmarkId::new("engine", pending), &pending, |b, &k| {
            b.iter(|| hold_engine(black_box(Seed(1)), k, EVENTS, MEAN_MS))
        });
        group.bench_with_input(BenchmarkId::new("binary_heap", pending), &pending, |b, &k| {
            b.iter(|| hold_baseline(black_box(Seed(1)), k, EVENTS, MEAN_MS))
        });
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
