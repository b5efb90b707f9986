//! Scenario files: TOML parsed into raw serde types, then validated into a `Scenario`.
//!
//! Every user mistake becomes a `ScenarioError` with file, line and column; nothing here
//! panics on input. A `Scenario` holds validated types only: one `WorldConfig` per arm
//! and sweep point, and the `[chaos]` spec.
//!
//! `load` is the one place the scenario layer does I/O (the scenario file and the files it
//! references); `parse` is the pure core, given the text and a file reader. Command-line
//! overrides (`with_overrides`) go through the same validation as the file.
//!
//! One module per TOML section, each holding its raw serde types next to their
//! validation: `document` (top level, `[[arms]]`), `infrastructure`, `people` (authors,
//! reviewers, `[review]`), `policies`, `breakers`, `deployment`, `faults`, `invariants`,
//! `objectives`, `sweep`, `sensitivity`, `chaos`; shared value types in `values`, the located-error
//! toolkit in `error`, built-in presets in `presets`.

use std::io;
use std::path::{Path, PathBuf};

use crate::engine::SimDuration;
use crate::model::config::WorldConfig;

pub mod breakers;
pub mod chaos;
pub mod deployment;
pub mod document;
pub mod error;
pub mod faults;
pub mod infrastructure;
pub mod invariants;
pub mod limits;
pub mod objectives;
pub mod people;
pub mod policies;
pub mod presets;
pub mod sensitivity;
pub mod sweep;
pub mod values;

pub use chaos::ChaosSpec;
pub use document::RawScenario;
pub use error::{Located, ScenarioError};
pub use limits::file_stem;
pub use objectives::{Bound, Constraint, Cost, Objectives, Worse};
pub use sweep::{display_value, set_path};

use document::{DocOut, Env};
use error::Ctx;
use sweep::Override;

/// One arm: a policy with a breaker set (and any overrides), compared on common seeds.
#[derive(Clone, Debug)]
pub struct Arm {
    /// Name, unique among arms.
    pub name: String,
    /// One line on what the arm is.
    pub description: String,
    /// Name of its approval policy (a `[[policies]]` entry or a preset).
    pub policy: String,
    /// Names of the breakers switched on, in `[breakers]` kind names.
    pub breakers: Vec<String>,
}

/// One sweep axis: a dotted scenario path and the values it takes.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The dotted path, e.g. "breakers.blast_guard.max_predicted_users".
    pub path: String,
    /// The values as written in the file, displayed.
    pub values: Vec<String>,
}

/// One grid point: a value for every axis.
#[derive(Clone, Debug)]
pub struct Point {
    /// Index in `Scenario::points`.
    pub index: usize,
    /// "path=value, path=value", or "base" when there are no axes.
    pub label: String,
    /// The value of each axis, in axis order.
    pub values: Vec<String>,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name, used for the default results folder.
    pub name: String,
    /// The question the scenario answers, shown at the top of the report.
    pub question: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Hex digest (FNV-1a 64, 16 hex digits) of the scenario text and every file it
    /// references, folded with every command-line override that differs from the file
    /// (see `with_overrides`).
    pub hash: String,
    /// Master seed.
    pub seed: u64,
    /// Replications per arm and point.
    pub replications: u32,
    /// Simulated horizon of each run.
    pub horizon: SimDuration,
    /// Arms, in file order.
    pub arms: Vec<Arm>,
    /// Index of the baseline arm for paired differences.
    pub baseline_arm: usize,
    /// Sweep axes, in file order.
    pub axes: Vec<Axis>,
    /// Grid points (at least one).
    pub points: Vec<Point>,
    /// Frontier metrics and recommendation constraints.
    pub objectives: Objectives,
    /// Calibration sources the scenario cites, for the report.
    pub sources: Vec<String>,
    /// One world per (arm, point), arm-major: `worlds[arm * points.len() + point]`.
    pub worlds: Vec<WorldConfig>,
    /// The validated `[chaos]` spec, when the file has a `[chaos]` table.
    pub chaos: Option<ChaosSpec>,
    /// The `[sensitivity]` ranges, in file order (empty without the section).
    pub sensitivity: Vec<sensitivity::SensitivityEntry>,
    /// The scenario text as read: provenance, re-validated (never re-read) by
    /// `with_overrides` and `reparse`.
    pub source: String,
    /// Every file the scenario references (topology files), with its text, in order of
    /// first reference; re-validation reads these instead of the disk.
    pub referenced_files: Vec<(PathBuf, String)>,
}

/// Command-line settings that replace the file's, validated like the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Settings {
    seed: Option<u64>,
    replications: Option<u32>,
    horizon: Option<SimDuration>,
}

impl Scenario {
    /// The world of one arm at one point.
    pub fn world(&self, arm: usize, point: usize) -> &WorldConfig {
        &self.worlds[arm * self.points.len() + point]
    }

    /// Runs in the whole experiment: arms × points × replications.
    pub fn run_count(&self) -> u64 {
        self.arms.len() as u64 * self.points.len() as u64 * u64::from(self.replications)
    }

    /// The scenario with command-line overrides (`--seed`, `--replications`, `--horizon`
    /// of `run`, `chaos` and `replay`), validated again from `source` with them in place
    /// of the file's values: a zero horizon, zero replications or a fault (or chaos
    /// template) at or after an overridden horizon is an error, as in the file.
    ///
    /// The hash changes with every override that differs from the file, so a results
    /// folder written under different settings is recognised as a different scenario.
    pub fn with_overrides(
        self,
        seed: Option<u64>,
        replications: Option<u32>,
        horizon: Option<SimDuration>,
    ) -> Result<Scenario, ScenarioError> {
        let cli = |message: &str| {
            ScenarioError::Invalid(Located {
                file: PathBuf::from("command line"),
                line: 0,
                column: 0,
                width: 1,
                source_line: String::new(),
                caret: 1,
                message: message.to_string(),
            })
        };
        if replications == Some(0) {
            return Err(cli("--replications must be at least 1"));
        }
        if let Some(r) = replications
            && r > limits::REPLICATIONS_MAX
        {
            return Err(cli(&format!(
                "--replications {r} is over {}",
                limits::named("REPLICATIONS_MAX", limits::REPLICATIONS_MAX)
            )));
        }
        if horizon == Some(SimDuration::ZERO) {
            return Err(cli("--horizon must be longer than zero"));
        }
        if let Some(h) = horizon
            && h > limits::HORIZON_MAX
        {
            return Err(cli(&format!("--horizon: {}", limits::horizon_message(h))));
        }
        let settings = Settings {
            seed,
            replications,
            horizon,
        };
        if settings == Settings::default() {
            return Ok(self);
        }
        let files = self.referenced_files.clone();
        let mut out = parse_with(&self.source, &self.path, from_files(files), settings)?;
        let mut extra = String::new();
        if let Some(s) = seed
            && s != self.seed
        {
            extra.push_str(&format!("\0seed={s}"));
        }
        if let Some(r) = replications
            && r != self.replications
        {
            extra.push_str(&format!("\0replications={r}"));
        }
        if let Some(h) = horizon
            && (h != self.horizon || self.worlds.iter().any(|w| w.horizon != h))
        {
            extra.push_str(&format!("\0horizon_ms={}", h.as_ms()));
        }
        out.hash = self.hash;
        if !extra.is_empty() {
            let mut h = Fnv1a64::new();
            h.write(out.hash.as_bytes());
            h.write(extra.as_bytes());
            out.hash = h.hex();
        }
        Ok(out)
    }

    /// The scenario document as written (a fresh parse of `source`), for callers that
    /// derive a changed document to `reparse`.
    pub fn document(&self) -> toml::Table {
        toml::from_str(&self.source).expect("the source parsed when the scenario was validated")
    }

    /// Validates `doc` (usually `document()` with changes, see `set_path`) as if it were
    /// this scenario's file; referenced files are read from `referenced_files`.
    ///
    /// Locations in errors refer to the re-serialised document, not the original file.
    pub fn reparse(&self, doc: &toml::Table) -> Result<Scenario, ScenarioError> {
        let text = toml::to_string(doc).map_err(|e| ScenarioError::Read {
            path: self.path.clone(),
            message: format!("cannot write the document back as toml: {e}"),
        })?;
        parse(&text, &self.path, from_files(self.referenced_files.clone()))
    }
}

/// A file reader over files already read.
fn from_files(files: Vec<(PathBuf, String)>) -> impl Fn(&Path) -> io::Result<String> {
    move |p: &Path| {
        files
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not referenced before"))
    }
}

/// FNV-1a, 64 bits: a tiny, stable, documented hash (not cryptographic; it only has to
/// tell inputs apart, and its output is fixed by its definition, unlike `DefaultHasher`).
struct Fnv1a64(u64);

impl Fnv1a64 {
    fn new() -> Self {
        Fnv1a64(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The scenario hash: FNV-1a 64 over the scenario text, then for every referenced file
/// its path, a zero byte, its length and its bytes (so moving bytes between files changes
/// the hash too).
fn scenario_hash(text: &str, files: &[(PathBuf, String)]) -> String {
    let mut h = Fnv1a64::new();
    h.write(text.as_bytes());
    for (p, t) in files {
        h.write(b"\0");
        h.write(p.to_string_lossy().as_bytes());
        h.write(b"\0");
        h.write(&(t.len() as u64).to_le_bytes());
        h.write(t.as_bytes());
    }
    h.hex()
}

/// Reads and validates a scenario file and every file it references.
///
/// Reads at most `SCENARIO_BYTES_MAX` bytes of the scenario and `TOPOLOGY_BYTES_MAX` of
/// each topology file, so a huge file or a device is refused at once.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = limits::read_bounded(path, limits::SCENARIO_BYTES_MAX, "SCENARIO_BYTES_MAX")
        .map_err(|e| ScenarioError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    parse(&text, path, |p: &Path| {
        limits::read_bounded(p, limits::TOPOLOGY_BYTES_MAX, "TOPOLOGY_BYTES_MAX")
    })
}

/// A toml parse or type error, located where toml says.
fn toml_error(cx: Ctx<'_>, e: &toml::de::Error) -> ScenarioError {
    let span = e.span().unwrap_or(0..0);
    cx.err(span, e.message().trim_end().to_string())
}

/// Validates scenario `text` (from `path`), reading referenced files with `read_file`.
///
/// Pure apart from `read_file`: tests pass an in-memory map.
pub fn parse(
    text: &str,
    path: &Path,
    read_file: impl Fn(&Path) -> io::Result<String>,
) -> Result<Scenario, ScenarioError> {
    parse_with(text, path, read_file, Settings::default())
}

/// `parse` with command-line `settings` in place of the file's values.
fn parse_with(
    text: &str,
    path: &Path,
    read_file: impl Fn(&Path) -> io::Result<String>,
    settings: Settings,
) -> Result<Scenario, ScenarioError> {
    let cx = Ctx { file: path, text };
    if text.len() as u64 > limits::SCENARIO_BYTES_MAX {
        return Err(ScenarioError::Read {
            path: path.to_path_buf(),
            message: format!(
                "the file is larger than {} bytes ({})",
                limits::SCENARIO_BYTES_MAX,
                limits::named("SCENARIO_BYTES_MAX", limits::SCENARIO_BYTES_MAX)
            ),
        });
    }
    if let Some((line, start)) = limits::long_line(text, limits::LINE_BYTES_MAX) {
        return Err(cx.err(
            start..start + 1,
            format!(
                "line {line} is longer than {} bytes ({})",
                limits::LINE_BYTES_MAX,
                limits::named("LINE_BYTES_MAX", limits::LINE_BYTES_MAX)
            ),
        ));
    }
    let raw: RawScenario = toml::from_str(text).map_err(|e| toml_error(cx, &e))?;
    let doc: toml::Table = toml::from_str(text).map_err(|e| toml_error(cx, &e))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut env = Env::new(&read_file, base_dir);
    env.horizon = settings.horizon;

    let name = raw.name.get();
    let name_ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(cx.err(
            raw.name.span(),
            format!("invalid scenario name {name:?}: it names the results folder, so use only letters, digits, '-', '_' and '.'"),
        ));
    }
    if *raw.replications.get() == 0 {
        return Err(cx.err(raw.replications.span(), "replications must be at least 1"));
    }
    if *raw.replications.get() > limits::REPLICATIONS_MAX {
        return Err(cx.err(
            raw.replications.span(),
            format!(
                "replications = {} is over {}",
                raw.replications.get(),
                limits::named("REPLICATIONS_MAX", limits::REPLICATIONS_MAX)
            ),
        ));
    }
    let base = document::validate_doc(&raw, cx, &mut env)?;
    let arm_names: Vec<&str> = base.arms.iter().map(|a| a.name.as_str()).collect();
    let objectives = objectives::objectives(cx, raw.objectives.as_ref(), &arm_names)?;
    let baseline_arm = match &raw.baseline {
        Some(b) => {
            let names: Vec<&str> = base.arms.iter().map(|a| a.name.as_str()).collect();
            names
                .iter()
                .position(|n| *n == b.get().as_str())
                .ok_or_else(|| {
                    cx.err(
                        b.span(),
                        error::unknown_name("baseline arm", b.get(), &names),
                    )
                })?
        }
        None => 0,
    };
    let grid = sweep::grid(cx, raw.sweep.as_ref(), &doc)?;
    // Sizes are checked before one world per arm and point is built.
    let configurations = base.arms.len() as u64 * grid.points.len() as u64;
    let sweep_span = raw.sweep.as_ref().map_or(0..0, error::Loc::span);
    if configurations > limits::CONFIGURATIONS_MAX {
        return Err(cx.err(
            sweep_span,
            format!(
                "{} arms x {} points = {configurations} configurations, over {}; use \
                 fewer arms or sweep points, or split them over several scenario files",
                base.arms.len(),
                grid.points.len(),
                limits::named("CONFIGURATIONS_MAX", limits::CONFIGURATIONS_MAX)
            ),
        ));
    }
    let replications = settings.replications.unwrap_or(*raw.replications.get());
    let runs = configurations * u64::from(replications);
    if runs > limits::RUNS_MAX {
        let message = limits::runs_message(runs, replications);
        return Err(if settings.replications.is_some() {
            ScenarioError::Invalid(Located::at_line_col(
                Path::new("command line"),
                "",
                0,
                0,
                format!("with --replications: {message}"),
            ))
        } else {
            cx.err(raw.replications.span(), message)
        });
    }
    let mut arm_sets: Vec<Vec<Override>> = Vec::with_capacity(base.arms.len());
    for a in &raw.arms {
        arm_sets.push(sweep::arm_overrides(
            cx,
            a.name.get(),
            a.set.as_ref(),
            &doc,
        )?);
    }
    arm_sets.resize(base.arms.len(), Vec::new());

    let n_points = grid.points.len();
    let mut worlds: Vec<Option<WorldConfig>> = vec![None; base.arms.len() * n_points];
    for (p, point_overrides) in grid.overrides.iter().enumerate() {
        // Arms without their own overrides share one validation of the point.
        let shared = if point_overrides.is_empty() {
            None
        } else if arm_sets.iter().any(Vec::is_empty) {
            Some(revalidate(cx, &doc, point_overrides, &mut env)?)
        } else {
            None
        };
        for (a, set) in arm_sets.iter().enumerate() {
            let world = if set.is_empty() {
                shared.as_ref().unwrap_or(&base).world(a)
            } else {
                let mut all = point_overrides.clone();
                all.extend(set.iter().cloned());
                revalidate(cx, &doc, &all, &mut env)?.world(a)
            };
            worlds[a * n_points + p] = Some(world);
        }
    }
    let arms = base
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| Arm {
            name: a.name.clone(),
            description: a.description.clone(),
            policy: raw
                .arms
                .get(i)
                .map_or_else(|| a.policy.name.clone(), |r| r.policy.get().clone()),
            breakers: raw.arms.get(i).map_or_else(Vec::new, |r| {
                r.breakers.iter().map(|b| b.get().clone()).collect()
            }),
        })
        .collect();
    let chaos = match &raw.chaos {
        Some(c) => {
            let names: Vec<&str> = base.arms.iter().map(|a| a.name.as_str()).collect();
            let world = base.world(0);
            Some(chaos::validate(
                cx,
                c,
                &names,
                &world,
                settings.horizon.is_some(),
            )?)
        }
        None => None,
    };
    let sensitivity =
        sensitivity::entries(cx, raw.sensitivity.as_ref(), &doc, &grid.axes, &mut env)?;
    let hash = scenario_hash(text, &env.files);
    Ok(Scenario {
        name: name.clone(),
        question: raw.question.clone(),
        path: path.to_path_buf(),
        hash,
        seed: settings.seed.unwrap_or(raw.seed),
        replications: settings.replications.unwrap_or(*raw.replications.get()),
        horizon: base.common.horizon,
        arms,
        baseline_arm,
        axes: grid.axes,
        points: grid.points,
        objectives,
        sources: raw.sources.clone(),
        worlds: worlds
            .into_iter()
            .map(|w| w.expect("every (arm, point) is filled"))
            .collect(),
        chaos,
        sensitivity,
        source: text.to_string(),
        referenced_files: env.files,
    })
}

/// Validates the document with `overrides` applied; an error is relocated to the
/// override that caused it (tried one at a time) in the original file.
fn revalidate(
    cx: Ctx<'_>,
    doc: &toml::Table,
    overrides: &[Override],
    env: &mut Env<'_>,
) -> Result<DocOut, ScenarioError> {
    let err = match try_overrides(cx.file, doc, overrides, env) {
        Ok(out) => return Ok(out),
        Err(e) => e,
    };
    let culprit = if overrides.len() == 1 {
        Some(&overrides[0])
    } else {
        overrides
            .iter()
            .find(|o| try_overrides(cx.file, doc, std::slice::from_ref(*o), env).is_err())
    };
    let inner = if err.file() == cx.file {
        err.message().to_string()
    } else {
        // An error in a referenced file keeps its own location in the message.
        err.to_string().lines().next().unwrap_or("").to_string()
    };
    let (o, context) = match culprit {
        Some(o) => (o, o.describe()),
        None => {
            let all: Vec<String> = overrides.iter().map(Override::describe).collect();
            (
                &overrides[0],
                format!("the combination {}", all.join(" with ")),
            )
        }
    };
    Err(cx.err(o.value_span.clone(), format!("{context}: {inner}")))
}

fn try_overrides(
    file: &Path,
    doc: &toml::Table,
    overrides: &[Override],
    env: &mut Env<'_>,
) -> Result<DocOut, ScenarioError> {
    let mut d = doc.clone();
    for o in overrides {
        sweep::set_path(&mut d, &o.path, o.value.clone())
            .map_err(|m| ScenarioError::Invalid(Located::at(file, "", 0..0, m)))?;
    }
    let text = toml::to_string(&d).map_err(|e| {
        ScenarioError::Invalid(Located::at(
            file,
            "",
            0..0,
            format!("cannot apply the value: {e}"),
        ))
    })?;
    let cx = Ctx { file, text: &text };
    let raw: RawScenario = toml::from_str(&text).map_err(|e| toml_error(cx, &e))?;
    document::validate_doc(&raw, cx, env)
}
