//! Audit: replay real agent action logs through every arm of a scenario.
//!
//! `blastsim audit SCENARIO --log FILE...` reads logged tool calls (Claude Code hook events
//! or the generic JSONL schema), classifies each into blastsim's action classes and maps
//! its target onto a service of the topology, then drives each arm's approval policy,
//! execution gate (the five breakers) and reviewer pool over them in time order: the
//! simulator's own machinery, fed real actions instead of simulated ones.
//!
//! Submodules: `lines` (bounded line reader), `log` (normalised actions, merging, reorder),
//! `claude_code` and `generic` (the two formats).

pub mod claude_code;
pub mod generic;
pub mod lines;
pub mod classify;
pub mod log;
pub mod permissions;
