//! The tidy test: bans the footguns that break determinism or the house style, by scanning
//! the source under `sim/`. Each rule is one line of `RULES`; a failure prints every
//! offending `file:line` with the rule's reason.

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
            for (scope, banned, why) in RULES {
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
    ];
    let found = violations(&files);
    assert_eq!(
        found,
        [
            "sim/engine/queue.rs:2: `HashMap`: hash iteration order is random; use a Vec by id or a BTreeMap",
            "sim/model/x.rs:2: `Instant::now`: a run must not read the wall clock",
            "sim/cli/run.rs:3: `rand::rng()`: randomness comes from Seed::stream only",
            "sim/metrics/y.rs:1: first line is not a `//!` header",
        ]
    );
}
