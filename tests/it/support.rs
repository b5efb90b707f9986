//! Builders of small, hand-made worlds for the model's tests: every default is stated
//! here, in one place, so each test only says what it changes.

#![allow(dead_code)]

use std::sync::Arc;

use blastsim::engine::SimDuration;
use blastsim::model::config::*;
use blastsim::model::dist::{DurationDist, SizeDist};
use blastsim::model::graph::{EdgeKind, ServiceGraph, ServiceGraphBuilder, ServiceSpec};

/// Minutes.
pub fn mins(n: u64) -> SimDuration {
    SimDuration::from_mins(n)
}

/// Hours.
pub fn hours(n: u64) -> SimDuration {
    SimDuration::from_hours(n)
}

/// A chain of `n` services, service i depending (hard) on i+1; equal weights.
pub fn chain(n: u32) -> ServiceGraph {
    let mut b = ServiceGraphBuilder::new();
    let ids: Vec<_> = (0..n)
        .map(|i| {
            b.add_service(ServiceSpec {
                name: format!("s{i}"),
                weight: 1.0,
                tier: 1,
                cells: 1,
            })
        })
        .collect();
    for w in ids.windows(2) {
        b.add_edge(w[0], w[1], EdgeKind::Hard, false);
    }
    b.build()
}

/// A class table with the same value everywhere.
pub fn all<T: Copy>(v: T) -> ClassTable<T> {
    ClassTable([v; 5])
}

/// A class table that is `v` for one class and `rest` elsewhere.
pub fn only(class: ActionClass, v: f64, rest: f64) -> ClassTable<f64> {
    let mut t = [rest; 5];
    t[class.index()] = v;
    ClassTable(t)
}

/// Severity: always local.
pub fn local() -> ClassTable<SeverityMix> {
    all(SeverityMix {
        local: 1.0,
        cascading: 0.0,
        environment_deletion: 0.0,
    })
}

/// A group of `count` authors doing only code changes, never defective, no rework delay.
pub fn authors(name: &str, kind: AuthorKind, count: u32, tasks_per_day: f64) -> AuthorGroup {
    AuthorGroup {
        name: name.into(),
        kind,
        count,
        tasks_per_day,
        hours: None,
        mix: only(ActionClass::Code, 1.0, 0.0),
        defect_probability: all(0.0),
        severity: local(),
        size: SizeDist {
            median_loc: 24.0,
            sigma: 0.0,
        },
        permissions: ClassSet::ALL,
        task_success: 1.0,
        max_attempts: 1,
        escalation: None,
        rework: Rework {
            probability: 1.0,
            delay: DurationDist::Fixed(SimDuration::ZERO),
        },
        flow: Flow::OPEN,
    }
}

/// A reviewer group around the clock with exponential review times.
pub fn reviewers(name: &str, seniority: Seniority, count: u32, mean: SimDuration) -> ReviewerGroup {
    ReviewerGroup {
        name: name.into(),
        seniority,
        count,
        review_time: DurationDist::Exponential { mean },
        detection: all(0.0),
        hours: None,
        from_authors: None,
    }
}

/// A policy with one catch-all rule.
pub fn policy(name: &str, require: Requirement) -> Policy {
    Policy {
        name: name.into(),
        rules: vec![Rule {
            when: Condition::default(),
            require,
        }],
        auto_approve_after: None,
    }
}

/// A world on `graph` with the given authors and reviewers, peer review for everything,
/// direct deployment, no breakers, no faults.
pub fn world(
    graph: ServiceGraph,
    authors: Vec<AuthorGroup>,
    groups: Vec<ReviewerGroup>,
) -> WorldConfig {
    WorldConfig {
        horizon: SimDuration::from_days(30),
        events_max: u64::MAX,
        infra: InfraConfig {
            graph: Arc::new(graph),
            soft_propagation: 0.0,
            overload_alpha: None,
        },
        authors,
        reviewers: ReviewerConfig {
            groups,
            load: LoadEffect {
                queue_above: u32::MAX,
                detection_factor: 1.0,
            },
            size: SizeEffect {
                above_loc: u32::MAX,
                detection_factor: 1.0,
            },
            false_rejection: 0.0,
            lines_per_hour: None,
            discipline: QueueDiscipline::Fifo,
        },
        policy: policy("peer", Requirement::Peer),
        breakers: BreakerConfig::default(),
        deploy: DeployConfig::Direct,
        pipeline: Pipeline::default(),
        incidents: IncidentConfig {
            detection: DurationDist::Fixed(mins(10)),
            rollback: DurationDist::Fixed(mins(30)),
            rebuild: DurationDist::Fixed(hours(10)),
            restart_step: mins(5),
            responders: 1,
        },
        faults: Vec::new(),
        invariants: Invariants::default(),
    }
}
