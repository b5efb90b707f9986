//! Scratch: count trace events per kind for one arm.
use std::collections::BTreeMap;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let arm: usize = std::env::args().nth(2).unwrap().parse().unwrap();
    let s = blastsim::scenario::load(std::path::Path::new(&path)).unwrap();
    let mut w = s.world(arm, 0).clone();
    w.horizon = blastsim::engine::SimDuration::from_days(365);
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let out = blastsim::model::world::simulate_traced(
        &w,
        blastsim::engine::Seed(1),
        |r: &blastsim::metrics::TraceRecord| {
            let name = serde_json::to_value(&r.event).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string();
            *counts.entry(name).or_default() += 1;
        },
    );
    println!("{counts:#?}\n{:#?}", out.summary.events);
    blastsim::model::world::DEBUG.with(|d| println!("{:#?}", d.borrow()));
}
