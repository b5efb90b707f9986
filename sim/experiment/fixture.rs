//! A small hand-built scenario and a synthetic simulator, for tests and benches of the
//! experiment machinery.
//!
//! They exist so the runner, statistics, journal and merge can be exercised on outputs
//! that vary with the seed, the arm and the point, independently of the real model. They
//! are not a model of anything: `synthetic_simulate` draws plausible-looking numbers from
//! the run's seed streams (a shared component per replication, so arms are correlated the
//! way common random numbers make real arms correlated).

use std::sync::Arc;

use rand::RngExt;
use rand_distr::{Distribution, Normal};

use crate::engine::{Seed, SimDuration, SimTime, StopReason, splitmix64};
use crate::metrics::{DayStats, IncidentRecord, RunOutput, RunSummary};
use crate::model::config::{
    ActionClass, AuthorGroup, AuthorKind, BreakerConfig, ClassSet, ClassTable, DeployConfig, Flow,
    IncidentConfig, InfraConfig, Invariants, LoadEffect, Pipeline, Policy, QueueDiscipline,
    Requirement, ReviewerConfig, ReviewerGroup, Rework, Rule, Seniority, Severity, SeverityMix,
    SizeEffect, WorldConfig,
};
use crate::model::dist::{DurationDist, SizeDist};
use crate::model::graph::{EdgeKind, ServiceGraph, ServiceGraphBuilder, ServiceId, ServiceSpec};
use crate::scenario::{Arm, Axis, Objectives, Point, Scenario};

/// A layered graph of `n` services: service i depends on i+1 and i+2 (hard, then soft).
pub fn demo_graph(n: u32) -> ServiceGraph {
    let mut b = ServiceGraphBuilder::new();
    for i in 0..n {
        b.add_service(ServiceSpec {
            name: format!("svc-{i}"),
            weight: f64::from(n - i),
            tier: (i % 3) as u8,
            cells: 1,
        });
    }
    for i in 0..n {
        if i + 1 < n {
            b.add_edge(ServiceId(i), ServiceId(i + 1), EdgeKind::Hard, i % 4 == 0);
        }
        if i + 2 < n {
            b.add_edge(ServiceId(i), ServiceId(i + 2), EdgeKind::Soft, false);
        }
    }
    b.build()
}

fn demo_world(
    graph: &Arc<ServiceGraph>,
    policy: &str,
    seniors: u32,
    horizon: SimDuration,
) -> WorldConfig {
    let mix = ClassTable([0.0, 0.6, 0.25, 0.13, 0.02]);
    let severity = SeverityMix {
        local: 0.8,
        cascading: 0.15,
        environment_deletion: 0.05,
    };
    let review_time = DurationDist::Lognormal {
        median: SimDuration::from_mins(30),
        sigma: 0.8,
    };
    WorldConfig {
        horizon,
        events_max: 10_000_000,
        infra: InfraConfig {
            graph: Arc::clone(graph),
            soft_propagation: 0.3,
            overload_alpha: None,
        },
        authors: vec![
            AuthorGroup {
                name: "agents".to_string(),
                kind: AuthorKind::Agent,
                count: 10,
                tasks_per_day: 8.0,
                hours: None,
                mix,
                defect_probability: ClassTable([0.0, 0.08, 0.05, 0.10, 0.5]),
                severity: ClassTable([severity; 5]),
                size: SizeDist {
                    median_loc: 80.0,
                    sigma: 1.0,
                },
                permissions: ClassSet::ALL,
                task_success: 0.9,
                max_attempts: 3,
                escalation: None,
                rework: Rework {
                    probability: 0.8,
                    delay: DurationDist::Fixed(SimDuration::from_hours(1)),
                },
                flow: Flow::OPEN,
            },
            AuthorGroup {
                name: "humans".to_string(),
                kind: AuthorKind::Human,
                count: 5,
                tasks_per_day: 2.0,
                hours: None,
                mix,
                defect_probability: ClassTable([0.0, 0.05, 0.03, 0.05, 0.2]),
                severity: ClassTable([severity; 5]),
                size: SizeDist {
                    median_loc: 120.0,
                    sigma: 1.0,
                },
                permissions: ClassSet::EMPTY
                    .with(ActionClass::Code)
                    .with(ActionClass::Config),
                task_success: 0.95,
                max_attempts: 3,
                escalation: None,
                rework: Rework {
                    probability: 0.9,
                    delay: DurationDist::Fixed(SimDuration::from_hours(2)),
                },
                flow: Flow::OPEN,
            },
        ],
        reviewers: ReviewerConfig {
            groups: vec![ReviewerGroup {
                name: "senior".to_string(),
                seniority: Seniority::Senior,
                count: seniors,
                review_time,
                detection: ClassTable([0.0, 0.7, 0.7, 0.75, 0.8]),
                hours: None,
                from_authors: None,
            }],
            load: LoadEffect {
                queue_above: 10,
                detection_factor: 0.3,
            },
            size: SizeEffect {
                above_loc: 400,
                detection_factor: 0.5,
            },
            false_rejection: 0.02,
            lines_per_hour: None,
            discipline: QueueDiscipline::Fifo,
        },
        policy: Policy {
            name: policy.to_string(),
            rules: vec![Rule {
                when: Default::default(),
                require: Requirement::Peer,
            }],
            auto_approve_after: None,
        },
        breakers: BreakerConfig::default(),
        deploy: DeployConfig::Direct,
        pipeline: Pipeline::default(),
        incidents: IncidentConfig {
            detection: DurationDist::Exponential {
                mean: SimDuration::from_mins(10),
            },
            rollback: DurationDist::Fixed(SimDuration::from_mins(45)),
            rebuild: DurationDist::Fixed(SimDuration::from_hours(10)),
            restart_step: SimDuration::from_mins(5),
            responders: 2,
        },
        faults: Vec::new(),
        invariants: Invariants::default(),
    }
}

/// A scenario with `arms` arms ("arm-0" is the baseline), `points` grid points on the axis
/// `reviewers.senior.count` (values 4, 8, 12, …) over a 12-service graph, and a 14-day
/// horizon. Its hash is derived from its shape and seed.
pub fn demo_scenario(arms: usize, points: usize, replications: u32, seed: u64) -> Scenario {
    assert!(
        arms >= 1 && points >= 1,
        "a scenario needs an arm and a point"
    );
    let graph = Arc::new(demo_graph(12));
    let horizon = SimDuration::from_days(14);
    let values: Vec<String> = (0..points).map(|p| (4 * (p + 1)).to_string()).collect();
    let mut worlds = Vec::new();
    for a in 0..arms {
        for v in &values {
            let seniors = v.parse().expect("values are whole numbers");
            worlds.push(demo_world(&graph, &format!("arm-{a}"), seniors, horizon));
        }
    }
    Scenario {
        name: "demo".to_string(),
        question: "Does the experiment machinery work?".to_string(),
        path: "demo.toml".into(),
        hash: format!("demo-{arms}-{points}"),
        seed,
        replications,
        horizon,
        arms: (0..arms)
            .map(|a| Arm {
                name: format!("arm-{a}"),
                description: format!("synthetic arm {a}"),
                policy: "peer-review".to_string(),
                breakers: Vec::new(),
            })
            .collect(),
        baseline_arm: 0,
        axes: vec![Axis {
            path: "reviewers.senior.count".to_string(),
            values: values.clone(),
        }],
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                index: i,
                label: format!("reviewers.senior.count={v}"),
                values: vec![v.clone()],
            })
            .collect(),
        objectives: Objectives::new("deploys_per_day", "user_impact_min_total"),
        sources: vec!["docs/calibration.md".to_string()],
        worlds,
        chaos: None,
        sensitivity: Vec::new(),
        source: String::new(),
        referenced_files: Vec::new(),
    }
}

/// A synthetic run: numbers drawn from the seed, shifted by the arm (policy name) and the
/// point (senior reviewer count). Pure, like the real `simulate`.
pub fn synthetic_simulate(world: &WorldConfig, seed: Seed) -> RunOutput {
    synthetic_simulate_with_work(world, seed, 0)
}

/// As `synthetic_simulate`, after `work` rounds of busy arithmetic (a stand-in for model
/// cost when measuring the runner's parallel speed-up).
pub fn synthetic_simulate_with_work(world: &WorldConfig, seed: Seed, work: u64) -> RunOutput {
    let mut spin = seed.0;
    for i in 0..work {
        spin = splitmix64(spin ^ i);
    }
    let arm_effect = world
        .policy
        .name
        .bytes()
        .fold(0u64, |h, b| splitmix64(h ^ u64::from(b)))
        % 100;
    let seniors = world.reviewers.groups.first().map_or(0, |g| g.count);
    let std_normal = Normal::new(0.0, 1.0).expect("unit normal is valid");
    // The shared stream: identical in every arm and point for this replication.
    let mut shared = seed.stream(1, 0);
    let mut own = seed.stream(2, arm_effect);
    let common = std_normal.sample(&mut shared);
    let noise = std_normal.sample(&mut own);

    let days = world.horizon.as_days_f64().ceil().max(1.0) as u32;
    let n_services = world.infra.graph.len() as u32;
    let incidents_n = shared.random_range(0..4u32);
    let mut incidents = Vec::new();
    for k in 0..incidents_n {
        let started_ms = shared.random_range(0..world.horizon.as_ms().max(1));
        let severity = [
            Severity::Local,
            Severity::Cascading,
            Severity::EnvironmentDeletion,
        ][shared.random_range(0..3usize)];
        let impact = 10.0 * f64::from(k + 1) * (1.0 + shared.random::<f64>()) + arm_effect as f64;
        let started = SimTime(started_ms);
        incidents.push(IncidentRecord {
            change_id: u64::from(k) * 7 + 1,
            author_group: (k % 2) as usize,
            author_kind: if k % 2 == 0 {
                AuthorKind::Agent
            } else {
                AuthorKind::Human
            },
            class: ActionClass::ALL[1 + (k % 4) as usize],
            severity,
            origin: ServiceId(shared.random_range(0..n_services.max(1))),
            started_at: started,
            detected_at: started + SimDuration::from_mins(10),
            restored_at: started + SimDuration::from_mins(45 + u64::from(k)),
            services_hit: 1 + k,
            users_hit_peak: 0.01 * f64::from(k + 1),
            user_impact_min: impact,
            rebuilt: severity == Severity::EnvironmentDeletion,
        });
    }
    let worst_hit = incidents
        .iter()
        .max_by(|a, b| a.user_impact_min.total_cmp(&b.user_impact_min))
        .map(|w| {
            (w.origin.0..(w.origin.0 + w.services_hit).min(n_services))
                .map(ServiceId)
                .collect()
        })
        .unwrap_or_default();
    let day_stats = (0..days)
        .map(|d| DayStats {
            deploys: 40 + (splitmix64(seed.0 ^ u64::from(d)) % 20) as u32,
            incidents: u32::from(d % 5 == 0),
            users_hit_max: 0.001 * f64::from(d),
            user_impact_min: 0.5 * f64::from(d),
            breaker_trips: d % 3,
            freeze_h: 0.25 * f64::from(d % 2),
            kill_switch_h: 0.0,
        })
        .collect();
    let mut summary = RunSummary {
        deploys_per_day: 50.0 + 3.0 * common + 0.5 * noise + arm_effect as f64 / 10.0
            - f64::from(seniors) / 8.0,
        lead_time_h_p50: 2.0 + 0.2 * common.abs() + f64::from(seniors) / 16.0,
        incidents: f64::from(incidents_n),
        user_impact_min_total: incidents.iter().map(|i| i.user_impact_min).sum(),
        senior_review_h_per_week: f64::from(seniors) * 4.5 + noise.abs(),
        blocks_false: (arm_effect % 7) as f64,
        events: (spin % 1000) as f64,
        ..RunSummary::default()
    };
    summary.user_impact_min_p95 = summary.user_impact_min_total / 2.0;
    RunOutput {
        summary,
        incidents,
        violations: Vec::new(),
        days: day_stats,
        worst_hit,
        fingerprint: splitmix64(seed.0 ^ arm_effect ^ u64::from(seniors)),
        stop: StopReason::Horizon,
    }
}
