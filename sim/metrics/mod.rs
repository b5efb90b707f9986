//! Per-run metrics: the streaming collector, the summary it produces, and `run`, which
//! wires a World to a collector (imports run one way: metrics → model → engine).
//!
//! Memory does not grow with the horizon: quantiles come from fixed-size histograms, and
//! only per-incident and per-day records are kept.

pub mod collector;
pub mod run;
pub mod run_output;
pub mod summary;

pub use collector::{Collector, quantile_sorted};
pub use run::{simulate, simulate_traced};
pub use run_output::{DayStats, IncidentRecord, RunOutput, Violation};
pub use summary::{METRICS, MetricDef, RunSummary, violation_metric};
