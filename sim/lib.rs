//! blastsim: a deterministic discrete-event simulator and chaos harness for governing
//! autonomous coding agents.
//!
//! It models agents and humans proposing changes, reviewers approving them, automated
//! circuit breakers stopping an agent mid-action, and a service dependency graph through
//! which a bad change cascades. It measures velocity against blast radius across approval
//! policies and breaker settings, with confidence intervals.
//!
//! # Glossary (one word, one meaning)
//!
//! - **World**: the simulated organisation of one run (`model::World`).
//! - **Scenario**: a validated input file (`scenario::Scenario`).
//! - **Arm**: one approval policy with one breaker set, compared on common seeds.
//! - **Sweep**: a grid of **Points**, each a value for every swept scenario path.
//! - **Run**: one (arm, point, replication, seed); its row is a `metrics::RunSummary`.
//! - **Change**: one attempt by an author at a **Task**; it has an action class and a
//!   latent truth (defective or not, and how bad).
//! - **Incident**: the outage a defective change causes; its **blast radius** is services
//!   hit, peak share of users hit and user-impact minutes.
//! - **Breaker**: an automated check at execution time (per-agent breaker, blast-radius
//!   guard, rate limiter, error-budget freeze, kill switch).
//! - **bench**: a criterion benchmark, and nothing else.
//!
//! # Map
//!
//! `cli → pipeline → report / chaos → experiment → scenario → metrics → model → engine`.
//! The arrows point one way (the tidy test enforces them); only `cli` prints or exits;
//! only `pipeline`, `report` and `scenario` (reading the files a scenario names) do file
//! I/O.

#![warn(missing_docs, unreachable_pub)]

pub mod audit;
pub mod chaos;
pub mod cli;
pub mod engine;
pub mod experiment;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod scenario;
