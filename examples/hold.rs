//! The classic hold benchmark on the bare engine: K events pending, pop the earliest, push
//! one at now + Exp(mean 1000 ms); prints events, final simulated time and events/second.
//!
//! ```text
//! cargo run --release --example hold -- --events 10000000 --pending 1000 --baseline
//! ```
//!
//! `--baseline` also runs the same draws through a plain `BinaryHeap<Reverse<(u64, u64)>>`
//! loop, so both numbers come from one command on one machine state. `--timeouts` also
//! runs a variant in which every firing cancels a timeout, to price cancellation.

use std::time::Instant;

use blastsim::engine::Seed;
use blastsim::engine::hold::{HoldOutcome, hold_baseline, hold_engine, hold_engine_timeouts};
use clap::Parser;

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(about = "Hold-model benchmark of the blastsim event engine")]
struct Args {
    /// Events to dispatch after the initial ones are scheduled.
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Events kept pending (K).
    #[arg(long, default_value_t = 1_000)]
    pending: u32,
    /// Mean delay of a rescheduled event, in milliseconds.
    #[arg(long, default_value_t = 1_000.0)]
    mean_ms: f64,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also run the plain `BinaryHeap` loop on the same draws.
    #[arg(long)]
    baseline: bool,
    /// Also run the variant where every firing re-arms a timeout and cancels the old one.
    #[arg(long)]
    timeouts: bool,
}

fn report(name: &str, outcome: HoldOutcome, seconds: f64) {
    println!(
        "{name:<9} events {} final time {} ms ({:.1} simulated days) {:.2} M events/s wall {:.3} s",
        outcome.events,
        outcome.end.as_ms(),
        outcome.end.as_days_f64(),
        outcome.events as f64 / seconds / 1e6,
        seconds,
    );
}

fn main() {
    let args = Args::parse();
    if !(args.mean_ms.is_finite() && args.mean_ms > 0.0) {
        eprintln!(
            "error: --mean-ms must be a positive number, got {}",
            args.mean_ms
        );
        std::process::exit(2);
    }
    let seed = Seed(args.seed);
    println!(
        "hold: pending {} events {} seed {}",
        args.pending, args.events, args.seed
    );

    let started = Instant::now();
    let engine = hold_engine(seed, args.pending, args.events, args.mean_ms);
    let engine_s = started.elapsed().as_secs_f64();
    report("engine", engine, engine_s);
    println!("engine fingerprint {:016x}", engine.fingerprint);

    if args.timeouts {
        let started = Instant::now();
        let timeouts = hold_engine_timeouts(seed, args.pending, args.events, args.mean_ms);
        report("timeouts", timeouts, started.elapsed().as_secs_f64());
    }

    if args.baseline {
        let started = Instant::now();
        let baseline = hold_baseline(seed, args.pending, args.events, args.mean_ms);
        let baseline_s = started.elapsed().as_secs_f64();
        report("baseline", baseline, baseline_s);
        println!("engine / baseline speed {:.2}x", baseline_s / engine_s);
        if baseline.end != engine.end {
            eprintln!("error: engine and baseline disagree on the final time");
            std::process::exit(1);
        }
    }
}
