//! Raw scenario → trusted model configuration, with a located error for every mistake.
//!
//! `validate_doc` checks one parsed document and returns everything a world needs for
//! each arm. The scenario layer calls it once for the file as written, and again for every
//! sweep point and arm override (on the document with the overrides applied), so a swept
//! value gets exactly the checks a written value gets.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::SimDuration;
use crate::metrics::METRICS;
use crate::model::config::{
    ActionClass, AgentBreakerConfig, AuthorGroup, AuthorKind, BlastGuardConfig, BreakerConfig,
    BreakerWindow, BurnWindow, ClassSet, ClassTable, Condition, DeployConfig, ErrorBudgetConfig,
    Escalation, FailureKinds, Fault, FaultKind, GuardAction, IncidentConfig, InfraConfig,
    Invariants, KillScope, KillSwitchConfig, KillTrigger, LoadEffect, Policy, RateLimitConfig,
    Requirement, ReviewerConfig, ReviewerGroup, Rework, Rule, Seniority, SeverityMix, SizeEffect,
    TokenRate, Wave, WorkingHours, WorldConfig,
};
use crate::model::dist::{DurationDist, SizeDist};
use crate::model::graph::ServiceGraph;
use crate::model::topology::{self, FileFormat, TopologyOptions, TopologySpec};
use crate::scenario::error::{Located, ScenarioError, list_names, suggest};
use crate::scenario::presets;
use crate::scenario::raw::*;
use crate::scenario::{Constraint, Objectives};

/// Tolerance on "sums to 1" checks.
pub const SUM_TOLERANCE: f64 = 1e-9;

/// Where errors point: the file and its text.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a Path,
    pub(crate) text: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid(Located::at(self.file, self.text, span, message))
    }

    pub(crate) fn err_at<T>(&self, loc: &Loc<T>, message: impl Into<String>) -> ScenarioError {
        self.err(loc.span(), message)
    }
}

type R<T> = Result<T, ScenarioError>;

/// What validation reads and builds beyond the document: referenced files and graphs.
pub(crate) struct Env<'r> {
    pub(crate) read_file: &'r dyn Fn(&Path) -> io::Result<String>,
    /// Directory of the scenario file; relative paths are resolved against it.
    pub(crate) base_dir: PathBuf,
    /// Every referenced file read so far, in order of first reference.
    pub(crate) files: Vec<(PathBuf, String)>,
    /// Graphs built so far, one per distinct (spec, options).
    graphs: Vec<(TopologySpec, TopologyOptions, Arc<ServiceGraph>)>,
}

impl<'r> Env<'r> {
    pub(crate) fn new(
        read_file: &'r dyn Fn(&Path) -> io::Result<String>,
        base_dir: PathBuf,
    ) -> Self {
        Env {
            read_file,
            base_dir,
            files: Vec::new(),
            graphs: Vec::new(),
        }
    }

    /// Reads a referenced file once; later references reuse the text.
    fn read(&mut self, path: &Path) -> io::Result<String> {
        if let Some((_, text)) = self.files.iter().find(|(p, _)| p == path) {
            return Ok(text.clone());
        }
        let text = (self.read_file)(path)?;
        self.files.push((path.to_path_buf(), text.clone()));
        Ok(text)
    }
}

/// One arm resolved against a document.
#[derive(Clone, Debug)]
pub(crate) struct ArmOut {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) policy: Policy,
    pub(crate) breakers: BreakerConfig,
}

/// Everything one document yields: the shared organisation and the arms over it.
#[derive(Clone, Debug)]
pub(crate) struct DocOut {
    pub(crate) common: WorldConfig,
    pub(crate) arms: Vec<ArmOut>,
}

impl DocOut {
    /// The world of arm `arm`.
    pub(crate) fn world(&self, arm: usize) -> WorldConfig {
        let mut w = self.common.clone();
        w.policy = self.arms[arm].policy.clone();
        w.breakers = self.arms[arm].breakers.clone();
        w
    }
}

/// Validates a whole document into its organisation and arms.
pub(crate) fn validate_doc(raw: &RawScenario, cx: Ctx<'_>, env: &mut Env<'_>) -> R<DocOut> {
    let horizon = duration(cx, &raw.horizon)?;
    if horizon == SimDuration::ZERO {
        return Err(cx.err_at(&raw.horizon, "the horizon must be longer than zero"));
    }
    let events_max = match &raw.events_max {
        Some(e) if *e.get() == 0 => return Err(cx.err_at(e, "events_max must be at least 1")),
        Some(e) => *e.get(),
        None => presets::EVENTS_MAX_DEFAULT,
    };
    let (infra, incidents) = infrastructure(cx, env, &raw.infrastructure)?;
    let authors = authors(cx, &raw.authors)?;
    let reviewers = reviewers(cx, &raw.reviewers, raw.review.as_ref())?;
    let policies = policies(cx, &raw.policies, &raw.authors)?;
    let breakers = breakers(cx, raw.breakers.as_ref())?;
    let deploy = deployment(cx, raw.deployment.as_ref())?;
    let faults = faults(cx, &raw.faults, &raw.authors, &raw.reviewers, horizon)?;
    let invariants = invariants(cx, raw.invariants.as_ref())?;
    let arms = arms(cx, raw, &policies, &breakers, &reviewers)?;
    let common = WorldConfig {
        horizon,
        events_max,
        infra,
        authors,
        reviewers,
        policy: presets::policy("autonomous").expect("preset exists"),
        breakers: BreakerConfig::default(),
        deploy,
        incidents,
        faults,
        invariants,
    };
    Ok(DocOut { common, arms })
}

// ---------------------------------------------------------------------------------------
// Scalars.

fn finite(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = *v.get();
    if !x.is_finite() {
        return Err(cx.err_at(v, format!("{what} must be a finite number, got {x}")));
    }
    Ok(x)
}

pub(crate) fn prob(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = finite(cx, v, what)?;
    if !(0.0..=1.0).contains(&x) {
        return Err(cx.err_at(
            v,
            format!("{what} must be a probability between 0 and 1, got {x}"),
        ));
    }
    Ok(x)
}

pub(crate) fn nonneg(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = finite(cx, v, what)?;
    if x < 0.0 {
        return Err(cx.err_at(v, format!("{what} must be at least 0, got {x}")));
    }
    Ok(x)
}

fn positive(cx: Ctx<'_>, v: &Loc<f64>, what: &str) -> R<f64> {
    let x = finite(cx, v, what)?;
    if x <= 0.0 {
        return Err(cx.err_at(v, format!("{what} must be greater than 0, got {x}")));
    }
    Ok(x)
}

fn at_least_one(cx: Ctx<'_>, v: &Loc<u32>, what: &str) -> R<u32> {
    if *v.get() == 0 {
        return Err(cx.err_at(v, format!("{what} must be at least 1, got 0")));
    }
    Ok(*v.get())
}

/// Parses a duration string, located at the string.
pub(crate) fn duration(cx: Ctx<'_>, v: &Loc<String>) -> R<SimDuration> {
    SimDuration::parse(v.get()).map_err(|e| cx.err_at(v, e.to_string()))
}

pub(crate) fn positive_duration(cx: Ctx<'_>, v: &Loc<String>, what: &str) -> R<SimDuration> {
    let d = duration(cx, v)?;
    if d == SimDuration::ZERO {
        return Err(cx.err_at(v, format!("{what} must be longer than zero")));
    }
    Ok(d)
}

/// Checks `name` is one of `valid`; the error lists them and the nearest one.
pub(crate) fn one_of<'v>(
    cx: Ctx<'_>,
    v: &Loc<String>,
    what: &str,
    valid: &[&'v str],
) -> R<&'v str> {
    match valid.iter().find(|n| **n == v.get().as_str()) {
        Some(n) => Ok(n),
        None => Err(cx.err_at(v, unknown_name(what, v.get(), valid))),
    }
}

/// "unknown policy `x` (did you mean `y`?); expected `a`, `b` or `c`".
pub(crate) fn unknown_name<S: AsRef<str>>(what: &str, name: &str, valid: &[S]) -> String {
    let names: Vec<&str> = valid.iter().map(|s| s.as_ref()).collect();
    let hint = match suggest(name, names.iter().copied()).first() {
        Some(n) => format!(" (did you mean `{n}`?)"),
        None => String::new(),
    };
    format!(
        "unknown {what} `{name}`{hint}; expected {}",
        list_names(&names)
    )
}

pub(crate) fn class_by_name(cx: Ctx<'_>, v: &Loc<String>) -> R<ActionClass> {
    ActionClass::from_name(v.get()).ok_or_else(|| {
        let valid: Vec<&str> = ActionClass::ALL.iter().map(|c| c.name()).collect();
        cx.err_at(v, unknown_name("action class", v.get(), &valid))
    })
}

// ---------------------------------------------------------------------------------------
// Distributions and calendars.

/// Validates a duration distribution.
pub(crate) fn dist(cx: Ctx<'_>, v: &Loc<RawDist>) -> R<DurationDist> {
    Ok(match v.get() {
        RawDist::Fixed(d) => DurationDist::Fixed(duration(cx, d)?),
        RawDist::Exponential { mean } => DurationDist::Exponential {
            mean: duration(cx, mean)?,
        },
        RawDist::Lognormal { median, sigma } => DurationDist::Lognormal {
            median: duration(cx, median)?,
            sigma: nonneg(cx, sigma, "sigma")?,
        },
        RawDist::Uniform { min, max } => {
            let lo = duration(cx, min)?;
            let hi = duration(cx, max)?;
            if lo > hi {
                return Err(cx.err_at(
                    max,
                    format!("the uniform maximum ({hi}) is below its minimum ({lo})"),
                ));
            }
            DurationDist::Uniform { min: lo, max: hi }
        }
    })
}

fn clock(cx: Ctx<'_>, v: &Loc<String>) -> R<u32> {
    let bad = || {
        cx.err_at(
            v,
            format!(
                "invalid time of day {:?}; expected \"HH:MM\" between \"00:00\" and \"24:00\"",
                v.get()
            ),
        )
    };
    let (h, m) = v.get().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    let m: u32 = m.trim().parse().map_err(|_| bad())?;
    if h > 24 || m >= 60 || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn days(cx: Ctx<'_>, v: &Loc<String>) -> R<u8> {
    let day = |s: &str| -> R<usize> {
        let s = s.trim().to_ascii_lowercase();
        DAY_NAMES.iter().position(|d| *d == s).ok_or_else(|| {
            cx.err_at(
                v,
                format!(
                    "unknown day `{s}` in {:?}; expected days such as \"mon-fri\" or \"mon,wed,fri\" from {}",
                    v.get(),
                    list_names(&DAY_NAMES)
                ),
            )
        })
    };
    let mut mask = 0u8;
    for part in v.get().split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                if a > b {
                    return Err(cx.err_at(
                        v,
                        format!(
                            "day range `{}` runs backwards; write it Monday first",
                            part.trim()
                        ),
                    ));
                }
                for d in a..=b {
                    mask |= 1 << d;
                }
            }
            None => mask |= 1 << day(part)?,
        }
    }
    Ok(mask)
}

fn utc_offset(cx: Ctx<'_>, v: &Loc<String>) -> R<i32> {
    let s = v.get().trim();
    let bad = || {
        cx.err_at(
            v,
            format!("invalid UTC offset {s:?}; expected \"+HH:MM\" or \"-HH:MM\", e.g. \"+05:30\""),
        )
    };
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(sign * (h * 60 + m))
}

fn hours(cx: Ctx<'_>, h: &RawHours) -> R<WorkingHours> {
    let start_min = clock(cx, &h.start)?;
    let end_min = clock(cx, &h.end)?;
    if end_min <= start_min {
        return Err(cx.err_at(
            &h.end,
            format!(
                "the working day ends ({}) before it starts ({}); expected end after start",
                h.end.get(),
                h.start.get()
            ),
        ));
    }
    let days = match &h.days {
        Some(d) => days(cx, d)?,
        None => 0b001_1111,
    };
    let utc_offset_min = match &h.utc_offset {
        Some(o) => utc_offset(cx, o)?,
        None => 0,
    };
    Ok(WorkingHours {
        start_min,
        end_min,
        days,
        utc_offset_min,
    })
}

// ---------------------------------------------------------------------------------------
// Infrastructure.

fn infrastructure(
    cx: Ctx<'_>,
    env: &mut Env<'_>,
    r: &RawInfrastructure,
) -> R<(InfraConfig, IncidentConfig)> {
    let soft_share = prob(cx, &r.soft_dependency_share, "soft_dependency_share")?;
    let fallback_share = match &r.fallback_share {
        Some(f) => prob(cx, f, "fallback_share")?,
        None => 0.0,
    };
    let cells = match &r.cells {
        Some(c) => at_least_one(cx, c, "cells")?,
        None => 1,
    };
    let topo = r.topology.get();
    let opts = TopologyOptions {
        soft_share,
        fallback_share,
        cells,
        seed: topo.seed.unwrap_or(1),
    };
    let spec = topology_spec(cx, env, &r.topology)?;
    let graph = graph(cx, env, &r.topology, spec, opts)?;
    let overload_alpha = match &r.overload_alpha {
        Some(a) => Some(nonneg(cx, a, "overload_alpha")?),
        None => None,
    };
    let infra = InfraConfig {
        graph,
        soft_propagation: prob(cx, &r.soft_propagation, "soft_propagation")?,
        overload_alpha,
    };
    let incidents = IncidentConfig {
        detection: dist(cx, &r.detection)?,
        rollback: dist(cx, &r.rollback)?,
        rebuild: dist(cx, &r.rebuild)?,
        restart_step: duration(cx, &r.restart_step)?,
        responders: at_least_one(cx, &r.responders, "responders")?,
    };
    Ok((infra, incidents))
}

const GENERATORS: [&str; 3] = ["layered", "scale_free", "alibaba_like"];

fn topology_spec(cx: Ctx<'_>, env: &mut Env<'_>, t: &Loc<RawTopology>) -> R<TopologySpec> {
    let r = t.get();
    let sources = [r.generator.is_some(), r.file.is_some(), r.preset.is_some()];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err(cx.err_at(
            t,
            "topology needs exactly one of `generator`, `file` or `preset`",
        ));
    }
    // Which generator fields each source accepts; anything else set is an error at it.
    let gen_fields: [(&str, Option<Range<usize>>); 4] = [
        ("services", r.services.as_ref().map(Loc::span)),
        ("layers", r.layers.as_ref().map(Loc::span)),
        (
            "mean_dependencies",
            r.mean_dependencies.as_ref().map(Loc::span),
        ),
        (
            "edges_per_service",
            r.edges_per_service.as_ref().map(Loc::span),
        ),
    ];
    let only = |source: &str, allowed: &[&str]| -> R<()> {
        for (name, span) in &gen_fields {
            if let Some(span) = span
                && !allowed.contains(name)
            {
                let takes = if allowed.is_empty() {
                    "it takes no generator settings".to_string()
                } else {
                    format!("it takes {}", list_names(allowed))
                };
                return Err(cx.err(
                    span.clone(),
                    format!("`{name}` does not apply to {source}; {takes}"),
                ));
            }
        }
        Ok(())
    };
    let need = |name: &str, v: Option<u32>, source: &str| -> R<u32> {
        match v {
            Some(0) => Err(cx.err_at(t, format!("{source} needs `{name}` of at least 1"))),
            Some(v) => Ok(v),
            None => Err(cx.err_at(t, format!("{source} needs `{name}`"))),
        }
    };
    if let Some(g) = &r.generator {
        let name = one_of(cx, g, "topology generator", &GENERATORS)?;
        let source = format!("generator `{name}`");
        let services = || need("services", r.services.as_ref().map(|v| *v.get()), &source);
        return Ok(match name {
            "layered" => {
                only(&source, &["services", "layers", "mean_dependencies"])?;
                let layers = need("layers", r.layers.as_ref().map(|v| *v.get()), &source)?;
                if layers < 2 {
                    let l = r.layers.as_ref().expect("checked above");
                    return Err(cx.err_at(l, "a layered topology needs at least 2 layers"));
                }
                let mean = match &r.mean_dependencies {
                    Some(m) => nonneg(cx, m, "mean_dependencies")?,
                    None => return Err(cx.err_at(t, format!("{source} needs `mean_dependencies`"))),
                };
                TopologySpec::Layered {
                    services: services()?,
                    layers,
                    mean_dependencies: mean,
                }
            }
            "scale_free" => {
                only(&source, &["services", "edges_per_service"])?;
                TopologySpec::ScaleFree {
                    services: services()?,
                    edges_per_service: need(
                        "edges_per_service",
                        r.edges_per_service.as_ref().map(|v| *v.get()),
                        &source,
                    )?,
                }
            }
            _ => {
                only(&source, &["services"])?;
                TopologySpec::AlibabaLike {
                    services: services()?,
                }
            }
        });
    }
    if let Some(p) = &r.preset {
        only("a preset", &[])?;
        if let Some(f) = &r.format {
            return Err(cx.err_at(f, "`format` applies to `file` topologies only"));
        }
        let name = one_of(cx, p, "topology preset", topology::PRESETS)?;
        return Ok(TopologySpec::Preset {
            name: name.to_string(),
        });
    }
    let f = r.file.as_ref().expect("exactly one source is set");
    only("a topology file", &[])?;
    let format = match &r.format {
        Some(fmt) => match one_of(cx, fmt, "topology format", &["csv", "dot", "jaeger"])? {
            "csv" => FileFormat::Csv,
            "dot" => FileFormat::Dot,
            _ => FileFormat::Jaeger,
        },
        None => {
            let ext = Path::new(f.get())
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some("csv") => FileFormat::Csv,
                Some("dot") | Some("gv") => FileFormat::Dot,
                Some("json") => FileFormat::Jaeger,
                _ => {
                    return Err(cx.err_at(
                        f,
                        format!(
                            "cannot tell the format of `{}` from its extension; add format = \"csv\", \"dot\" or \"jaeger\"",
                            f.get()
                        ),
                    ));
                }
            }
        }
    };
    let path = env.base_dir.join(f.get());
    let text = env.read(&path).map_err(|e| {
        let why = if e.kind() == io::ErrorKind::NotFound {
            "not found".to_string()
        } else {
            e.to_string().to_lowercase()
        };
        cx.err_at(
            f,
            format!(
                "cannot read topology file `{}` ({why}; looked at {}); paths are relative to the scenario file",
                f.get(),
                path.display()
            ),
        )
    })?;
    Ok(TopologySpec::File {
        path: path.display().to_string(),
        format,
        text,
    })
}

fn graph(
    cx: Ctx<'_>,
    env: &mut Env<'_>,
    t: &Loc<RawTopology>,
    spec: TopologySpec,
    opts: TopologyOptions,
) -> R<Arc<ServiceGraph>> {
    if let Some((_, _, g)) = env.graphs.iter().find(|(s, o, _)| *s == spec && *o == opts) {
        return Ok(Arc::clone(g));
    }
    let g = topology::build(&spec, &opts).map_err(|e| topology_error(cx, t.span(), &spec, &e))?;
    if g.is_empty() {
        return Err(cx.err_at(t, "the topology has no services"));
    }
    let g = Arc::new(g);
    env.graphs.push((spec, opts, Arc::clone(&g)));
    Ok(g)
}

/// A topology error: located in the topology file when it came from one (the topology
/// module knows line and column there), otherwise at the scenario's `topology` value.
fn topology_error(
    cx: Ctx<'_>,
    span: Range<usize>,
    spec: &TopologySpec,
    e: &topology::TopologyError,
) -> ScenarioError {
    match spec {
        TopologySpec::File { path, text, .. } if e.line > 0 => ScenarioError::Invalid(
            Located::at_line_col(Path::new(path), text, e.line, e.column, e.message.clone()),
        ),
        _ => cx.err(span, format!("cannot build the topology: {}", e.message)),
    }
}

// ---------------------------------------------------------------------------------------
// Authors and reviewers.

fn unique_names<'a>(
    cx: Ctx<'_>,
    names: impl Iterator<Item = &'a Loc<String>>,
    what: &str,
) -> R<()> {
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        if n.get().trim().is_empty() {
            return Err(cx.err_at(n, format!("{what} name is empty")));
        }
        if seen.contains(&n.get().as_str()) {
            return Err(cx.err_at(
                n,
                format!("duplicate {what} name `{}`; names must be unique", n.get()),
            ));
        }
        seen.push(n.get());
    }
    Ok(())
}

fn class_probs(cx: Ctx<'_>, t: &RawClassProbs, what: &str) -> R<ClassTable<f64>> {
    let mut out = [0.0; 5];
    for (i, e) in t.entries().into_iter().enumerate() {
        if let Some(v) = e {
            out[i] = prob(cx, v, &format!("{what}.{}", ActionClass::ALL[i].name()))?;
        }
    }
    Ok(ClassTable(out))
}

fn mix(cx: Ctx<'_>, t: &Loc<RawClassProbs>, what: &str) -> R<ClassTable<f64>> {
    let m = class_probs(cx, t.get(), what)?;
    // Summed in class order, so the reported sum is reproducible.
    let sum: f64 = m.0.iter().sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(cx.err_at(
            t,
            format!("{what} must sum to 1 (within {SUM_TOLERANCE:e}), but it sums to {sum}"),
        ));
    }
    Ok(m)
}

fn severity_mix(cx: Ctx<'_>, m: &Loc<RawSeverityMix>, what: &str) -> R<SeverityMix> {
    let r = m.get();
    let get = |v: &Option<Loc<f64>>, part: &str| -> R<f64> {
        v.as_ref()
            .map_or(Ok(0.0), |v| prob(cx, v, &format!("{what}.{part}")))
    };
    let s = SeverityMix {
        local: get(&r.local, "local")?,
        cascading: get(&r.cascading, "cascading")?,
        environment_deletion: get(&r.environment_deletion, "environment_deletion")?,
    };
    let sum = s.local + s.cascading + s.environment_deletion;
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        return Err(cx.err_at(
            m,
            format!("{what} must sum to 1 (within {SUM_TOLERANCE:e}), but it sums to {sum}"),
        ));
    }
    Ok(s)
}

fn severity(cx: Ctx<'_>, t: Option<&RawSeverityTable>, group: &str) -> R<ClassTable<SeverityMix>> {
    let mut out = ClassTable(ActionClass::ALL.map(presets::default_severity));
    let Some(t) = t else { return Ok(out) };
    let what = format!("authors.{group}.severity");
    let default = match &t.default {
        Some(d) => Some(severity_mix(cx, d, &format!("{what}.default"))?),
        None => None,
    };
    let per = [&t.read_only, &t.code, &t.config, &t.infra, &t.destructive];
    for (i, e) in per.into_iter().enumerate() {
        let class = ActionClass::ALL[i].name();
        out.0[i] = match (e, default) {
            (Some(m), _) => severity_mix(cx, m, &format!("{what}.{class}"))?,
            (None, Some(d)) => d,
            (None, None) => out.0[i],
        };
    }
    Ok(out)
}

fn authors(cx: Ctx<'_>, raw: &[RawAuthorGroup]) -> R<Vec<AuthorGroup>> {
    if raw.is_empty() {
        return Err(cx.err(
            0..0,
            "no [[authors]]: a scenario needs at least one group of change authors",
        ));
    }
    unique_names(cx, raw.iter().map(|a| &a.name), "author group")?;
    raw.iter().map(|a| author(cx, a)).collect()
}

fn author(cx: Ctx<'_>, a: &RawAuthorGroup) -> R<AuthorGroup> {
    let name = a.name.get().clone();
    let kind = match one_of(cx, &a.kind, "author kind", &["agent", "human"])? {
        "agent" => AuthorKind::Agent,
        _ => AuthorKind::Human,
    };
    let count = *a.count.get();
    if count == 0 {
        return Err(cx.err_at(
            &a.count,
            format!("author group `{name}` is empty: count must be at least 1"),
        ));
    }
    let mut permissions = ClassSet::EMPTY;
    for p in a.permissions.get() {
        permissions = permissions.with(class_by_name(cx, p)?);
    }
    let size = match &a.size {
        Some(s) => {
            let median_loc = finite(cx, &s.median_loc, "size.median_loc")?;
            if median_loc < 1.0 {
                return Err(cx.err_at(
                    &s.median_loc,
                    format!("size.median_loc must be at least 1 line, got {median_loc}"),
                ));
            }
            SizeDist {
                median_loc,
                sigma: nonneg(cx, &s.sigma, "size.sigma")?,
            }
        }
        None => presets::default_size(),
    };
    let escalation = match &a.escalation {
        Some(e) => Some(Escalation {
            after_failures: e.after_failures,
            probability: prob(cx, &e.probability, "escalation.probability")?,
        }),
        None => None,
    };
    let rework = match &a.rework {
        Some(r) => Rework {
            probability: prob(cx, &r.probability, "rework.probability")?,
            delay: dist(cx, &r.delay)?,
        },
        None => Rework {
            probability: 1.0,
            delay: presets::default_rework_delay(),
        },
    };
    Ok(AuthorGroup {
        kind,
        count,
        tasks_per_day: nonneg(cx, &a.tasks_per_day, "tasks_per_day")?,
        hours: a.hours.as_ref().map(|h| hours(cx, h)).transpose()?,
        mix: mix(cx, &a.mix, &format!("authors.{name}.mix"))?,
        defect_probability: class_probs(
            cx,
            a.defect_probability.get(),
            &format!("authors.{name}.defect_probability"),
        )?,
        severity: severity(cx, a.severity.as_ref(), &name)?,
        size,
        permissions,
        task_success: match &a.task_success {
            Some(t) => prob(cx, t, "task_success")?,
            None => 1.0,
        },
        max_attempts: match &a.max_attempts {
            Some(m) => at_least_one(cx, m, "max_attempts")?,
            None => presets::MAX_ATTEMPTS_DEFAULT,
        },
        escalation,
        rework,
        name,
    })
}

fn detection(cx: Ctx<'_>, d: &Loc<RawDetection>, group: &str) -> R<ClassTable<f64>> {
    let what = format!("reviewers.{group}.detection");
    match d.get() {
        RawDetection::Scalar(v) => {
            // A bare number's own span is the whole value.
            let v = Loc(toml::Spanned::new(d.span(), *v.get()));
            Ok(ClassTable([prob(cx, &v, &what)?; 5]))
        }
        RawDetection::PerClass(t) => {
            let default = match &t.default {
                Some(v) => Some(prob(cx, v, &format!("{what}.default"))?),
                None => None,
            };
            let per = [&t.read_only, &t.code, &t.config, &t.infra, &t.destructive];
            let mut out = [0.0; 5];
            for (i, e) in per.into_iter().enumerate() {
                let class = ActionClass::ALL[i].name();
                out[i] = match (e, default) {
                    (Some(v), _) => prob(cx, v, &format!("{what}.{class}"))?,
                    (None, Some(d)) => d,
                    (None, None) => {
                        return Err(cx.err_at(
                            d,
                            format!(
                                "{what} has no value for class `{class}`; give it or a `default`"
                            ),
                        ));
                    }
                };
            }
            Ok(ClassTable(out))
        }
    }
}

fn reviewers(
    cx: Ctx<'_>,
    raw: &[RawReviewerGroup],
    settings: Option<&RawReviewSettings>,
) -> R<ReviewerConfig> {
    unique_names(cx, raw.iter().map(|r| &r.name), "reviewer group")?;
    let mut groups = Vec::with_capacity(raw.len());
    for r in raw {
        let name = r.name.get().clone();
        let seniority = match one_of(cx, &r.seniority, "seniority", &["junior", "senior"])? {
            "junior" => Seniority::Junior,
            _ => Seniority::Senior,
        };
        if *r.count.get() == 0 {
            return Err(cx.err_at(
                &r.count,
                format!("reviewer group `{name}` is empty: count must be at least 1"),
            ));
        }
        groups.push(ReviewerGroup {
            seniority,
            count: *r.count.get(),
            review_time: dist(cx, &r.review_time)?,
            detection: detection(cx, &r.detection, &name)?,
            hours: r.hours.as_ref().map(|h| hours(cx, h)).transpose()?,
            name,
        });
    }
    // No rubber-stamping and no size effect unless the scenario says so.
    let mut load = LoadEffect {
        queue_above: u32::MAX,
        detection_factor: 1.0,
    };
    let mut size = SizeEffect {
        above_loc: u32::MAX,
        detection_factor: 1.0,
    };
    let mut false_rejection = 0.0;
    if let Some(s) = settings {
        if let Some(r) = &s.rubber_stamp {
            load = LoadEffect {
                queue_above: r.queue_above,
                detection_factor: prob(cx, &r.detection_factor, "rubber_stamp.detection_factor")?,
            };
        }
        if let Some(e) = &s.size_effect {
            size = SizeEffect {
                above_loc: e.above_loc,
                detection_factor: prob(cx, &e.detection_factor, "size_effect.detection_factor")?,
            };
        }
        if let Some(f) = &s.false_rejection {
            false_rejection = prob(cx, f, "false_rejection")?;
        }
    }
    Ok(ReviewerConfig {
        groups,
        load,
        size,
        false_rejection,
    })
}

// ---------------------------------------------------------------------------------------
// Policies.

/// A file policy with the spans its reviewer checks point at.
pub(crate) struct PolicyOut {
    policy: Policy,
    require_spans: Vec<Range<usize>>,
}

fn policies(cx: Ctx<'_>, raw: &[RawPolicy], authors: &[RawAuthorGroup]) -> R<Vec<PolicyOut>> {
    unique_names(cx, raw.iter().map(|p| &p.name), "policy")?;
    let group_names: Vec<&str> = authors.iter().map(|a| a.name.get().as_str()).collect();
    let mut out = Vec::with_capacity(raw.len());
    for p in raw {
        let mut rules = Vec::with_capacity(p.rules.len());
        let mut require_spans = Vec::with_capacity(p.rules.len());
        for r in &p.rules {
            let when = match &r.when {
                Some(w) => condition(cx, w, &group_names)?,
                None => Condition::default(),
            };
            let require = match r.require.get() {
                RawRequire::Named(n) => {
                    let n = Loc(toml::Spanned::new(r.require.span(), n.clone()));
                    match one_of(
                        cx,
                        &n,
                        "requirement",
                        &["none", "peer", "senior", "two_person"],
                    )? {
                        "none" => Requirement::None,
                        "peer" => Requirement::Peer,
                        "senior" => Requirement::Senior,
                        _ => Requirement::TwoPerson,
                    }
                }
                RawRequire::Sample(p) => Requirement::Sample(prob(cx, p, "sample")?),
            };
            rules.push(Rule { when, require });
            require_spans.push(r.require.span());
        }
        out.push(PolicyOut {
            policy: Policy {
                name: p.name.get().clone(),
                rules,
                auto_approve_after: p
                    .auto_approve_after
                    .as_ref()
                    .map(|d| positive_duration(cx, d, "auto_approve_after"))
                    .transpose()?,
            },
            require_spans,
        });
    }
    Ok(out)
}

/// The located items of a one-or-many value (a single string takes the outer span).
pub(crate) fn items(v: &Loc<OneOrMany>) -> Vec<Loc<String>> {
    v.get()
        .0
        .iter()
        .map(|s| {
            if s.span() == (0..0) {
                Loc(toml::Spanned::new(v.span(), s.get().clone()))
            } else {
                s.clone()
            }
        })
        .collect()
}

fn condition(cx: Ctx<'_>, w: &RawWhen, group_names: &[&str]) -> R<Condition> {
    let author = match &w.author {
        Some(a) => Some(match one_of(cx, a, "author kind", &["agent", "human"])? {
            "agent" => AuthorKind::Agent,
            _ => AuthorKind::Human,
        }),
        None => None,
    };
    let groups = match &w.group {
        Some(g) => {
            let mut idx = Vec::new();
            for n in items(g) {
                match group_names.iter().position(|x| *x == n.get().as_str()) {
                    Some(i) => idx.push(i),
                    None => {
                        return Err(
                            cx.err_at(&n, unknown_name("author group", n.get(), group_names))
                        );
                    }
                }
            }
            Some(idx)
        }
        None => None,
    };
    let classes = match &w.class {
        Some(c) => {
            let mut set = ClassSet::EMPTY;
            for n in items(c) {
                set = set.with(class_by_name(cx, &n)?);
            }
            Some(set)
        }
        None => None,
    };
    Ok(Condition {
        author,
        groups,
        classes,
        tiers: w.tier.as_ref().map(|t| t.0.clone()),
        predicted_users_above: w
            .predicted_users_above
            .as_ref()
            .map(|p| prob(cx, p, "predicted_users_above"))
            .transpose()?,
        size_above: w.size_above,
    })
}

// ---------------------------------------------------------------------------------------
// Breakers.

/// The configured breakers of a document, by kind, with the spans arms point back to.
#[derive(Default)]
pub(crate) struct BreakersOut {
    agent: Option<AgentBreakerConfig>,
    blast_guard: Option<BlastGuardConfig>,
    rate_limit: Option<RateLimitConfig>,
    error_budget: Option<ErrorBudgetConfig>,
    kill_switch: Option<KillSwitchConfig>,
}

/// Names of the breaker kinds, as `[breakers]` keys and arm `breakers` entries.
pub const BREAKER_KINDS: [&str; 5] = [
    "agent",
    "blast_guard",
    "rate_limit",
    "error_budget",
    "kill_switch",
];

impl BreakersOut {
    fn configured(&self) -> Vec<&'static str> {
        let on = [
            self.agent.is_some(),
            self.blast_guard.is_some(),
            self.rate_limit.is_some(),
            self.error_budget.is_some(),
            self.kill_switch.is_some(),
        ];
        BREAKER_KINDS
            .iter()
            .zip(on)
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect()
    }
}

fn breakers(cx: Ctx<'_>, raw: Option<&RawBreakers>) -> R<BreakersOut> {
    let Some(b) = raw else {
        return Ok(BreakersOut::default());
    };
    Ok(BreakersOut {
        agent: b.agent.as_ref().map(|a| agent_breaker(cx, a)).transpose()?,
        blast_guard: b
            .blast_guard
            .as_ref()
            .map(|g| blast_guard(cx, g))
            .transpose()?,
        rate_limit: b
            .rate_limit
            .as_ref()
            .map(|r| rate_limit(cx, r))
            .transpose()?,
        error_budget: b
            .error_budget
            .as_ref()
            .map(|e| error_budget(cx, e))
            .transpose()?,
        kill_switch: b
            .kill_switch
            .as_ref()
            .map(|k| kill_switch(cx, k))
            .transpose()?,
    })
}

fn agent_breaker(cx: Ctx<'_>, a: &Loc<RawAgentBreaker>) -> R<AgentBreakerConfig> {
    let r = a.get();
    let base = match &r.preset {
        Some(p) => {
            let name = one_of(
                cx,
                p,
                "agent breaker preset",
                presets::AGENT_BREAKER_PRESETS,
            )?;
            Some(presets::agent_breaker(name).expect("listed preset exists"))
        }
        None => None,
    };
    let missing = |field: &str| {
        cx.err_at(
            a,
            format!(
                "the agent breaker needs `{field}` (or a `preset`: {})",
                list_names(presets::AGENT_BREAKER_PRESETS)
            ),
        )
    };
    let window = match &r.window {
        Some(RawWindow::Count(n)) => BreakerWindow::Count(at_least_one(cx, n, "window.count")?),
        Some(RawWindow::Time(d)) => BreakerWindow::Time(positive_duration(cx, d, "window.time")?),
        None => base.map(|b| b.window).ok_or_else(|| missing("window"))?,
    };
    let min_actions = match &r.min_actions {
        Some(m) => at_least_one(cx, m, "min_actions")?,
        None => base
            .map(|b| b.min_actions)
            .ok_or_else(|| missing("min_actions"))?,
    };
    let failure_rate = match &r.failure_rate {
        Some(f) => {
            let v = prob(cx, f, "failure_rate")?;
            if v == 0.0 {
                return Err(cx.err_at(
                    f,
                    "failure_rate must be greater than 0 (0 would trip on every action)",
                ));
            }
            v
        }
        None => base
            .map(|b| b.failure_rate)
            .ok_or_else(|| missing("failure_rate"))?,
    };
    let open_for = match &r.open_for {
        Some(d) => positive_duration(cx, d, "open_for")?,
        None => base
            .map(|b| b.open_for)
            .ok_or_else(|| missing("open_for"))?,
    };
    let half_open_trials = match &r.half_open_trials {
        Some(h) => at_least_one(cx, h, "half_open_trials")?,
        None => base
            .map(|b| b.half_open_trials)
            .ok_or_else(|| missing("half_open_trials"))?,
    };
    let mut failures = base.map_or(presets::FAILURES_DEFAULT, |b| b.failures);
    if let Some(f) = &r.failures {
        failures = FailureKinds {
            rejected: f.rejected.unwrap_or(failures.rejected),
            refused: f.refused.unwrap_or(failures.refused),
            incident: f.incident.unwrap_or(failures.incident),
            classifier: match &f.classifier {
                Some(c) => Some((
                    prob(cx, &c.true_positive, "classifier.true_positive")?,
                    prob(cx, &c.false_positive, "classifier.false_positive")?,
                )),
                None => failures.classifier,
            },
        };
    }
    Ok(AgentBreakerConfig {
        window,
        min_actions,
        failure_rate,
        open_for,
        half_open_trials,
        failures,
    })
}

fn blast_guard(cx: Ctx<'_>, g: &Loc<RawBlastGuard>) -> R<BlastGuardConfig> {
    let r = g.get();
    Ok(BlastGuardConfig {
        max_predicted_users: prob(cx, &r.max_predicted_users, "max_predicted_users")?,
        estimate_noise: match &r.estimate_noise {
            Some(n) => nonneg(cx, n, "estimate_noise")?,
            None => 0.0,
        },
        action: match &r.action {
            Some(a) => match one_of(cx, a, "guard action", &["block", "escalate"])? {
                "block" => GuardAction::Block,
                _ => GuardAction::Escalate,
            },
            None => GuardAction::Block,
        },
        humans_too: r.humans_too.unwrap_or(false),
        classes: match &r.classes {
            Some(list) => {
                let mut set = ClassSet::EMPTY;
                for c in list {
                    set = set.with(class_by_name(cx, c)?);
                }
                set
            }
            None => ClassSet::ALL,
        },
    })
}

/// Parses "20/h", "100/d", "5/30m" into tokens per period.
fn token_rate(cx: Ctx<'_>, outer: &Loc<TokenRateText>) -> R<TokenRate> {
    let t = &outer.get().0;
    // A bare string carries no span of its own: use the value's.
    let rate = if t.rate.span() == (0..0) {
        Loc(toml::Spanned::new(outer.span(), t.rate.get().clone()))
    } else {
        t.rate.clone()
    };
    let s = rate.get().trim();
    let bad = |why: &str| {
        cx.err_at(
            &rate,
            format!("invalid rate {s:?}: {why}; expected \"N/period\" such as \"20/h\", \"100/d\" or \"5/30m\""),
        )
    };
    let (n, per) = s.split_once('/').ok_or_else(|| bad("there is no '/'"))?;
    let tokens: u32 = n
        .trim()
        .parse()
        .map_err(|_| bad("the count is not a whole number"))?;
    if tokens == 0 {
        return Err(bad("the count must be at least 1"));
    }
    let per = per.trim();
    // "h" alone means one hour.
    let per_text = if per.starts_with(|c: char| c.is_ascii_digit()) {
        per.to_string()
    } else {
        format!("1{per}")
    };
    let per = SimDuration::parse(&per_text).map_err(|e| bad(&e.reason))?;
    if per == SimDuration::ZERO {
        return Err(bad("the period must be longer than zero"));
    }
    let burst = match &t.burst {
        Some(b) => at_least_one(cx, b, "burst")?,
        None => tokens,
    };
    Ok(TokenRate { tokens, per, burst })
}

fn rate_limit(cx: Ctx<'_>, r: &Loc<RawRateLimit>) -> R<RateLimitConfig> {
    let v = r.get();
    if v.per_agent.is_none() && v.per_service.is_none() {
        return Err(cx.err_at(r, "rate_limit needs `per_agent`, `per_service` or both"));
    }
    Ok(RateLimitConfig {
        per_agent: v
            .per_agent
            .as_ref()
            .map(|t| token_rate(cx, t))
            .transpose()?,
        per_service: v
            .per_service
            .as_ref()
            .map(|t| token_rate(cx, t))
            .transpose()?,
    })
}

fn error_budget(cx: Ctx<'_>, e: &Loc<RawErrorBudget>) -> R<ErrorBudgetConfig> {
    let r = e.get();
    let slo = finite(cx, &r.slo, "slo")?;
    if !(slo > 0.0 && slo < 1.0) {
        return Err(cx.err_at(
            &r.slo,
            format!("slo must be between 0 and 1 (exclusive), got {slo}"),
        ));
    }
    if r.windows.get().is_empty() {
        return Err(cx.err_at(&r.windows, "error_budget needs at least one window"));
    }
    let mut windows = Vec::new();
    for w in r.windows.get() {
        let long = positive_duration(cx, &w.long, "long")?;
        let short = match &w.short {
            Some(s) => {
                let d = positive_duration(cx, s, "short")?;
                if d >= long {
                    return Err(cx.err_at(
                        s,
                        format!(
                            "the short window ({d}) must be shorter than the long one ({long})"
                        ),
                    ));
                }
                Some(d)
            }
            None => None,
        };
        windows.push(BurnWindow {
            long,
            short,
            burn_rate: positive(cx, &w.burn_rate, "burn_rate")?,
        });
    }
    Ok(ErrorBudgetConfig {
        slo,
        windows,
        humans_too: r.humans_too.unwrap_or(false),
    })
}

fn kill_switch(cx: Ctx<'_>, k: &Loc<RawKillSwitch>) -> R<KillSwitchConfig> {
    let r = k.get();
    let trigger = match one_of(cx, &r.on, "kill-switch trigger", &["incident", "incidents"])? {
        "incident" => {
            let extra = [
                ("count", r.count.as_ref().map(Loc::span)),
                ("window", r.window.as_ref().map(Loc::span)),
                ("halt_for", r.halt_for.as_ref().map(Loc::span)),
            ];
            if let Some((name, Some(span))) = extra.into_iter().find(|(_, s)| s.is_some()) {
                return Err(cx.err(
                    span,
                    format!("`{name}` applies to on = \"incidents\" only; on = \"incident\" halts while an incident is open"),
                ));
            }
            KillTrigger::WhileIncidentOpen
        }
        _ => {
            let need = |name: &str| cx.err_at(k, format!("on = \"incidents\" needs `{name}`"));
            KillTrigger::AfterIncidents {
                count: at_least_one(cx, r.count.as_ref().ok_or_else(|| need("count"))?, "count")?,
                window: positive_duration(
                    cx,
                    r.window.as_ref().ok_or_else(|| need("window"))?,
                    "window",
                )?,
                halt_for: positive_duration(
                    cx,
                    r.halt_for.as_ref().ok_or_else(|| need("halt_for"))?,
                    "halt_for",
                )?,
            }
        }
    };
    let scope = match &r.scope {
        Some(s) => match one_of(cx, s, "kill-switch scope", &["agents", "offender"])? {
            "agents" => KillScope::AllAgents,
            _ => KillScope::Offender,
        },
        None => KillScope::AllAgents,
    };
    Ok(KillSwitchConfig { trigger, scope })
}

// ---------------------------------------------------------------------------------------
// Deployment, faults, invariants.

fn deployment(cx: Ctx<'_>, d: Option<&RawDeployment>) -> R<DeployConfig> {
    let Some(waves) = d.and_then(|d| d.waves.as_ref()) else {
        return Ok(DeployConfig::Direct);
    };
    if waves.get().is_empty() {
        return Ok(DeployConfig::Direct);
    }
    let mut out = Vec::new();
    let mut last = 0.0;
    for w in waves.get() {
        let share = prob(cx, &w.share, "wave share")?;
        if share <= last {
            return Err(cx.err_at(
                &w.share,
                format!("wave shares are cumulative and must increase: {share} follows {last}"),
            ));
        }
        last = share;
        out.push(Wave {
            share,
            bake: duration(cx, &w.bake)?,
        });
    }
    if (last - 1.0).abs() > SUM_TOLERANCE {
        let w = waves.get().last().expect("non-empty");
        return Err(cx.err_at(
            &w.share,
            format!("the last wave must reach share 1 (all traffic), got {last}"),
        ));
    }
    Ok(DeployConfig::Waves(out))
}

/// Fault kinds and the optional fields each accepts.
pub(crate) const FAULT_KINDS: [(&str, &[&str]); 6] = [
    ("reviewer_outage", &["group", "fraction"]),
    ("permission_misconfiguration", &["group", "class"]),
    (
        "rogue_agent_burst",
        &["group", "defect_multiplier", "escalation_multiplier"],
    ),
    (
        "monitoring_blind_spot",
        &["service_share", "detection_multiplier"],
    ),
    ("dependency_degradation", &[]),
    ("responder_shortage", &["fraction"]),
];

fn faults(
    cx: Ctx<'_>,
    raw: &[RawFault],
    authors: &[RawAuthorGroup],
    reviewers: &[RawReviewerGroup],
    horizon: SimDuration,
) -> R<Vec<Fault>> {
    let kinds: Vec<&str> = FAULT_KINDS.iter().map(|(k, _)| *k).collect();
    let author_names: Vec<&str> = authors.iter().map(|a| a.name.get().as_str()).collect();
    let reviewer_names: Vec<&str> = reviewers.iter().map(|a| a.name.get().as_str()).collect();
    let mut out = Vec::new();
    for f in raw {
        let kind = one_of(cx, &f.kind, "fault kind", &kinds)?;
        let fields: [(&str, Option<Range<usize>>); 7] = [
            ("group", f.group.as_ref().map(Loc::span)),
            ("fraction", f.fraction.as_ref().map(Loc::span)),
            ("class", f.class.as_ref().map(Loc::span)),
            (
                "defect_multiplier",
                f.defect_multiplier.as_ref().map(Loc::span),
            ),
            (
                "escalation_multiplier",
                f.escalation_multiplier.as_ref().map(Loc::span),
            ),
            ("service_share", f.service_share.as_ref().map(Loc::span)),
            (
                "detection_multiplier",
                f.detection_multiplier.as_ref().map(Loc::span),
            ),
        ];
        fault_fields_apply(cx, kind, fields)?;
        let at = duration(cx, &f.at)?;
        if at >= horizon {
            return Err(cx.err_at(
                &f.at,
                format!("the fault starts at {at}, at or after the horizon ({horizon})"),
            ));
        }
        let need = |name: &str| cx.err_at(&f.kind, format!("fault kind `{kind}` needs `{name}`"));
        let group_of = |names: &[&str], what: &str| -> R<Option<usize>> {
            match &f.group {
                Some(g) => names
                    .iter()
                    .position(|n| *n == g.get().as_str())
                    .map(Some)
                    .ok_or_else(|| cx.err_at(g, unknown_name(what, g.get(), names))),
                None => Ok(None),
            }
        };
        let fault_kind = match kind {
            "reviewer_outage" => FaultKind::ReviewerOutage {
                group: group_of(&reviewer_names, "reviewer group")?,
                fraction: prob(
                    cx,
                    f.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                    "fraction",
                )?,
            },
            "permission_misconfiguration" => FaultKind::PermissionMisconfiguration {
                group: group_of(&author_names, "author group")?,
                class: class_by_name(cx, f.class.as_ref().ok_or_else(|| need("class"))?)?,
            },
            "rogue_agent_burst" => {
                if f.defect_multiplier.is_none() && f.escalation_multiplier.is_none() {
                    return Err(need("defect_multiplier` or `escalation_multiplier"));
                }
                let mult = |v: &Option<Loc<f64>>, what: &str| {
                    v.as_ref().map_or(Ok(1.0), |v| nonneg(cx, v, what))
                };
                FaultKind::RogueAgentBurst {
                    group: group_of(&author_names, "author group")?,
                    defect_multiplier: mult(&f.defect_multiplier, "defect_multiplier")?,
                    escalation_multiplier: mult(&f.escalation_multiplier, "escalation_multiplier")?,
                }
            }
            "monitoring_blind_spot" => FaultKind::MonitoringBlindSpot {
                service_share: prob(
                    cx,
                    f.service_share
                        .as_ref()
                        .ok_or_else(|| need("service_share"))?,
                    "service_share",
                )?,
                detection_multiplier: nonneg(
                    cx,
                    f.detection_multiplier
                        .as_ref()
                        .ok_or_else(|| need("detection_multiplier"))?,
                    "detection_multiplier",
                )?,
            },
            "dependency_degradation" => FaultKind::DependencyDegradation,
            _ => FaultKind::ResponderShortage {
                fraction: prob(
                    cx,
                    f.fraction.as_ref().ok_or_else(|| need("fraction"))?,
                    "fraction",
                )?,
            },
        };
        out.push(Fault {
            kind: fault_kind,
            at: crate::engine::SimTime(at.as_ms()),
            duration: positive_duration(cx, &f.duration, "duration")?,
        });
    }
    Ok(out)
}

fn invariants(cx: Ctx<'_>, raw: Option<&RawInvariants>) -> R<Invariants> {
    let Some(r) = raw else {
        return Ok(Invariants::default());
    };
    Ok(Invariants {
        max_users_hit_by_one_change: r
            .max_users_hit_by_one_change
            .as_ref()
            .map(|v| prob(cx, v, "max_users_hit_by_one_change"))
            .transpose()?,
        max_outage: r
            .max_outage
            .as_ref()
            .map(|d| positive_duration(cx, d, "max_outage"))
            .transpose()?,
        max_user_impact_minutes: match &r.max_user_impact_minutes {
            Some(b) => Some((
                nonneg(cx, &b.minutes, "minutes")?,
                positive_duration(cx, &b.window, "window")?,
            )),
            None => None,
        },
        min_deploys_per_day: r
            .min_deploys_per_day
            .as_ref()
            .map(|v| nonneg(cx, v, "min_deploys_per_day"))
            .transpose()?,
    })
}

// ---------------------------------------------------------------------------------------
// Arms.

fn arms(
    cx: Ctx<'_>,
    raw: &RawScenario,
    policies: &[PolicyOut],
    breakers: &BreakersOut,
    reviewers: &ReviewerConfig,
) -> R<Vec<ArmOut>> {
    let mut out = Vec::new();
    if raw.arms.is_empty() {
        if policies.is_empty() {
            return Err(cx.err(
                0..0,
                "no arms to compare: add [[policies]] (each becomes an arm) or [[arms]]",
            ));
        }
        for (p, r) in policies.iter().zip(&raw.policies) {
            check_reviewers(cx, &p.policy, &p.require_spans, r.name.span(), reviewers)?;
            out.push(ArmOut {
                name: p.policy.name.clone(),
                description: format!("policy `{}`, no breakers", p.policy.name),
                policy: p.policy.clone(),
                breakers: BreakerConfig::default(),
            });
        }
        return Ok(out);
    }
    unique_names(cx, raw.arms.iter().map(|a| &a.name), "arm")?;
    let configured = breakers.configured();
    for a in &raw.arms {
        let name = a.policy.get();
        let (policy, spans) = match policies.iter().find(|p| &p.policy.name == name) {
            Some(p) => (p.policy.clone(), p.require_spans.clone()),
            None => match presets::policy(name) {
                Some(p) => {
                    let n = p.rules.len();
                    (p, vec![a.policy.span(); n])
                }
                None => {
                    let mut valid: Vec<&str> =
                        policies.iter().map(|p| p.policy.name.as_str()).collect();
                    valid.extend(presets::POLICY_PRESETS.iter().copied());
                    return Err(cx.err_at(
                        &a.policy,
                        unknown_name("policy (a [[policies]] name or a preset)", name, &valid),
                    ));
                }
            },
        };
        check_reviewers(cx, &policy, &spans, a.policy.span(), reviewers)?;
        let mut set = BreakerConfig::default();
        let mut seen: Vec<&str> = Vec::new();
        for b in &a.breakers {
            let n = b.get().as_str();
            if seen.contains(&n) {
                return Err(cx.err_at(b, format!("breaker `{n}` is listed twice")));
            }
            seen.push(n);
            match n {
                "agent" if breakers.agent.is_some() => set.agent = breakers.agent,
                "blast_guard" if breakers.blast_guard.is_some() => {
                    set.blast_guard = breakers.blast_guard;
                    let g = breakers.blast_guard.expect("checked");
                    if g.action == GuardAction::Escalate && !has_senior(reviewers) {
                        return Err(cx.err_at(
                            b,
                            "the blast-radius guard escalates to a senior reviewer, but no [[reviewers]] group has seniority \"senior\"",
                        ));
                    }
                }
                "rate_limit" if breakers.rate_limit.is_some() => {
                    set.rate_limit = breakers.rate_limit
                }
                "error_budget" if breakers.error_budget.is_some() => {
                    set.error_budget = breakers.error_budget.clone()
                }
                "kill_switch" if breakers.kill_switch.is_some() => {
                    set.kill_switch = breakers.kill_switch
                }
                _ if BREAKER_KINDS.contains(&n) => {
                    return Err(cx.err_at(
                        b,
                        format!(
                            "breaker `{n}` is not configured in [breakers]; configured breakers are {}",
                            list_names(&configured)
                        ),
                    ));
                }
                _ => {
                    return Err(cx.err_at(
                        b,
                        format!(
                            "{}; configured breakers are {}",
                            unknown_name("breaker", n, &BREAKER_KINDS),
                            list_names(&configured)
                        ),
                    ));
                }
            }
        }
        out.push(ArmOut {
            name: a.name.get().clone(),
            description: a
                .description
                .clone()
                .unwrap_or_else(|| format!("policy `{name}`, breakers [{}]", seen.join(", "))),
            policy,
            breakers: set,
        });
    }
    Ok(out)
}

fn has_senior(r: &ReviewerConfig) -> bool {
    r.groups.iter().any(|g| g.seniority == Seniority::Senior)
}

/// A policy may only require reviews the reviewer pool can give.
fn check_reviewers(
    cx: Ctx<'_>,
    policy: &Policy,
    spans: &[Range<usize>],
    fallback: Range<usize>,
    r: &ReviewerConfig,
) -> R<()> {
    let total: u64 = r.groups.iter().map(|g| u64::from(g.count)).sum();
    for (i, rule) in policy.rules.iter().enumerate() {
        let span = spans.get(i).cloned().unwrap_or_else(|| fallback.clone());
        let name = &policy.name;
        let problem = match rule.require {
            Requirement::None => None,
            Requirement::Sample(0.0) => None,
            Requirement::Peer | Requirement::Sample(_) if total == 0 => Some(format!(
                "policy `{name}` requires reviews, but there are no [[reviewers]]"
            )),
            Requirement::Senior if !has_senior(r) => Some(format!(
                "policy `{name}` requires a senior review, but no [[reviewers]] group has seniority \"senior\""
            )),
            Requirement::TwoPerson if total < 2 => Some(format!(
                "policy `{name}` requires two distinct reviewers, but there are only {total}"
            )),
            _ => None,
        };
        if let Some(msg) = problem {
            return Err(cx.err(span, msg));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Objectives.

/// Checks a metric name against `metrics::METRICS`, suggesting the nearest.
fn metric(cx: Ctx<'_>, m: &Loc<String>) -> R<String> {
    if METRICS.iter().any(|d| d.name == m.get()) {
        return Ok(m.get().clone());
    }
    let names: Vec<&str> = METRICS.iter().map(|d| d.name).collect();
    let near = suggest(m.get(), names.iter().copied());
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", list_names(&near))
    };
    Err(cx.err_at(
        m,
        format!(
            "unknown metric `{}`{hint}; expected a runs.csv column: {}",
            m.get(),
            names.join(", ")
        ),
    ))
}

pub(crate) fn objectives(cx: Ctx<'_>, raw: Option<&RawObjectives>) -> R<Objectives> {
    let mut o = Objectives {
        velocity: "deploys_per_day".to_string(),
        risk: "user_impact_min_total".to_string(),
        constraints: Vec::new(),
    };
    let Some(r) = raw else { return Ok(o) };
    if let Some(v) = &r.velocity {
        o.velocity = metric(cx, v)?;
    }
    if let Some(v) = &r.risk {
        o.risk = metric(cx, v)?;
    }
    for c in &r.constraints {
        let v = c.get();
        let name = metric(cx, &v.metric)?;
        let (at_most, value) = match (v.at_most, v.at_least) {
            (Some(x), None) => (true, x),
            (None, Some(x)) => (false, x),
            _ => {
                return Err(cx.err_at(
                    c,
                    "a constraint needs exactly one of `at_most` or `at_least`",
                ));
            }
        };
        if !value.is_finite() {
            return Err(cx.err_at(c, "the constraint bound must be a finite number"));
        }
        o.constraints.push(Constraint {
            metric: name,
            at_most,
            value,
        });
    }
    Ok(o)
}

/// Checks that every field given for a fault (a name and where it stands) applies to its
/// kind: shared by `[[faults]]` and `[chaos]` templates.
pub(crate) fn fault_fields_apply(
    cx: Ctx<'_>,
    kind: &str,
    fields: [(&str, Option<Range<usize>>); 7],
) -> R<()> {
    let allowed = FAULT_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, a)| *a)
        .expect("kind is listed");
    for (name, span) in fields {
        if let Some(span) = span
            && !allowed.contains(&name)
        {
            let takes = if allowed.is_empty() {
                "it takes only `kind`, `at` and `duration`".to_string()
            } else {
                format!("it takes {}", list_names(allowed))
            };
            return Err(cx.err(
                span,
                format!("`{name}` does not apply to fault kind `{kind}`; {takes}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The topology builder is another module's; this checks that its located errors reach
    // the user in its file, with its line and column and the offending line quoted.
    #[test]
    fn topology_file_errors_keep_their_own_location() {
        let scenario = "x = 1\ntopology = { file = \"g.csv\" }\n";
        let cx = Ctx {
            file: Path::new("dir/s.toml"),
            text: scenario,
        };
        let spec = TopologySpec::File {
            path: "dir/g.csv".into(),
            format: FileFormat::Csv,
            text: "a,b\nc,d,sideways\n".into(),
        };
        let e = topology::TopologyError {
            file: "dir/g.csv".into(),
            line: 2,
            column: 5,
            message: "unknown edge kind `sideways`".into(),
        };
        let err = topology_error(cx, 17..26, &spec, &e);
        assert_eq!(err.file(), Path::new("dir/g.csv"));
        assert_eq!((err.line(), err.column()), (2, 5));
        let shown = err.to_string();
        assert!(
            shown.starts_with("dir/g.csv:2:5: unknown edge kind"),
            "{shown}"
        );
        assert!(shown.contains("2 | c,d,sideways"), "{shown}");

        // A generator error has no file location: it points at the scenario's value.
        let gen_spec = TopologySpec::AlibabaLike { services: 0 };
        let e = topology::TopologyError {
            file: "alibaba_like".into(),
            line: 0,
            column: 0,
            message: "services must be at least 1".into(),
        };
        let err = topology_error(cx, 17..26, &gen_spec, &e);
        assert_eq!((err.line(), err.column()), (2, 12));
        assert!(err.message().contains("services must be at least 1"));
    }

    #[test]
    fn unknown_name_lists_valid_names_and_the_nearest() {
        let m = unknown_name("seniority", "senoir", &["junior", "senior"]);
        assert_eq!(
            m,
            "unknown seniority `senoir` (did you mean `senior`?); expected `junior` or `senior`"
        );
    }
}
