//! Times one simulated year of a scenario's first arm: `cargo run --release --example year -- FILE`.

use std::time::Instant;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "scenarios/baseline.toml".into());
    let scenario = blastsim::scenario::load(std::path::Path::new(&path)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    for arm in 0..scenario.arms.len() {
        let mut world = scenario.world(arm, 0).clone();
        world.horizon = blastsim::engine::SimDuration::from_days(365);
        let start = Instant::now();
        let out = blastsim::model::simulate(&world, blastsim::engine::Seed(1));
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<24} {:>8.3} s  {:>10} events  {:>6.2} M events/s  deploys/day {:.1}  incidents {}  impact {:.0}",
            scenario.arms[arm].name,
            secs,
            out.summary.events,
            out.summary.events / secs / 1e6,
            out.summary.deploys_per_day,
            out.summary.incidents,
            out.summary.user_impact_min_total
        );
    }
}
