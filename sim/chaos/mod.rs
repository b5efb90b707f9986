//! The chaos harness: random fault campaigns against a scenario's invariants, shrinking
//! of failing fault schedules, exact replay of one run, and the causal story of its worst
//! incident.
//!
//! - `schedule`: drawing a fault schedule from `[chaos]` templates, and writing faults
//!   back as words and as `[[faults]]` TOML.
//! - `campaign`: running every (campaign, arm) in parallel and collecting the violations.
//! - `shrink`: cutting a failing schedule down to a minimal one that still fails.
//! - `replay`: which arm, point, replication and seed a run id names.
//! - `story`: the causal story of the worst incident of a trace, for a policy designer.
//! - `report`: the text of `chaos.md`.
//!
//! Architecture Invariant: nothing here reads files, the clock or the environment; every
//! result is a function of the scenario and the seed, whatever the thread count.

pub mod campaign;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod shrink;
pub mod story;

pub use campaign::{CampaignRun, Finding, Plan, Target, findings, run_campaigns};
pub use replay::locate;
pub use schedule::{DrawnFault, describe_fault, draw_schedule, fault_toml, world_with};
pub use shrink::{Shrunk, shrink};
pub use story::story;
