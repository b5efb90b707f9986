//! The 13-hour case study (`scenarios/kiro-13h-outage.toml`): the outcome comes from the
//! mechanism — permissions, escalation, review, the guard — never from a special case.

use std::collections::BTreeSet;
use std::path::Path;

use blastsim::engine::Seed;
use blastsim::metrics::{simulate, simulate_traced};
use blastsim::model::breaker::BreakerKind;
use blastsim::model::config::{ActionClass, AuthorKind, Severity};
use blastsim::model::trace::{TraceEvent, TraceRecord};
use blastsim::scenario::{self, Scenario};

fn kiro() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/kiro-13h-outage.toml");
    scenario::load(&path).expect("the shipped case study loads")
}

fn arm(s: &Scenario, name: &str) -> usize {
    s.arms
        .iter()
        .position(|a| a.name == name)
        .expect("arm exists")
}

/// The largest share of users hit by an environment deletion in one run.
fn worst_deletion(s: &Scenario, arm: usize, seed: Seed) -> f64 {
    simulate(s.world(arm, 0), seed)
        .incidents
        .iter()
        .filter(|i| i.severity == Severity::EnvironmentDeletion)
        .map(|i| i.users_hit_peak)
        .fold(0.0, f64::max)
}

#[test]
fn the_guard_blocks_every_drastic_action_predicted_over_its_threshold() {
    let s = kiro();
    let guard_arm = arm(&s, "blast-guard");
    let guard = s
        .world(guard_arm, 0)
        .breakers
        .blast_guard
        .expect("the arm has a guard");
    let mut checked = 0;
    for r in 0..10 {
        let mut trace: Vec<TraceRecord> = Vec::new();
        simulate_traced(
            s.world(guard_arm, 0),
            Seed(s.seed).derive(r),
            |t: &TraceRecord| trace.push(t.clone()),
        );
        let mut drastic = BTreeSet::new();
        let mut over = BTreeSet::new();
        let mut blocked = BTreeSet::new();
        let mut deployed = BTreeSet::new();
        for t in &trace {
            match t.event {
                // The guard watches agents (humans_too = false in the case study).
                TraceEvent::Proposed {
                    change,
                    class: ActionClass::Infra | ActionClass::Destructive,
                    kind: AuthorKind::Agent,
                    ..
                } => {
                    drastic.insert(change);
                }
                TraceEvent::Gated {
                    change,
                    predicted_users,
                    ..
                } if predicted_users > guard.max_predicted_users => {
                    over.insert(change);
                }
                TraceEvent::Blocked {
                    change,
                    breaker: BreakerKind::BlastGuard,
                    ..
                } => {
                    blocked.insert(change);
                }
                TraceEvent::Deployed { change, .. } => {
                    deployed.insert(change);
                }
                _ => {}
            }
        }
        for c in drastic.intersection(&over) {
            assert!(
                blocked.contains(c),
                "replication {r}: change {c} over the threshold passed"
            );
            assert!(
                !deployed.contains(c),
                "replication {r}: change {c} was blocked yet deployed"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} drastic actions over the threshold were seen"
    );
}

#[test]
fn the_guard_bounds_the_environment_deletion_that_review_lets_through() {
    // Same seeds in both arms (common random numbers). Without a guard, an agent that
    // escalates to "delete and recreate" takes most users down at least once in ten
    // half-years; with the guard at 5% predicted users, every deletion it lets through is
    // small. Tolerance: the guard's estimate has lognormal noise σ = 0.3, so a true reach
    // up to 5% × e^(3σ) ≈ 12% can pass at three sigmas; no deletion may exceed 15%.
    let s = kiro();
    let seeds: Vec<Seed> = (0..10).map(|r| Seed(s.seed).derive(r)).collect();
    let worst = |name: &str| {
        seeds
            .iter()
            .map(|&seed| worst_deletion(&s, arm(&s, name), seed))
            .fold(0.0, f64::max)
    };
    let autonomous = worst("autonomous");
    let signoff = worst("senior-signoff");
    let guarded = worst("blast-guard");
    assert!(
        autonomous > 0.5,
        "autonomous worst deletion hit {autonomous:.2} of users"
    );
    assert!(
        guarded < 0.15,
        "with the guard the worst deletion hit {guarded:.2} of users"
    );
    assert!(
        guarded < signoff,
        "sign-off {signoff:.2} vs guard {guarded:.2}"
    );
}

#[test]
fn the_misconfiguration_is_what_makes_deletion_possible() {
    // Take destructive rights away from the agents (the fix Amazon made) and no
    // environment is deleted in the autonomous arm: the mechanism, not a scripted outcome.
    let s = kiro();
    let mut world = s.world(arm(&s, "autonomous"), 0).clone();
    for g in &mut world.authors {
        g.permissions = blastsim::model::config::ClassSet(
            g.permissions.0 & !(1 << ActionClass::Destructive.index()),
        );
    }
    let before: f64 = (0..5)
        .map(|r| {
            simulate(s.world(0, 0), Seed(s.seed).derive(r))
                .summary
                .environment_deletions
        })
        .sum();
    let after: f64 = (0..5)
        .map(|r| {
            simulate(&world, Seed(s.seed).derive(r))
                .summary
                .environment_deletions
        })
        .sum();
    assert!(
        before >= 5.0,
        "{before} deletions with the misconfiguration"
    );
    assert_eq!(after, 0.0);
}
