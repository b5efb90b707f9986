//! The worlds the model benchmarks time, shared by `benches/model.rs` and
//! `examples/year.rs` (both include this file with `#[path]`), so the bench and the quick
//! release-build check measure exactly the same runs.
//!
//! Three cases, all one simulated year of the first arm of `scenarios/baseline.toml`:
//! - `baseline`: the file as shipped;
//! - `all_breakers`: the same world with all five breakers on, configured as in
//!   `scenarios/breakers-vs-signoff.toml` plus its rate limiter, so the price of the
//!   breakers is read against `baseline` side by side;
//! - `large_org`: authors and reviewers ×10 on a 3000-service graph.
//!
//! Variants are built by editing the scenario's parsed document and re-validating it
//! (`Scenario::reparse`), so they go through the same checks as a user's file.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use blastsim::engine::{Seed, SimDuration};
use blastsim::experiment::plan::replication_seed;
use blastsim::model::config::WorldConfig;
use blastsim::scenario::{self, Scenario, set_path};

/// One simulated year.
pub const YEAR_DAYS: u64 = 365;

/// Breakers of the all-breakers case, as `[breakers]` kind names.
pub const ALL_BREAKERS: [&str; 5] = [
    "agent",
    "blast_guard",
    "rate_limit",
    "error_budget",
    "kill_switch",
];

/// A benchmarked world: what it is, its configuration and the seed of its run.
pub struct Case {
    /// Short name, used as the criterion bench id.
    pub name: &'static str,
    /// The world, with a one-year horizon.
    pub world: WorldConfig,
    /// The seed replication 0 of the scenario would use.
    pub seed: Seed,
}

/// A path under the crate root.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Loads a shipped scenario; a broken file is a bug in the repository, so it panics with
/// the located message.
pub fn load(relative: &str) -> Scenario {
    scenario::load(&repo_path(relative)).unwrap_or_else(|e| panic!("{e}"))
}

/// The first arm's world of `s` for one year, with replication 0's seed.
fn first_arm_year(name: &'static str, s: &Scenario) -> Case {
    let mut world = s.world(0, 0).clone();
    world.horizon = SimDuration::from_days(YEAR_DAYS);
    Case {
        name,
        world,
        seed: replication_seed(s.seed, 0),
    }
}

/// `doc` with `value` at `path`; the paths here are fixed, so a failure is a bug.
fn set(doc: &mut toml::Table, path: &str, value: toml::Value) {
    set_path(doc, path, value).unwrap_or_else(|e| panic!("cannot set {path}: {e}"));
}

/// The three cases, in order: baseline, all breakers, large organisation.
pub fn cases() -> Vec<Case> {
    let base = load("scenarios/baseline.toml");
    let first_arm = base.arms[0].name.clone();

    // All breakers: the breakers-vs-signoff settings, plus a per-agent token bucket
    // (the DESIGN sketch's 20/h, burst 5), all switched on for the first arm.
    let signoff = load("scenarios/breakers-vs-signoff.toml");
    let mut breakers = signoff
        .document()
        .get("breakers")
        .cloned()
        .expect("breakers-vs-signoff.toml has a [breakers] table");
    let rate_limit: toml::Table = toml::from_str(r#"per_agent = { rate = "20/h", burst = 5 }"#)
        .expect("literal toml is valid");
    breakers
        .as_table_mut()
        .expect("[breakers] is a table")
        .insert("rate_limit".into(), toml::Value::Table(rate_limit));
    let mut doc = base.document();
    set(&mut doc, "breakers", breakers);
    let names = ALL_BREAKERS.iter().map(|b| toml::Value::from(*b)).collect();
    set(
        &mut doc,
        &format!("arms.{first_arm}.breakers"),
        toml::Value::Array(names),
    );
    let with_breakers = base.reparse(&doc).unwrap_or_else(|e| panic!("{e}"));
    let b = &with_breakers.world(0, 0).breakers;
    assert!(
        b.agent.is_some()
            && b.blast_guard.is_some()
            && b.rate_limit.is_some()
            && b.error_budget.is_some()
            && b.kill_switch.is_some(),
        "every breaker is on in the first arm"
    );

    // A large organisation: ten times the people, ten times the services. Its values lie
    // outside baseline's [sensitivity] ranges, which a year's run does not use: dropped.
    let mut doc = base.document();
    doc.remove("sensitivity");
    for (path, value) in [
        ("authors.devs.count", 600),
        ("authors.agents.count", 200),
        ("reviewers.juniors.count", 300),
        ("reviewers.seniors.count", 80),
        ("infrastructure.topology.services", 3000),
    ] {
        set(&mut doc, path, toml::Value::Integer(value));
    }
    let large = base.reparse(&doc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(large.world(0, 0).infra.graph.len(), 3000);

    vec![
        first_arm_year("baseline", &base),
        first_arm_year("all_breakers", &with_breakers),
        first_arm_year("large_org", &large),
    ]
}
