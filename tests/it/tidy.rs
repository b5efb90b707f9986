//! The tidy test: bans the footguns that break determinism or the house style, and imports
//! against the layer arrows, by scanning the source under `sim/`. Each rule is one line of
//! `RULES`; a failure prints every offending `file:line` with the rule's reason.
//!
//! The layers (lib.rs): `cli → pipeline → report / chaos → experiment → scenario → metrics
//! → model → engine`; the model emits trace events and never sees the collector.

use std::path::{Path, PathBuf};

/// Where a rule applies: these top-level modules of `sim/`, or all of `sim/` when empty.
type Scope = &'static [&'static str];

/// Modules that make up a run, which must be a pure function of (scenario, seed).
const RUN: Scope = &[
    "engine",
    "model",
    "metrics",
    "experiment",
    "scenario",
    "chaos",
];
/// Modules whose iteration order can reach event scheduling.
const ORDERED: Scope = &["engine", "model", "audit"];
const EVERYWHERE: Scope = &[];
/// Every module but the command line (`lib.rs` and `main.rs` declare, never import).
const NOT_CLI: Scope = &[
    "engine",
    "model",
    "metrics",
    "scenario",
    "experiment",
    "report",
    "chaos",
    "pipeline",
];
/// Every module below `pipeline`.
const BELOW_PIPELINE: Scope = &[
    "engine",
    "model",
    "metrics",
    "scenario",
    "experiment",
    "report",
    "chaos",
];
/// The pure layers under experiments, reports and chaos.
const CORE: Scope = &["engine", "model", "metrics", "scenario"];
/// The layers that sit beside `report` and must not write results folders themselves.
const BESIDE_REPORT: Scope = &["experiment", "chaos"];
const ENGINE: Scope = &["engine"];
const MODEL: Scope = &["model"];

/// (scope, banned text, why).
const RULES: &[(Scope, &str, &str)] = &[
    (
        ORDERED,
        "HashMap",
        "hash iteration order is random; use a Vec by id or a BTreeMap",
    ),
    (
        ORDERED,
        "HashSet",
        "hash iteration order is random; use a Vec by id or a BTreeSet",
    ),
    (RUN, "SystemTime::now", "a run must not read the wall clock"),
    (RUN, "Instant::now", "a run must not read the wall clock"),
    (RUN, "std::env", "a run must not read the environment"),
    (
        EVERYWHERE,
        "rand::rng()",
        "randomness comes from Seed::stream only",
    ),
    (
        EVERYWHERE,
        "thread_rng",
        "randomness comes from Seed::stream only",
    ),
    (
        EVERYWHERE,
        "rand::random",
        "randomness comes from Seed::stream only",
    ),
    (
        NOT_CLI,
        "crate::cli",
        "layers: only the command line uses `cli`",
    ),
    (
        BELOW_PIPELINE,
        "crate::pipeline",
        "layers: only `cli` calls the pipelines",
    ),
    (
        CORE,
        "crate::report",
        "layers: engine, model, metrics and scenario are below `report`",
    ),
    (
        CORE,
        "crate::experiment",
        "layers: engine, model, metrics and scenario are below `experiment`",
    ),
    (
        CORE,
        "crate::chaos",
        "layers: engine, model, metrics and scenario are below `chaos`",
    ),
    (
        BESIDE_REPORT,
        "crate::report",
        "layers: results folders are written by `pipeline` through `report`",
    ),
    (ENGINE, "crate::model", "layers: the engine knows no domain"),
    (
        ENGINE,
        "crate::metrics",
        "layers: the engine knows no domain",
    ),
    (
        ENGINE,
        "crate::scenario",
        "layers: the engine knows no domain",
    ),
    (
        MODEL,
        "crate::metrics",
        "layers: the model emits trace events; `metrics` reads them, never the other way",
    ),
    (
        CORE,
        "blastsim::",
        "layers: the library names itself `crate::`, so the rules above see every import",
    ),
];

/// One source file: its path relative to `sim/` and its text.
struct Source {
    path: PathBuf,
    text: String,
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let path = path.strip_prefix(root).expect("under sim/").to_path_buf();
            out.push(Source { path, text });
        }
    }
}

/// Every violation of `RULES` and of the `//!` header rule, as "sim/file:line: ...".
///
/// Lines that are comments are skipped, so a doc may name what it bans.
fn violations(files: &[Source]) -> Vec<String> {
    violations_of(files, RULES)
}

/// As `violations`, with the given rules.
fn violations_of(files: &[Source], rules: &[(Scope, &str, &str)]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let shown = Path::new("sim").join(&file.path);
        if !file.text.starts_with("//!") {
            found.push(format!(
                "{}:1: first line is not a `//!` header",
                shown.display()
            ));
        }
        let module = file
            .path
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str());
        let module = module.map(|m| m.trim_end_matches(".rs")).unwrap_or("");
        for (n, line) in (1..).zip(file.text.lines()) {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (scope, banned, why) in rules {
                let applies = scope.is_empty() || scope.contains(&module);
                if applies && line.contains(banned) {
                    found.push(format!("{}:{n}: `{banned}`: {why}", shown.display()));
                }
            }
        }
    }
    found
}

#[test]
fn tidy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    assert!(
        files.len() > 10,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    let found = violations(&files);
    assert!(
        found.is_empty(),
        "tidy found {} problem(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The scanner itself catches what it should, in scope only, and ignores comments.
#[test]
fn tidy_rules_catch_planted_lines() {
    let file = |path: &str, text: &str| Source {
        path: PathBuf::from(path),
        text: text.to_string(),
    };
    let files = [
        file(
            "engine/queue.rs",
            "//! q\nuse std::collections::HashMap;\n// HashMap in a comment\n",
        ),
        file("report/mod.rs", "//! r\nuse std::collections::HashMap;\n"),
        file("model/x.rs", "//! x\nlet t = std::time::Instant::now();\n"),
        file(
            "cli/run.rs",
            "//! c\nlet t = std::time::Instant::now();\nlet r = rand::rng();\n",
        ),
        file("metrics/y.rs", "fn main() {}\n"),
        file("lib.rs", "//! lib\nlet v = std::env::var(\"X\");\n"),
        file(
            "report/tables.rs",
            "//! t\nuse crate::cli::run;\nuse crate::experiment::plan;\n",
        ),
        file("experiment/a.rs", "//! a\nuse crate::pipeline::run;\n"),
        file("scenario/b.rs", "//! b\nuse crate::report::journal;\n"),
        file("engine/c.rs", "//! c\nuse crate::model::World;\n"),
        file("chaos/d.rs", "//! d\nuse crate::report::atomic;\n"),
        file(
            "cli/e.rs",
            "//! e\nuse crate::cli::progress;\nuse crate::pipeline::run;\n",
        ),
        file("pipeline/f.rs", "//! f\nuse crate::report::journal;\n"),
    ];
    let found = violations(&files);
    assert_eq!(
        found,
        [
            "sim/engine/queue.rs:2: `HashMap`: hash iteration order is random; use a Vec by id or a BTreeMap",
            "sim/model/x.rs:2: `Instant::now`: a run must not read the wall clock",
            "sim/cli/run.rs:3: `rand::rng()`: randomness comes from Seed::stream only",
            "sim/metrics/y.rs:1: first line is not a `//!` header",
            "sim/report/tables.rs:2: `crate::cli`: layers: only the command line uses `cli`",
            "sim/experiment/a.rs:2: `crate::pipeline`: layers: only `cli` calls the pipelines",
            "sim/scenario/b.rs:2: `crate::report`: layers: engine, model, metrics and scenario are below `report`",
            "sim/engine/c.rs:2: `crate::model`: layers: the engine knows no domain",
            "sim/chaos/d.rs:2: `crate::report`: layers: results folders are written by `pipeline` through `report`",
        ]
    );
}

/// The arrow between `metrics` and `model` points one way: the model never imports metrics.
#[test]
fn layer_rule_catches_model_importing_metrics() {
    let files = [
        Source {
            path: PathBuf::from("model/world/mod.rs"),
            text: "//! w\nuse crate::metrics::Collector;\n".to_string(),
        },
        Source {
            path: PathBuf::from("metrics/run.rs"),
            text: "//! r\nuse crate::model::World;\n".to_string(),
        },
    ];
    assert_eq!(
        violations_of(&files, RULES),
        [
            "sim/model/world/mod.rs:2: `crate::metrics`: layers: the model emits trace events; `metrics` reads them, never the other way"
        ]
    );
}

/// Every shipped text file (not `target/`, `.git/` or the generated `results/`, which the
/// next regeneration rewrites) that names the research brief instead of the project's own
/// calibration document.
fn brief_citations(dir: &Path, root: &Path, out: &mut Vec<String>) {
    // Spelled in two pieces so this file does not match itself.
    let brief = ["CALIBRATION", ".md"].concat();
    let short = ["CALIBRATION", " §"].concat();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !matches!(name, "target" | ".git" | "results") {
                brief_citations(&p, root, out);
            }
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if line.contains(&brief) || line.contains(&short) {
                let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
                out.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
}

#[test]
fn no_shipped_file_cites_the_research_brief() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    brief_citations(root, root, &mut found);
    assert!(
        found.is_empty(),
        "cite docs/calibration.md §x.y instead:\n  {}",
        found.join("\n  ")
    );
}
