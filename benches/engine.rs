//! Criterion benchmarks of the event engine: the hold model at K = 10^2, 10^3 and 10^5
//! pending events, the engine beside a plain `BinaryHeap<Reverse<(u64, u64)>>` loop doing
//! the same draws, in the same run, so the ratio is read side by side; and the hold model
//! with a cancelled timeout per firing, to price cancellation.
//!
//! ```text
//! cargo bench --bench engine -- --measurement-time 3
//! ```

use std::hint::black_box;

use blastsim::engine::Seed;
use blastsim::engine::hold::{hold_baseline, hold_engine, hold_engine_timeouts};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Events dispatched per measured iteration, at least: 10 K, so that scheduling the K
/// initial events stays a small part of each iteration.
const EVENTS_MIN: u64 = 100_000;
/// Mean delay of a rescheduled event, in milliseconds.
const MEAN_MS: f64 = 1_000.0;

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold");
    for pending in [100u32, 1_000, 100_000] {
        let events = EVENTS_MIN.max(10 * pending as u64);
        group.throughput(Throughput::Elements(events));
        // One iteration at K = 10^5 takes ~0.1 s; ten samples keep the run short.
        group.sample_size(if pending >= 100_000 { 10 } else { 50 });
        group.bench_with_input(BenchmarkId::new("engine", pending), &pending, |b, &k| {
            b.iter(|| hold_engine(black_box(Seed(1)), k, events, MEAN_MS))
        });
        group.bench_with_input(
            BenchmarkId::new("binary_heap", pending),
            &pending,
            |b, &k| b.iter(|| hold_baseline(black_box(Seed(1)), k, events, MEAN_MS)),
        );
    }
    group.finish();
}

/// The price of cancellation: every firing cancels a timeout (K = 10^3).
fn hold_timeouts(c: &mut Criterion) {
    let mut group = c.benchmark_group("hold_timeouts");
    group.throughput(Throughput::Elements(EVENTS_MIN));
    group.sample_size(50);
    group.bench_function("engine/1000", |b| {
        b.iter(|| hold_engine_timeouts(black_box(Seed(1)), 1_000, EVENTS_MIN, MEAN_MS))
    });
    group.finish();
}

criterion_group!(benches, hold, hold_timeouts);
criterion_main!(benches);
