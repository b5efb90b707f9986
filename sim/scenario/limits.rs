//! Every limit on what a scenario file or a command-line flag can make large, in one place.
//!
//! Each is refused at validation with a located error that names the limit (the constant
//! below, as `LIMIT_NAME = value`) and, where there is one, the way past it. The numbers
//! keep one run's memory and a whole sweep's well inside 24 GiB and keep `validate` quick;
//! docs/limits.md (the README's "Limits" table) lists them with the same reasons.
//!
//! Limits the graph readers enforce while reading live with them in `model::topology` (the
//! model may not import this layer) and are re-exported here so this file lists them all.

use std::io::{self, Read};
use std::path::Path;

use crate::engine::SimDuration;
use crate::engine::time::MS_PER_DAY;

pub use crate::model::topology::{EDGES_MAX, LINE_BYTES_MAX, SERVICES_MAX};
pub use crate::scenario::error::EXCERPT_CHARS_MAX;

/// Largest scenario file read, in bytes (4 MiB). The largest shipped scenario is a few
/// KiB; a bigger file is almost surely the wrong file (`/dev/zero`, a log), and it is
/// refused after reading this much rather than filling memory.
pub const SCENARIO_BYTES_MAX: u64 = 4 << 20;

/// Largest topology file read, in bytes (1 GiB): a 10^7-line CSV edge list is about
/// 300 MB. The text is kept for provenance, so this also bounds what it costs.
pub const TOPOLOGY_BYTES_MAX: u64 = 1 << 30;

/// Most authors, counted over all groups (each author is simulated as an entity).
/// 10^5 is 100 times the largest shipped organisation.
pub const AUTHORS_MAX: u64 = 100_000;

/// Most reviewers, counted over all groups (each reviewer is an entity with a queue).
pub const REVIEWERS_MAX: u64 = 100_000;

/// Most replications per arm and point (the file's `replications` and `--replications`).
/// Confidence intervals stop narrowing usefully long before.
pub const REPLICATIONS_MAX: u32 = 100_000;

/// Most runs one invocation may plan: arms × points × replications. One row per run is
/// kept for the tables, so this bounds a sweep's memory; more runs are split with
/// `--shard I/N` and joined with `blastsim merge`.
pub const RUNS_MAX: u64 = 10_000_000;

/// Most configurations (arms × sweep points): each is one validated world held for the
/// whole sweep.
pub const CONFIGURATIONS_MAX: u64 = 100_000;

/// Most grid points a sweep may have.
pub const POINTS_MAX: usize = 100_000;

/// Most values one range axis (`{ from, to, step }`) may expand to.
pub const AXIS_VALUES_MAX: usize = 10_000;

/// Longest horizon: 20 years of 365 days. State that grows with simulated time (the
/// timeline, the incident list) stays bounded by it.
pub const HORIZON_MAX: SimDuration = SimDuration::from_ms(20 * 365 * MS_PER_DAY);

/// Most chaos campaigns (`[chaos] campaigns` and `--campaigns`); each campaign runs every
/// chaos arm and replication.
pub const CAMPAIGNS_MAX: u32 = 100_000;

/// Longest arm name, in characters: arm names become file names (`timeline_<arm>.svg`),
/// and file systems refuse names over 255 bytes.
pub const ARM_NAME_CHARS_MAX: usize = 64;

/// Most `[sensitivity]` entries. Each costs at least two more run sets (its low and its
/// high value) and up to eight more when the recommendation flips inside its range (four
/// bisection steps at each end), so 64 entries multiply a run's cost by 129 to 641; the
/// largest shipped section (chaos-policies.toml) has 34.
pub const SENSITIVITY_ENTRIES_MAX: usize = 64;

/// The message for a horizon over `HORIZON_MAX`.
pub(crate) fn horizon_message(h: SimDuration) -> String {
    format!(
        "the horizon {h} is over {} (20 years); a longer horizon answers no question a \
         shorter one with more replications does not",
        named("HORIZON_MAX", HORIZON_MAX)
    )
}

/// The message for `runs` planned runs (of `configurations` arms × points) over `RUNS_MAX`.
pub(crate) fn runs_message(runs: u64, replications: u32) -> String {
    format!(
        "{runs} runs ({replications} replications per arm and point) is over {}; use fewer \
         replications or sweep points, or split the sweep over several scenario files",
        named("RUNS_MAX", RUNS_MAX)
    )
}

/// A file stem made from an arm name, as the report names its per-arm files
/// (`timeline_<stem>.svg`): ASCII letters and digits lowercased, `-` and `_` kept, every
/// other character `-`; "arm" for an empty name. Validation refuses two arms with the same
/// stem, so one arm's chart can never stand under another's caption.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "arm".to_string() } else { s }
}

/// "`NAME` = value" for messages, so every refusal names its limit the same way.
pub(crate) fn named(name: &str, value: impl std::fmt::Display) -> String {
    format!("the limit {name} = {value}")
}

/// Reads at most `max` bytes of `path` as text; a longer file is an error saying so,
/// without reading the rest (so `/dev/zero` is refused at once).
pub fn read_bounded(path: &Path, max: u64, name: &str) -> io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the file is larger than {} bytes ({})",
                max,
                named(name, max)
            ),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the file is not UTF-8 text"))
}

/// The first line of `text` longer than `max` bytes, as (1-based line, byte offset of
/// its start).
pub(crate) fn long_line(text: &str, max: usize) -> Option<(usize, usize)> {
    let mut start = 0;
    for (i, line) in text.split('\n').enumerate() {
        if line.len() > max {
            return Some((i + 1, start));
        }
        start += line.len() + 1;
    }
    None
}
