//! One run with its metrics: the composition of a World and a metrics collector.
//!
//! The World reports trace events to a sink and knows nothing of metrics; the collector
//! sees only trace events. Here the collector is the sink (with a tracer beside it for
//! `simulate_traced`), and the run's end (stop reason, fingerprint, worst incident's
//! services) closes its books.

use crate::engine::Seed;
use crate::metrics::collector::Collector;
use crate::metrics::run_output::RunOutput;
use crate::model::config::WorldConfig;
use crate::model::trace::{TraceRecord, TraceSink};
use crate::model::world;

/// Simulates one run of `world` from `seed`: a pure function of its arguments.
pub fn simulate(world: &WorldConfig, seed: Seed) -> RunOutput {
    let (collector, end) = world::run(world, seed, collector_for(world));
    collector.finish(end.stop, end.fingerprint, end.worst_hit)
}

/// Simulates one run and hands every trace record to `tracer` as well.
pub fn simulate_traced<T: TraceSink>(world: &WorldConfig, seed: Seed, tracer: T) -> RunOutput {
    let tee = Tee {
        collector: collector_for(world),
        tracer,
    };
    let (tee, end) = world::run(world, seed, tee);
    tee.collector
        .finish(end.stop, end.fingerprint, end.worst_hit)
}

fn collector_for(world: &WorldConfig) -> Collector {
    Collector::new(&world.invariants, world.horizon.as_ms())
}

/// The collector and a tracer, fed the same records in the same order.
struct Tee<T> {
    collector: Collector,
    tracer: T,
}

impl<T: TraceSink> TraceSink for Tee<T> {
    #[inline]
    fn record(&mut self, record: &TraceRecord) {
        self.collector.record(record);
        self.tracer.record(record);
    }

    fn enabled(&self) -> bool {
        self.tracer.enabled()
    }
}
