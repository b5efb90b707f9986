//! End-to-end tests of the audit: hand-computed decisions of every arm on a small log,
//! hostile logs, located errors, determinism, the fitted block, and scale.

use std::path::{Path, PathBuf};

use crate::audit::log::{self, Format, ReadOptions, UNTIMED_START_MS};
use crate::audit::{NoRows, Options, audit_to_dir};
use crate::engine::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};

/// Monday 2026-01-05 00:00 UTC.
const MONDAY: u64 = UNTIMED_START_MS - 9 * MS_PER_HOUR;

fn at(day: u64, h: u64, m: u64, s: u64) -> u64 {
    MONDAY + day * MS_PER_DAY + h * MS_PER_HOUR + m * MS_PER_MINUTE + s * 1000
}

/// A fresh temporary folder for one test.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blastsim-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SCENARIO: &str = r#"
name = "audit-test"
question = "q"
horizon = "1d"
replications = 1
seed = 3

[infrastructure]
topology = { file = "g.dot" }
soft_dependency_share = 0.0
soft_propagation = 0.0
fallback_share = 0.0
cells = 1
detection = { exponential = { mean = "10m" } }
rollback = { lognormal = { median = "45m", sigma = 1.0 } }
rebuild = { lognormal = { median = "13h", sigma = 0.5 } }
restart_step = "5m"
responders = 1

[[authors]]
name = "agents"
kind = "agent"
count = 1
tasks_per_day = 1.0
mix = { code = 1.0 }
defect_probability = { code = 0.1 }
permissions = ["read_only", "code", "config", "infra", "destructive"]

[[reviewers]]
name = "peers"
seniority = "junior"
count = 1
review_time = { fixed = "30m" }
detection = 0.5
hours = { start = "09:00", end = "17:00", days = "mon-fri" }

[breakers]
blast_guard = { max_predicted_users = 0.5, estimate_noise = 0.0, action = "block", classes = ["destructive"] }
rate_limit = { per_agent = { rate = "1/h", burst = 2 } }
agent = { window = { count = 4 }, min_actions = 2, failure_rate = 0.5, open_for = "1h", half_open_trials = 1, failures = { incident = true } }

[[arms]]
name = "autonomous"
policy = "autonomous"

[[arms]]
name = "peer"
policy = "peer-review"

[[arms]]
name = "guard"
policy = "autonomous"
breakers = ["blast_guard"]

[[arms]]
name = "limited"
policy = "autonomous"
breakers = ["rate_limit"]

[[arms]]
name = "breaker"
policy = "autonomous"
breakers = ["agent"]

[[arms]]
name = "claude"
policy = "autonomous"
claude_code_settings = "settings.json"

[objectives]
velocity = "deploys_per_day"
risk = "user_impact_min_total"
"#;

const DOT: &str = r#"digraph g {
  "front" [weight=1.0];
  "db";
  "side" [weight=0.0];
  "front" -> "db";
}
"#;

const SETTINGS: &str = r#"{"permissions": {
  "allow": ["Bash(cargo test)"],
  "ask": ["Bash(kubectl:*)"],
  "deny": ["Bash(rm -rf:*)"],
  "defaultMode": "default"
}}"#;

/// Writes the test scenario (with `extra` appended) into `dir`.
fn scenario(dir: &Path, extra: &str) -> PathBuf {
    std::fs::write(dir.join("g.dot"), DOT).unwrap();
    std::fs::write(dir.join("settings.json"), SETTINGS).unwrap();
    let p = dir.join("s.toml");
    std::fs::write(&p, format!("{SCENARIO}\n{extra}")).unwrap();
    p
}

fn generic(lines: &[(u64, &str, &str)]) -> String {
    lines
        .iter()
        .map(|(t, agent, rest)| format!(r#"{{"time":{t},"agent":"{agent}",{rest}}}"#))
        .collect::<Vec<_>>()
        .join("\n")
}

fn options(out: &Path) -> Options {
    Options {
        out: out.to_path_buf(),
        format: None,
        strict: false,
        max_line: crate::audit::lines::DEFAULT_MAX_LINE,
        decisions: true,
        command: "blastsim audit (test)".to_string(),
    }
}

/// (action, arm) → (decision, decided_by, review_wait_ms, review_ms, delay_ms, predicted).
fn decisions(dir: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(dir.join("decisions.csv")).unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn find<'a>(rows: &'a [Vec<String>], action: u64, arm: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r[0] == action.to_string() && r[12] == arm)
        .unwrap_or_else(|| panic!("no row for action {action} arm {arm}"))
}

#[test]
fn every_arm_decides_as_computed_by_hand() {
    let dir = temp("hand");
    let s = scenario(&dir, "");
    let log = dir.join("log.jsonl");
    std::fs::write(
        &log,
        generic(&[
            (
                at(5, 10, 0, 0),
                "r",
                r#""tool":"Edit","path":"/r/src/a.rs""#,
            ),
            (
                at(0, 10, 0, 0),
                "a",
                r#""tool":"Bash","command":"cargo test","outcome":"ok""#,
            ),
            (
                at(0, 10, 0, 1),
                "a",
                r#""tool":"Bash","command":"cargo test""#,
            ),
            (
                at(0, 10, 0, 2),
                "a",
                r#""tool":"Bash","command":"cargo test""#,
            ),
            (
                at(0, 10, 30, 0),
                "g",
                r#""tool":"Bash","command":"kubectl delete deploy db""#,
            ),
            (
                at(0, 10, 31, 0),
                "g",
                r#""tool":"Bash","command":"kubectl delete deploy side""#,
            ),
            (
                at(0, 10, 32, 0),
                "g",
                r#""tool":"Bash","command":"rm -rf /tmp/x""#,
            ),
            (
                at(0, 11, 0, 0),
                "b",
                r#""tool":"Bash","command":"make","outcome":"error""#,
            ),
            (
                at(0, 11, 0, 10),
                "b",
                r#""tool":"Bash","command":"make","outcome":"error""#,
            ),
            (
                at(0, 11, 0, 20),
                "b",
                r#""tool":"Bash","command":"make","outcome":"ok""#,
            ),
        ]),
    )
    .unwrap();
    let out = dir.join("out");
    // The Saturday action (day 5) comes first in the file but last in time: the reorder
    // buffer sorts it.
    let o = audit_to_dir(&s, &[log], &options(&out)).unwrap();
    assert_eq!(o.actions, 10);
    let rows = decisions(&out);
    assert_eq!(rows.len(), 10 * 6);
    // Action 0 is the Monday 10:00 "cargo test"; the Saturday edit is action 9.
    let kind = |a, arm| find(&rows, a, arm)[13].clone();
    let by = |a, arm| find(&rows, a, arm)[14].clone();
    // Autonomous: everything runs.
    for a in 0..10 {
        assert_eq!(kind(a, "autonomous"), "allowed", "action {a}");
    }
    // Peer review, one reviewer working Monday to Friday 09:00-17:00, 30 minutes a review:
    // the Saturday 10:00 edit waits until the next Monday 09:00, 47 h.
    let sat = find(&rows, 9, "peer");
    assert_eq!(
        (sat[13].as_str(), sat[16].as_str(), sat[17].as_str()),
        ("asked", "169200000", "1800000")
    );
    // The first Monday action finds the reviewer idle; the second waits for it.
    assert_eq!(find(&rows, 0, "peer")[16], "0");
    assert_eq!(
        find(&rows, 1, "peer")[16],
        (30 * MS_PER_MINUTE - 1000).to_string()
    );
    // The guard blocks the delete of `db` (every user depends on it), lets the delete of
    // `side` (nobody does) through, and cannot see the unmapped rm.
    assert_eq!(
        (kind(3, "guard"), by(3, "guard")),
        ("blocked".into(), "breaker:blast_guard".into())
    );
    assert_eq!(find(&rows, 3, "guard")[15], "1");
    assert_eq!(kind(4, "guard"), "allowed");
    assert_eq!(find(&rows, 4, "guard")[15], "0");
    assert_eq!(kind(5, "guard"), "allowed");
    assert_eq!(find(&rows, 5, "guard")[15], "", "no service, no prediction");
    // Rate limit 1/h, burst 2: the third call of agent a within two seconds waits for a
    // token: one hour less the two seconds of refill already accrued.
    assert_eq!(kind(1, "limited"), "allowed");
    let third = find(&rows, 2, "limited");
    assert_eq!(
        (third[13].as_str(), third[14].as_str(), third[18].as_str()),
        ("held", "breaker:rate_limit", "3598000")
    );
    // Agent breaker: two failures of agent b (minimum 2, threshold 50%) trip it for 1 h at
    // the second; the third call, 10 s later, waits 1 h − 10 s.
    assert_eq!(kind(6, "breaker"), "allowed");
    assert_eq!(kind(7, "breaker"), "allowed");
    let held = find(&rows, 8, "breaker");
    assert_eq!(
        (held[13].as_str(), held[14].as_str(), held[18].as_str()),
        ("held", "breaker:agent", "3590000")
    );
    // Claude Code settings: deny > ask > allow, the default mode asks for the rest.
    assert_eq!(
        (kind(5, "claude"), by(5, "claude")),
        ("blocked".into(), "claude_code:deny:Bash(rm -rf:*)".into())
    );
    assert_eq!(
        (kind(3, "claude"), by(3, "claude")),
        ("asked".into(), "claude_code:ask:Bash(kubectl:*)".into())
    );
    assert_eq!(kind(0, "claude"), "allowed");
    assert_eq!(by(6, "claude"), "claude_code:defaultMode:default");
    assert_eq!(kind(9, "claude"), "asked", "an edit asks in default mode");
    // The summary agrees with the rows.
    let mut r = csv::Reader::from_path(out.join("audit_summary.csv")).unwrap();
    let summary: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let guard = summary.iter().find(|r| &r[0] == "guard").unwrap();
    assert_eq!((&guard[2], &guard[5]), ("9", "1"));
    let breaker = summary.iter().find(|r| &r[0] == "breaker").unwrap();
    assert_eq!(
        (&breaker[27], &breaker[28]),
        ("1", "1"),
        "one trip, one agent halted"
    );
    // The diff: moving from autonomous to guard changes exactly one decision.
    let diff = std::fs::read_to_string(out.join("audit_diff.csv")).unwrap();
    assert!(
        diff.contains("autonomous,guard,allowed,blocked,1,#3 Bash: kubectl delete deploy db"),
        "{diff}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hostile_lines_are_skipped_and_counted_or_located_under_strict() {
    let dir = temp("hostile");
    let log = dir.join("bad.jsonl");
    let huge = format!(
        r#"{{"time":1,"tool":"Read","path":"{}"}}"#,
        "x".repeat(3 << 20)
    );
    let mut text = String::new();
    text.push_str(&format!(
        r#"{{"time":{},"tool":"Read","path":"/a"}}"#,
        at(0, 9, 0, 0)
    ));
    text.push('\n');
    text.push_str(&huge);
    text.push('\n');
    text.push_str("   \n");
    text.push_str(r#"{"time":"last tuesday","tool":"Read"}"#);
    text.push('\n');
    text.push_str(r#"{"time":5,"tool":["Read"]}"#);
    text.push('\n');
    text.push_str(r#"{"time":5,"tool":"Read","class":"nuclear"}"#);
    text.push('\n');
    text.push_str("[1,2,3]\n");
    text.push_str("{not json\n");
    text.push_str(&format!(
        r#"{{"time":{},"tool":"Frobnicate","target":"thing"}}"#,
        at(0, 9, 1, 0)
    ));
    text.push('\n');
    std::fs::write(&log, text.as_bytes()).unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"\xff\xfe{\"tool\":\"x\"}\n");
    std::fs::write(&log, &bytes).unwrap();
    let opts = ReadOptions {
        format: Some(Format::Generic),
        ..ReadOptions::default()
    };
    let (actions, stats) = log::read_all(std::slice::from_ref(&log), opts.clone()).unwrap();
    assert_eq!(actions.len(), 2, "only the two good lines become actions");
    assert_eq!(actions[1].tool, "Frobnicate");
    assert_eq!(stats.blank_lines, 1);
    let count = |k: &str| stats.malformed.get(k).map_or(0, |t| t.count);
    assert_eq!(count("line too long"), 1);
    assert_eq!(count("wrong type"), 3, "{:?}", stats.malformed);
    assert_eq!(count("unknown value"), 1);
    assert_eq!(
        count("not JSON"),
        2,
        "bad syntax and bytes that are not UTF-8"
    );
    let long = &stats.malformed["line too long"].examples[0];
    assert!(
        long.contains("bad.jsonl:2:") && long.contains("3145"),
        "{long}"
    );
    // Under --strict the first bad line stops the read with file:line.
    let strict = ReadOptions {
        strict: true,
        ..opts
    };
    let e = log::read_all(std::slice::from_ref(&log), strict).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(
        e.to_string()
            .starts_with(&format!("{}:2: line too long", log.display())),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn late_lines_are_sorted_within_the_window_and_clamped_beyond_it() {
    let dir = temp("order");
    let log = dir.join("l.jsonl");
    let t0 = at(0, 10, 0, 0);
    // Times: 0, 3, 1, 2, 10, 11, 12, 13, 4. A window of 2 holds two actions and hands one
    // on per line beyond them: 3, 1 and 2 are sorted; 4 comes after 11 has been handed on,
    // so it is moved to 11.
    let times = [0u64, 3, 1, 2, 10, 11, 12, 13, 4];
    let text: Vec<String> = times
        .iter()
        .map(|s| format!(r#"{{"time":{},"tool":"Read","agent":"x"}}"#, t0 + s * 1000))
        .collect();
    std::fs::write(&log, text.join("\n")).unwrap();
    let opts = ReadOptions {
        reorder_window: 2,
        ..ReadOptions::default()
    };
    let (actions, stats) = log::read_all(std::slice::from_ref(&log), opts.clone()).unwrap();
    let got: Vec<u64> = actions.iter().map(|a| (a.time_ms - t0) / 1000).collect();
    assert_eq!(got, vec![0, 1, 2, 3, 10, 11, 11, 12, 13]);
    assert_eq!(stats.out_of_order.count, 1);
    assert!(stats.out_of_order.examples[0].ends_with("l.jsonl:9"));
    let e = log::read_all(
        std::slice::from_ref(&log),
        ReadOptions {
            strict: true,
            ..opts
        },
    )
    .unwrap_err();
    assert_eq!(e.line, 9);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_merge_in_time_order_and_claude_code_pairs_join() {
    let dir = temp("merge");
    let a = dir.join("a.jsonl");
    let b = dir.join("b.jsonl");
    let hook = |event: &str, id: &str, t: u64, extra: &str| {
        format!(
            r#"{{"session_id":"s","hook_event_name":"{event}","tool_name":"Bash","tool_input":{{"command":"make"}},"tool_use_id":"{id}","timestamp":{t}{extra}}}"#
        )
    };
    std::fs::write(
        &a,
        [
            hook("PreToolUse", "1", 1000, ""),
            hook("PreToolUse", "2", 3000, ""),
            hook(
                "PostToolUse",
                "2",
                3500,
                r#","tool_response":{"exit_code":2}"#,
            ),
            hook(
                "PostToolUse",
                "1",
                4000,
                r#","tool_response":{"exit_code":0}"#,
            ),
            hook("PostToolUse", "9", 5000, r#","tool_response":{}"#),
            hook("PreToolUse", "3", 6000, ""),
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(&b, r#"{"time":2000,"tool":"Read","agent":"g"}"#).unwrap();
    let (actions, stats) = log::read_all(&[a.clone(), b], ReadOptions::default()).unwrap();
    let got: Vec<(u64, &str, &str)> = actions
        .iter()
        .map(|x| (x.time_ms, x.tool.as_str(), x.outcome.name()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1000, "Bash", "ok"),
            (2000, "Read", "unknown"),
            (3000, "Bash", "error"),
            (5000, "Bash", "ok"),
            (6000, "Bash", "unknown"),
        ]
    );
    assert_eq!(
        actions.iter().map(|x| x.seq).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert_eq!(
        (stats.unpaired_post.count, stats.unpaired_pre.count),
        (1, 1)
    );
    assert_eq!(stats.files[0].format, "claude-code");
    assert_eq!(stats.files[1].format, "generic");
    // Untimed Claude Code events are placed by order.
    let c = dir.join("c.jsonl");
    std::fs::write(
        &c,
        r#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":"/x"}}
{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":"/y"}}"#,
    )
    .unwrap();
    let (actions, stats) = log::read_all(&[c], ReadOptions::default()).unwrap();
    assert_eq!(stats.untimed, 2);
    assert_eq!(actions[1].time_ms - actions[0].time_ms, 60_000);
    assert_eq!(actions[0].time_ms, UNTIMED_START_MS);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn audit_settings_errors_are_located() {
    let dir = temp("errors");
    let log = dir.join("l.jsonl");
    std::fs::write(&log, r#"{"tool":"Read"}"#).unwrap();
    for (extra, line_has, msg_has) in [
        ("[audit]\ngroup = \"robots\"\n", "robots", "no author group"),
        (
            "[[audit.classify]]\ncommand = '(unclosed'\nclass = \"code\"\n",
            "(unclosed",
            "bad regex",
        ),
        (
            "[[audit.classify]]\ncommand = 'x'\nclass = \"nuke\"\n",
            "nuke",
            "unknown class",
        ),
        ("[audit]\nuntimed_spacing = \"soon\"\n", "soon", ""),
        ("[audit]\ncolour = 1\n", "colour", "unknown field"),
    ] {
        let s = scenario(&dir, extra);
        let e = audit_to_dir(&s, std::slice::from_ref(&log), &options(&dir.join("o")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:"), "{extra}: {e}");
        assert!(e.contains(line_has) && e.contains(msg_has), "{extra}: {e}");
    }
    // A rule form the permissions reader does not implement is refused in the settings file.
    let s = scenario(&dir, "");
    std::fs::write(
        dir.join("settings.json"),
        "{\"permissions\": {\n  \"allow\": [\"Skill(deploy)\"]\n}}",
    )
    .unwrap();
    let e = audit_to_dir(&s, std::slice::from_ref(&log), &options(&dir.join("o")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("settings.json:2:13") && e.contains("not implemented"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_shipped_example_is_deterministic_and_its_fit_loads_as_a_scenario() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/audit-example.toml");
    let log = root.join("examples/audit/claude-code-hooks.jsonl");
    // The shipped log is what the generator writes.
    let mut regenerated = Vec::new();
    crate::audit::synth::claude_code_example(2026, 20, &mut regenerated).unwrap();
    assert_eq!(
        regenerated,
        std::fs::read(&log).unwrap(),
        "rerun `cargo run --example audit_log`"
    );
    let dir = temp("example");
    let (one, two) = (dir.join("1"), dir.join("2"));
    let o = audit_to_dir(&scenario, std::slice::from_ref(&log), &options(&one)).unwrap();
    audit_to_dir(&scenario, std::slice::from_ref(&log), &options(&two)).unwrap();
    assert!(o.actions >= 200, "a few hundred actions");
    for f in [
        "decisions.csv",
        "audit_summary.csv",
        "audit_diff.csv",
        "audit_coverage.json",
        "fitted_authors.toml",
        "audit.md",
        "audit_decisions.svg",
        "audit_decisions.png",
    ] {
        let a = std::fs::read(one.join(f)).unwrap();
        assert!(!a.is_empty(), "{f}");
        assert_eq!(
            a,
            std::fs::read(two.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    // The current settings stop some destructive calls; autonomous stops none.
    let claude = &o.stats[0];
    assert!(claude.destructive[crate::audit::replay::DecisionKind::Blocked.index()] > 0);
    assert_eq!(
        o.stats[1].kinds[0], o.actions,
        "autonomous allows everything"
    );
    // The fitted block joins a scenario as another author group and validates.
    let fitted = std::fs::read_to_string(one.join("fitted_authors.toml")).unwrap();
    let text = std::fs::read_to_string(&scenario).unwrap();
    let (head, tail) = text.split_at(text.find("[[reviewers]]").unwrap());
    let joined = dir.join("joined.toml");
    std::fs::write(&joined, format!("{head}{fitted}\n{tail}")).unwrap();
    std::fs::copy(
        root.join("scenarios/topologies/deathstarbench-social-network.dot"),
        {
            std::fs::create_dir_all(dir.join("topologies")).unwrap();
            dir.join("topologies/deathstarbench-social-network.dot")
        },
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("audit")).unwrap();
    std::fs::copy(
        root.join("scenarios/audit/claude-settings.json"),
        dir.join("audit/claude-settings.json"),
    )
    .unwrap();
    let s = crate::scenario::load(&joined).unwrap_or_else(|e| panic!("{e}\n{fitted}"));
    assert!(
        s.world(0, 0)
            .authors
            .iter()
            .any(|a| a.name == "agents-fitted")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_long_log_streams_in_bounded_memory() {
    // 10^6 actions in release builds (`cargo test --release`, a few seconds), 10^5 in
    // debug builds. 10^7 is measured by hand (docs/audit.md): `examples/audit_log --scale`.
    let n: u64 = if cfg!(debug_assertions) {
        100_000
    } else {
        1_000_000
    };
    let dir = temp("scale");
    let log = dir.join("big.jsonl");
    {
        let mut f = std::fs::File::create(&log).unwrap();
        crate::audit::synth::generic_scale(n, 50, &mut f).unwrap();
    }
    // Every arm that decides at once (no review): the rows never wait for a slow arm.
    let text = SCENARIO
        .replace("[[arms]]\nname = \"peer\"\npolicy = \"peer-review\"\n", "")
        .replace("[[arms]]\nname = \"claude\"\npolicy = \"autonomous\"\nclaude_code_settings = \"settings.json\"\n", "");
    assert!(!text.contains("peer-review") && !text.contains("claude_code_settings"));
    let path = scenario(&dir, "");
    std::fs::write(&path, &text).unwrap();
    let scenario = crate::scenario::load(&path).unwrap();
    let spec =
        crate::audit::spec::parse(&scenario, &text, &|p| std::fs::read_to_string(p)).unwrap();
    let stream = log::LogStream::open(std::slice::from_ref(&log), ReadOptions::default()).unwrap();
    let o = crate::audit::run(&scenario, &spec, stream, &mut NoRows).unwrap();
    assert_eq!(o.actions, n);
    assert_eq!(o.read.lines, n);
    for s in &o.stats {
        assert_eq!(s.kinds.iter().sum::<u64>(), n);
    }
    // Memory: one row at a time, whatever the length.
    assert_eq!(o.peak_rows, 1);
    // The rate limit (1/h, burst 2) holds almost everything of 50 agents acting every 50 s.
    let limited = &o.stats[2];
    assert!(limited.kinds[crate::audit::replay::DecisionKind::Held.index()] > n / 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_exits_0_on_success_and_2_on_bad_input() {
    use clap::Parser;
    let dir = temp("cli");
    let s = scenario(&dir, "");
    let log = dir.join("l.jsonl");
    std::fs::write(&log, "{\"tool\":\"Read\"}\n{oops\n").unwrap();
    let out = dir.join("out");
    let run = |log: &Path, extra: &[&str]| {
        let mut args = vec![
            "blastsim",
            "audit",
            s.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        crate::cli::dispatch(crate::cli::Cli::parse_from(args))
    };
    assert_eq!(run(&log, &[]), crate::cli::EXIT_OK);
    assert!(out.join("decisions.csv").exists());
    assert_eq!(run(&log, &["--strict"]), crate::cli::EXIT_BAD_INPUT);
    assert_eq!(run(&log, &["--format", "yaml"]), crate::cli::EXIT_BAD_INPUT);
    assert_eq!(
        run(&dir.join("missing.jsonl"), &[]),
        crate::cli::EXIT_BAD_INPUT
    );
    // --no-decisions leaves decisions.csv out and the rest in.
    std::fs::remove_dir_all(&out).unwrap();
    assert_eq!(run(&log, &["--no-decisions"]), crate::cli::EXIT_OK);
    assert!(!out.join("decisions.csv").exists());
    assert!(out.join("audit_summary.csv").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
