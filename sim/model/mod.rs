//! The simulated organisation: dependency graph and cascades, changes and their authors,
//! reviewers and approval policies, breakers, deployment and incidents.
//!
//! Architecture Invariant: the model knows nothing of files, threads or the wall clock.
//! Its input is a `config::WorldConfig`; its output a `metrics::RunOutput`.

pub mod blast;
pub mod breaker;
pub mod calendar;
pub mod cascade;
pub mod change;
pub mod config;
pub mod dist;
pub mod gate;
pub mod graph;
pub mod incident;
pub mod policy;
pub mod reviewers;
pub mod topology;
pub mod world;

pub use world::simulate;
