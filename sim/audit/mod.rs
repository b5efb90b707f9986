//! Audit: replay real agent action logs through every arm of a scenario.
//!
//! `blastsim audit SCENARIO --log FILE...` reads logged tool calls (Claude Code hook events
//! or the generic JSONL schema), classifies each into blastsim's action classes and maps
//! its target onto a service of the topology, then drives each arm's approval policy,
//! execution gate (the five breakers) and reviewer pool over them in time order: the
//! simulator's own machinery, fed real actions instead of simulated ones.
//!
//! Submodules: `lines` (bounded line reader), `log` (normalised actions, merging, reorder),
//! `claude_code` and `generic` (the two formats), `classify` (classes and services),
//! `permissions` (Claude Code rules), `spec` (the scenario's `[audit]` section), `replay`
//! (one arm), `outputs` (files), `fit` (an `[[authors]]` block from the log), `chart`.
//!
//! Memory is bounded by the number of arms, agents and reviews waiting at once, never by
//! the log's length: actions stream from the readers through every arm, and rows are
//! written as soon as every arm has decided them (`Aligner`).
//!
//! Determinism: the same scenario and logs give byte-identical outputs. Ties in time are
//! broken by file order then line order; every random draw (review times, `Sample`
//! requirements, classifier) is seeded by the scenario seed and the action's position, the
//! same in every arm; no output is ordered by a hash map.

pub mod chart;
pub mod classify;
pub mod claude_code;
pub mod fit;
pub mod generic;
pub mod lines;
pub mod log;
pub mod outputs;
pub mod permissions;
pub mod replay;
pub mod spec;
pub mod synth;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::audit::classify::{ClassSource, Classifier, Unmapped};
use crate::audit::log::{Action, LogError, LogStream, MONDAY_ZERO_MS, ReadStats, Tallies, tally};
use crate::audit::replay::{ArmReplay, ArmStats, Decision, DecisionKind};
use crate::audit::spec::AuditSpec;
use crate::engine::{SimDuration, SimTime};
use crate::model::config::ActionClass;
use crate::model::graph::{ServiceGraph, ServiceId};
use crate::scenario::Scenario;

/// How long after the last action waiting reviews may still finish (simulated time).
pub const DRAIN_LIMIT: SimDuration = SimDuration(30 * crate::engine::time::MS_PER_DAY);

/// Built-in Claude Code tools; any other non-MCP tool name is reported as unknown.
pub const KNOWN_TOOLS: [&str; 17] = [
    "Bash",
    "BashOutput",
    "KillShell",
    "Read",
    "Edit",
    "Write",
    "MultiEdit",
    "NotebookEdit",
    "NotebookRead",
    "Glob",
    "Grep",
    "LS",
    "WebFetch",
    "WebSearch",
    "TodoWrite",
    "Task",
    "Agent",
];

/// One action with everything the arms decided about it: a row group of `decisions.csv`.
#[derive(Clone, Debug)]
pub struct Row {
    /// The action.
    pub action: Action,
    /// Its class.
    pub class: ActionClass,
    /// Where the class came from.
    pub class_source: ClassSource,
    /// Its service in the first arm's topology, or why it has none.
    pub service: Result<ServiceId, Unmapped>,
    /// One decision per arm, in arm order.
    pub decisions: Vec<Decision>,
}

/// Receives rows in action order.
pub trait RowSink {
    /// One row (every arm has decided the action).
    fn row(&mut self, row: &Row, ctx: &Context<'_>) -> std::io::Result<()>;
}

/// A sink that keeps nothing (for speed measurements and `--no-decisions`).
pub struct NoRows;

impl RowSink for NoRows {
    fn row(&mut self, _: &Row, _: &Context<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a sink may need to render a row.
pub struct Context<'a> {
    /// Arm display names.
    pub arms: &'a [String],
    /// The arms' worlds, in arm order.
    pub worlds: Vec<&'a crate::model::config::WorldConfig>,
    /// The classifier.
    pub classifier: &'a Classifier,
    /// The first arm's graph.
    pub graph: &'a ServiceGraph,
}

/// Coverage of classification and service mapping.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ClassCoverage {
    /// Actions per class.
    pub classes: BTreeMap<String, u64>,
    /// Actions per class source (`log`, `rule:...`, `default:...`, `unclassified`).
    pub sources: BTreeMap<String, u64>,
    /// Actions no rule classified, by tool, with examples.
    pub unclassified: Tallies,
    /// Actions without a service, by reason, with examples.
    pub unmapped: Tallies,
    /// Tools that are neither Claude Code built-ins nor MCP tools, with examples.
    pub unknown_tools: Tallies,
}

/// Changed decisions between two arms.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// (from arm, to arm, from decision, to decision) → count and example actions.
    pub changes: BTreeMap<(usize, usize, DecisionKind, DecisionKind), log::Tally>,
}

/// Everything an audit found.
#[derive(Debug)]
pub struct AuditOutcome {
    /// Arm display names.
    pub arms: Vec<String>,
    /// Per-arm totals.
    pub stats: Vec<ArmStats>,
    /// What reading found.
    pub read: ReadStats,
    /// Classification coverage.
    pub coverage: ClassCoverage,
    /// Decision changes between arms.
    pub diff: Diff,
    /// The fitted author group.
    pub fit: fit::Fit,
    /// Actions replayed.
    pub actions: u64,
    /// Most actions held at once waiting for a slower arm's decision (the memory bound).
    pub peak_rows: usize,
}

/// Errors of an audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A log problem (a malformed line under `--strict`, an unreadable file).
    #[error("{0}")]
    Log(#[from] LogError),
    /// Writing an output failed.
    #[error("cannot write an output: {0}")]
    Io(#[from] std::io::Error),
}

/// Holds rows until every arm has decided them, and hands them on in action order.
struct Aligner {
    arms: usize,
    peak: usize,
    next: u64,
    rows: BTreeMap<u64, (Row, Vec<Option<Decision>>, usize)>,
}

impl Aligner {
    fn add_action(&mut self, row: Row) {
        let n = self.arms;
        self.rows
            .insert(row.action.seq, (row, (0..n).map(|_| None).collect(), n));
        self.peak = self.peak.max(self.rows.len());
    }

    fn decide(&mut self, arm: usize, d: Decision) {
        let entry = self
            .rows
            .get_mut(&d.seq)
            .expect("a decision for an action the aligner holds");
        debug_assert!(
            entry.1[arm].is_none(),
            "two decisions for one action and arm"
        );
        entry.1[arm] = Some(d);
        entry.2 -= 1;
    }

    /// Rows complete and next in order.
    fn ready(&mut self) -> Vec<Row> {
        let mut out = Vec::new();
        while let Some(entry) = self.rows.first_entry() {
            if *entry.key() != self.next || entry.get().2 > 0 {
                break;
            }
            let (mut row, decisions, _) = entry.remove();
            row.decisions = decisions
                .into_iter()
                .map(|d| d.expect("complete"))
                .collect();
            self.next += 1;
            out.push(row);
        }
        out
    }
}

/// Runs an audit: streams `logs` through every arm (× sweep point) of `scenario`, handing
/// each complete row to `sink`.
pub fn run(
    scenario: &Scenario,
    spec: &AuditSpec,
    mut stream: LogStream,
    sink: &mut dyn RowSink,
) -> Result<AuditOutcome, AuditError> {
    let mut names = Vec::new();
    let mut worlds = Vec::new();
    let mut perms = Vec::new();
    for (i, arm) in scenario.arms.iter().enumerate() {
        for (p, point) in scenario.points.iter().enumerate() {
            names.push(if scenario.points.len() > 1 {
                format!("{} @ {}", arm.name, point.label)
            } else {
                arm.name.clone()
            });
            worlds.push(scenario.world(i, p));
            perms.push(spec.arm_settings[i].as_ref());
        }
    }
    // Service mapping depends on the topology; arms usually share one graph.
    let mut graphs: Vec<Arc<ServiceGraph>> = Vec::new();
    let mut arm_graph = Vec::new();
    for w in &worlds {
        let g = &w.infra.graph;
        let idx = match graphs.iter().position(|x| Arc::ptr_eq(x, g)) {
            Some(i) => i,
            None => {
                graphs.push(g.clone());
                graphs.len() - 1
            }
        };
        arm_graph.push(idx);
    }
    let finders: Vec<Option<regex::Regex>> = graphs
        .iter()
        .map(|g| {
            spec.service_names
                .then(|| classify::name_finder(g))
                .flatten()
        })
        .collect();
    let mut classifier = Classifier {
        rules: spec.rules.clone(),
        defaults: if spec.default_rules {
            classify::default_rules()
        } else {
            Vec::new()
        },
        fallback: spec.unclassified_class,
        services: spec.services.clone(),
        names: None,
    };
    let mut arms: Vec<ArmReplay<'_>> = worlds
        .iter()
        .zip(&perms)
        .zip(&names)
        .map(|((w, p), n)| ArmReplay::new(n.clone(), w, *p, spec.group, scenario.seed))
        .collect();
    let mut aligner = Aligner {
        arms: arms.len(),
        peak: 0,
        next: 0,
        rows: BTreeMap::new(),
    };
    let mut coverage = ClassCoverage::default();
    let mut diff = Diff::default();
    let mut fit = fit::Fitter::default();
    let mut actions = 0u64;
    let mut last = SimTime::ZERO;
    let mut services: Vec<Option<ServiceId>> = vec![None; graphs.len()];
    let ctx_graph = graphs[0].clone();
    classifier.names = finders[0].clone();
    let mut fresh: Vec<(usize, Decision)> = Vec::new();
    while let Some(a) = stream.next_action()? {
        actions += 1;
        let (class, source) = classifier.classify(&a);
        let mut first = Err(Unmapped::NoMatch);
        for (g, graph) in graphs.iter().enumerate() {
            if graphs.len() > 1 {
                classifier.names = finders[g].clone();
            }
            let s = classifier.service(&a, graph);
            services[g] = s.as_ref().ok().map(|x| x.0);
            if g == 0 {
                first = s.map(|x| x.0);
            }
        }
        if graphs.len() > 1 {
            classifier.names = finders[0].clone();
        }
        record_coverage(&mut coverage, &classifier, &a, class, source, &first);
        fit.add(&a, class);
        let now = SimTime(a.time_ms.saturating_sub(MONDAY_ZERO_MS)).max(last);
        last = now;
        for (i, arm) in arms.iter_mut().enumerate() {
            arm.feed(now, &a, class, services[arm_graph[i]]);
            fresh.extend(arm.take().map(|d| (i, d)));
        }
        aligner.add_action(Row {
            action: a,
            class,
            class_source: source,
            service: first,
            decisions: Vec::new(),
        });
        for (i, d) in fresh.drain(..) {
            aligner.decide(i, d);
        }
        flush(
            &mut aligner,
            &mut diff,
            sink,
            &names,
            &worlds,
            &classifier,
            &ctx_graph,
        )?;
    }
    for (i, arm) in arms.iter_mut().enumerate() {
        arm.finish(last, DRAIN_LIMIT);
        for d in arm.take() {
            aligner.decide(i, d);
        }
    }
    flush(
        &mut aligner,
        &mut diff,
        sink,
        &names,
        &worlds,
        &classifier,
        &ctx_graph,
    )?;
    debug_assert!(
        aligner.rows.is_empty(),
        "every action was decided by every arm"
    );
    let stats = arms.iter().map(|a| a.stats().clone()).collect();
    Ok(AuditOutcome {
        arms: names,
        stats,
        read: stream.stats.clone(),
        coverage,
        diff,
        fit: fit.finish(),
        actions,
        peak_rows: aligner.peak,
    })
}

fn flush(
    aligner: &mut Aligner,
    diff: &mut Diff,
    sink: &mut dyn RowSink,
    names: &[String],
    worlds: &[&crate::model::config::WorldConfig],
    classifier: &Classifier,
    graph: &ServiceGraph,
) -> Result<(), AuditError> {
    let rows = aligner.ready();
    if rows.is_empty() {
        return Ok(());
    }
    let ctx = Context {
        arms: names,
        worlds: worlds.to_vec(),
        classifier,
        graph,
    };
    for row in rows {
        for i in 0..row.decisions.len() {
            for j in i + 1..row.decisions.len() {
                let (a, b) = (row.decisions[i].kind, row.decisions[j].kind);
                if a != b {
                    diff.changes.entry((i, j, a, b)).or_default().add(|| {
                        format!("#{} {}", row.action.seq, claude_code::describe(&row.action))
                    });
                }
            }
        }
        sink.row(&row, &ctx)?;
    }
    Ok(())
}

fn record_coverage(
    c: &mut ClassCoverage,
    classifier: &Classifier,
    a: &Action,
    class: ActionClass,
    source: ClassSource,
    service: &Result<ServiceId, Unmapped>,
) {
    *c.classes.entry(class.name().to_string()).or_insert(0) += 1;
    let src = match source {
        ClassSource::Log => "log".to_string(),
        ClassSource::Fallback => "unclassified".to_string(),
        s => classifier.source_name(s),
    };
    if let Some(n) = c.sources.get_mut(&src) {
        *n += 1;
    } else {
        c.sources.insert(src, 1);
    }
    if source == ClassSource::Fallback {
        tally(&mut c.unclassified, &a.tool, || claude_code::describe(a));
    }
    // Keyed by class first, so the drastic actions the guard cannot see stand out.
    match service {
        Ok(_) => {}
        Err(Unmapped::NoMatch) => tally(
            &mut c.unmapped,
            &format!("{}: no rule or service name matched", class.name()),
            || claude_code::describe(a),
        ),
        Err(Unmapped::UnknownService(name)) => tally(
            &mut c.unmapped,
            &format!("{}: named a service the topology lacks", class.name()),
            || format!("{name} ← {}", claude_code::describe(a)),
        ),
    }
    if !KNOWN_TOOLS.contains(&a.tool.as_str()) && !a.tool.starts_with("mcp__") {
        tally(&mut c.unknown_tools, &a.tool, || claude_code::describe(a));
    }
}

/// Options of `audit_to_dir`.
#[derive(Clone, Debug)]
pub struct Options {
    /// The results folder.
    pub out: std::path::PathBuf,
    /// Force a log format.
    pub format: Option<log::Format>,
    /// A malformed line is an error.
    pub strict: bool,
    /// Longest line, bytes.
    pub max_line: usize,
    /// Write `decisions.csv`.
    pub decisions: bool,
    /// The command line, recorded in `audit_coverage.json`.
    pub command: String,
}

/// Loads the scenario, audits `logs` and writes every output into `opts.out`.
pub fn audit_to_dir(
    scenario_path: &std::path::Path,
    logs: &[std::path::PathBuf],
    opts: &Options,
) -> anyhow::Result<AuditOutcome> {
    let scenario = crate::scenario::load(scenario_path)?;
    let spec = spec::parse(&scenario, &scenario.source, &|p| std::fs::read_to_string(p))?;
    let read = log::ReadOptions {
        format: opts.format,
        strict: opts.strict,
        max_line: opts.max_line,
        reorder_window: spec.reorder_window,
        untimed_spacing_ms: spec.untimed_spacing_ms,
        pair_window_ms: spec.pair_window_ms,
        ..log::ReadOptions::default()
    };
    let stream = LogStream::open(logs, read)?;
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", opts.out.display()))?;
    crate::report::atomic::clean_temps(&opts.out)?;
    let names: Vec<String> = logs.iter().map(|p| p.display().to_string()).collect();
    let outcome = if opts.decisions {
        let mut sink = outputs::DecisionsCsv::create(&opts.out, names.clone())?;
        let o = run(&scenario, &spec, stream, &mut sink)?;
        sink.commit()?;
        o
    } else {
        run(&scenario, &spec, stream, &mut NoRows)?
    };
    let group = &scenario.world(0, 0).authors[spec.group].name;
    outputs::write_all(
        &opts.out,
        &outcome,
        &outputs::Inputs {
            command: &opts.command,
            scenario: &scenario.name,
            scenario_hash: &scenario.hash,
            group,
            logs: &names,
            decisions: opts.decisions,
        },
    )?;
    Ok(outcome)
}
