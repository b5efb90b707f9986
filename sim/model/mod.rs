//! The simulated organisation: dependency graph and cascades, changes and their authors,
//! reviewers and approval policies, breakers, deployment and incidents.
//!
//! Architecture Invariant: the model knows nothing of files, threads, the wall clock or the
//! metrics. Its input is a `config::WorldConfig`; its output the `trace::TraceEvent`s it
//! reports to a `trace::TraceSink` (`metrics::run` wires it to the collector).

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
pub mod trace;
pub mod world;
