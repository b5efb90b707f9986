//! Times one simulated year, without criterion, on a release build:
//!
//! ```text
//! cargo run --release --example year                 # the three bench cases, best of 5
//! cargo run --release --example year -- FILE         # every arm of FILE, one year each
//! ```
//!
//! With no argument it runs the cases of `benches/model.rs` (baseline's first arm as
//! shipped, with all five breakers, and a ten-times larger organisation) and prints the
//! best of five wall times and the event rate, so the with/without-breakers ratio is read
//! side by side. With a file it runs every arm of that scenario once.

use std::time::Instant;

use blastsim::engine::{Seed, SimDuration};
use blastsim::metrics::{RunOutput, simulate};
use blastsim::model::config::WorldConfig;

#[path = "../benches/common/worlds.rs"]
mod worlds;

/// Runs `world` `repeats` times; the output and the fastest wall time in seconds.
fn best_of(world: &WorldConfig, seed: Seed, repeats: u32) -> (RunOutput, f64) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let o = simulate(world, seed);
        best = best.min(start.elapsed().as_secs_f64());
        out = Some(o);
    }
    (out.expect("at least one repeat"), best)
}

fn line(name: &str, out: &RunOutput, secs: f64) {
    let s = &out.summary;
    println!(
        "{name:<24} {secs:>8.4} s  {:>9} events  {:>6.2} M events/s  deploys/day {:>6.1}  incidents {:>5}  fingerprint {:016x}",
        s.events,
        s.events / secs / 1e6,
        s.deploys_per_day,
        s.incidents,
        out.fingerprint
    );
}

fn main() {
    match std::env::args().nth(1) {
        None => {
            for case in worlds::cases() {
                let (out, secs) = best_of(&case.world, case.seed, 5);
                line(case.name, &out, secs);
            }
        }
        Some(path) => {
            let scenario =
                blastsim::scenario::load(std::path::Path::new(&path)).unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(2)
                });
            let seed = blastsim::experiment::plan::replication_seed(scenario.seed, 0);
            for (arm, a) in scenario.arms.iter().enumerate() {
                let mut world = scenario.world(arm, 0).clone();
                world.horizon = SimDuration::from_days(worlds::YEAR_DAYS);
                let (out, secs) = best_of(&world, seed, 1);
                line(&a.name, &out, secs);
            }
        }
    }
}
