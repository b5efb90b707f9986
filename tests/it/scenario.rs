//! Scenario files: shipped scenarios validate, every class of bad input gives a located
//! error (exact line and column, a key phrase, the valid names), sweeps expand and apply,
//! worlds are indexed arm-major, and the hash tracks every input byte.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use blastsim::engine::SimDuration;
use blastsim::model::config::{Requirement, Seniority};
use blastsim::scenario::{self, Scenario, ScenarioError};

/// A small valid scenario. Line numbers matter: the error tests assert them.
const MINI: &str = r#"name = "mini"
question = "q"
horizon = "7d"
replications = 2
seed = 1

[infrastructure]
topology = { generator = "layered", services = 6, layers = 2, mean_dependencies = 1.0 }
soft_dependency_share = 0.5
soft_propagation = 0.2
detection = { fixed = "5m" }
rollback = { exponential = { mean = "30m" } }
rebuild = { lognormal = { median = "10h", sigma = 0.5 } }
restart_step = "1m"
responders = 1

[[authors]]
name = "bots"
kind = "agent"
count = 2
tasks_per_day = 3.0
mix = { code = 0.5, config = 0.5 }
defect_probability = { code = 0.1, config = 0.2 }
permissions = ["code", "config"]

[[reviewers]]
name = "seniors"
seniority = "senior"
count = 2
review_time = { uniform = { min = "10m", max = "20m" } }
detection = 0.7

[[policies]]
name = "gate"
rules = [{ when = { group = "bots" }, require = "senior" }]

[breakers]
blast_guard = { max_predicted_users = 0.1 }

[[arms]]
name = "open"
policy = "autonomous"

[[arms]]
name = "guarded"
policy = "gate"
breakers = ["blast_guard"]
"#;

/// In-memory files the scenario may reference, relative to `dir/`.
fn files() -> BTreeMap<PathBuf, String> {
    let mut m = BTreeMap::new();
    m.insert(PathBuf::from("dir/topo/g.csv"), "a,b\nb,c\n".to_string());
    m
}

fn parse_with(text: &str, files: &BTreeMap<PathBuf, String>) -> Result<Scenario, ScenarioError> {
    scenario::parse(text, Path::new("dir/s.toml"), |p: &Path| {
        files
            .get(p)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    })
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    parse_with(text, &files())
}

/// MINI with `old` (which must occur exactly once) replaced by `new`.
fn edit(old: &str, new: &str) -> String {
    assert_eq!(
        MINI.matches(old).count(),
        1,
        "`{old}` must occur once in MINI"
    );
    MINI.replacen(old, new, 1)
}

/// Asserts `text` fails at `line`:`column` of `file` with a message containing every
/// phrase; returns the message.
#[track_caller]
fn check_err(text: &str, file: &str, line: usize, column: usize, phrases: &[&str]) -> String {
    let e = match parse(text) {
        Ok(_) => panic!("expected an error at {line}:{column}, but the scenario validated"),
        Err(e) => e,
    };
    let shown = e.to_string();
    assert_eq!(e.file(), Path::new(file), "{shown}");
    assert_eq!((e.line(), e.column()), (line, column), "{shown}");
    assert!(
        shown.starts_with(&format!("{file}:{line}:{column}: ")),
        "display must start with file:line:column: {shown}"
    );
    for p in phrases {
        assert!(e.message().contains(p), "missing `{p}` in: {shown}");
    }
    e.message().to_string()
}

#[test]
fn mini_validates_into_arm_major_worlds() {
    let s = parse(MINI).unwrap();
    assert_eq!(s.arms.len(), 2);
    assert_eq!(s.points.len(), 1);
    assert_eq!(s.points[0].label, "base");
    assert_eq!(s.worlds.len(), 2);
    assert_eq!(s.run_count(), 4);
    assert_eq!(s.baseline_arm, 0);
    // Arm 0 is the autonomous preset without breakers; arm 1 the file policy with a guard.
    assert_eq!(s.world(0, 0).policy.name, "autonomous");
    assert!(s.world(0, 0).breakers.blast_guard.is_none());
    let gate = &s.world(1, 0).policy;
    assert_eq!(gate.name, "gate");
    assert_eq!(gate.rules[0].when.groups, Some(vec![0]));
    assert_eq!(gate.rules[0].require, Requirement::Senior);
    let guard = s.world(1, 0).breakers.blast_guard.unwrap();
    assert_eq!(guard.max_predicted_users, 0.1);
    assert_eq!(s.world(1, 0).horizon, SimDuration::from_days(7));
    assert_eq!(
        s.world(1, 0).reviewers.groups[0].seniority,
        Seniority::Senior
    );
    // Defaults the file left out.
    assert_eq!(s.world(0, 0).authors[0].max_attempts, 3);
    assert_eq!(s.world(0, 0).events_max, 1_000_000_000);
    // Both arms share one graph.
    assert!(std::sync::Arc::ptr_eq(
        &s.world(0, 0).infra.graph,
        &s.world(1, 0).infra.graph
    ));
    assert_eq!(s.hash.len(), 16);
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let s = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.question.is_empty());
        assert!(!s.sources.is_empty(), "{} cites no sources", path.display());
        seen.push((s.name.clone(), s.arms.len(), s.points.len()));
    }
    seen.sort();
    let expect = [
        ("baseline", 4, 1),
        ("breakers-vs-signoff", 5, 6),
        ("kiro-13h-outage", 8, 1),
        ("smoke", 2, 1),
    ];
    for (name, arms, points) in expect {
        assert!(
            seen.contains(&(name.to_string(), arms, points)),
            "{name}: expected {arms} arms x {points} points, found {seen:?}"
        );
    }
}

#[test]
fn the_case_study_grants_destructive_and_escalates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/kiro-13h-outage.toml");
    let s = scenario::load(&path).unwrap();
    let w = s.world(0, 0);
    let agents = w.authors.iter().find(|a| a.name == "ops-agents").unwrap();
    use blastsim::model::config::ActionClass;
    assert!(agents.permissions.contains(ActionClass::Destructive));
    assert!(agents.escalation.is_some());
    assert_eq!(agents.mix.get(ActionClass::Destructive), 0.0);
    let names: Vec<&str> = s.arms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "autonomous",
            "senior-signoff",
            "two-person",
            "blast-guard",
            "agent-breaker",
            "kill-switch",
            "least-privilege",
            "peer+guard"
        ]
    );
    assert!(s.world(3, 0).breakers.blast_guard.is_some());
    assert!(s.world(4, 0).breakers.agent.is_some());
    assert!(s.world(5, 0).breakers.kill_switch.is_some());
    // The least-privilege arm is the misconfiguration fixed: no destructive permission,
    // and nothing else changed.
    let fixed = s.world(6, 0);
    let fixed_agents = fixed
        .authors
        .iter()
        .find(|a| a.name == "ops-agents")
        .unwrap();
    assert!(!fixed_agents.permissions.contains(ActionClass::Destructive));
    assert!(fixed_agents.permissions.contains(ActionClass::Infra));
    assert_eq!(fixed.policy.name, w.policy.name);
    assert_eq!(fixed.breakers, w.breakers);
}

// ----- one test per class of bad input -----

#[test]
fn unknown_key() {
    let t = edit("soft_propagation = 0.2", "soft_propagaton = 0.2");
    check_err(
        &t,
        "dir/s.toml",
        10,
        1,
        &["unknown field `soft_propagaton`", "`soft_propagation`"],
    );
}

#[test]
fn wrong_type() {
    let t = edit("count = 2\ntasks", "count = \"two\"\ntasks");
    check_err(&t, "dir/s.toml", 20, 9, &["invalid type", "u32"]);
}

#[test]
fn toml_syntax_error() {
    let t = edit("seed = 1", "seed = = 1");
    check_err(&t, "dir/s.toml", 5, 8, &[]);
}

#[test]
fn probability_outside_unit_interval() {
    let t = edit("detection = 0.7", "detection = 1.5");
    check_err(
        &t,
        "dir/s.toml",
        31,
        13,
        &["probability between 0 and 1", "1.5"],
    );
    let t = edit("config = 0.2 }", "config = -0.2 }");
    check_err(
        &t,
        "dir/s.toml",
        23,
        45,
        &["defect_probability.config", "-0.2"],
    );
}

#[test]
fn mix_not_summing_to_one() {
    let t = edit("config = 0.5 }", "config = 0.4 }");
    check_err(&t, "dir/s.toml", 22, 7, &["must sum to 1", "sums to 0.9"]);
}

#[test]
fn unknown_class_name_lists_the_valid_ones() {
    let t = edit("[\"code\", \"config\"]", "[\"code\", \"confg\"]");
    check_err(
        &t,
        "dir/s.toml",
        24,
        24,
        &[
            "unknown action class `confg`",
            "did you mean `config`",
            "`read_only`, `code`, `config`, `infra` or `destructive`",
        ],
    );
    // An unknown class as a mix key is caught by the format itself, with the list.
    let t = edit("mix = { code = 0.5", "mix = { cod = 0.5");
    check_err(
        &t,
        "dir/s.toml",
        22,
        9,
        &["unknown field `cod`", "`code`", "`destructive`"],
    );
}

#[test]
fn unknown_group_name_lists_the_valid_ones() {
    let t = edit("group = \"bots\"", "group = \"bot\"");
    check_err(
        &t,
        "dir/s.toml",
        35,
        29,
        &[
            "unknown author group `bot`",
            "did you mean `bots`",
            "expected `bots`",
        ],
    );
}

#[test]
fn unknown_policy_name_lists_files_and_presets() {
    let t = edit("policy = \"gate\"", "policy = \"gates\"");
    check_err(
        &t,
        "dir/s.toml",
        46,
        10,
        &[
            "unknown policy",
            "`gates`",
            "did you mean `gate`",
            "`gate`, `autonomous`, `peer-review`, `senior-signoff`, `two-person` or `risk-tiered`",
        ],
    );
}

#[test]
fn unknown_or_unconfigured_breaker() {
    let t = edit(
        "breakers = [\"blast_guard\"]",
        "breakers = [\"blast_gaurd\"]",
    );
    check_err(
        &t,
        "dir/s.toml",
        47,
        13,
        &[
            "unknown breaker `blast_gaurd`",
            "did you mean `blast_guard`",
            "configured breakers are `blast_guard`",
        ],
    );
    let t = edit(
        "breakers = [\"blast_guard\"]",
        "breakers = [\"kill_switch\"]",
    );
    check_err(
        &t,
        "dir/s.toml",
        47,
        13,
        &["`kill_switch` is not configured in [breakers]"],
    );
}

#[test]
fn unknown_preset_lists_the_presets() {
    let t = edit(
        "blast_guard = { max_predicted_users = 0.1 }",
        "agent = { preset = \"resilience4j\" }\nblast_guard = { max_predicted_users = 0.1 }",
    );
    check_err(
        &t,
        "dir/s.toml",
        38,
        20,
        &[
            "unknown agent breaker preset `resilience4j`",
            "`resilience4j-rescaled`, `resilience4j-defaults`, `hystrix-like` or `envoy-like`",
        ],
    );
    let t = edit(
        "topology = { generator = \"layered\", services = 6, layers = 2, mean_dependencies = 1.0 }",
        "topology = { preset = \"train-tickets\" }",
    );
    check_err(
        &t,
        "dir/s.toml",
        8,
        23,
        &["unknown topology preset", "`train-ticket`"],
    );
}

#[test]
fn bad_duration() {
    let t = edit("horizon = \"7d\"", "horizon = \"7 dayz\"");
    check_err(
        &t,
        "dir/s.toml",
        3,
        11,
        &["invalid duration \"7 dayz\"", "\"30m\""],
    );
    let t = edit("restart_step = \"1m\"", "restart_step = \"5\"");
    check_err(&t, "dir/s.toml", 14, 16, &["a number needs a unit"]);
}

#[test]
fn empty_groups_and_missing_people() {
    let t = edit("count = 2\ntasks", "count = 0\ntasks");
    check_err(&t, "dir/s.toml", 20, 9, &["author group `bots` is empty"]);
    let t = edit("count = 2\nreview_time", "count = 0\nreview_time");
    check_err(
        &t,
        "dir/s.toml",
        29,
        9,
        &["reviewer group `seniors` is empty"],
    );
    // No authors at all: the error points at the top of the file.
    let start = MINI.find("[[authors]]").unwrap();
    let end = MINI.find("[[reviewers]]").unwrap();
    let t = format!("{}{}", &MINI[..start], &MINI[end..]);
    check_err(&t, "dir/s.toml", 1, 1, &["no [[authors]]"]);
}

#[test]
fn policy_needing_missing_reviewers() {
    // Juniors only: the file policy wants a senior, located at its `require`.
    let t = edit("seniority = \"senior\"", "seniority = \"junior\"");
    check_err(
        &t,
        "dir/s.toml",
        35,
        49,
        &["policy `gate` requires a senior review"],
    );
    // A preset that needs two people, with one reviewer: located at the arm's policy.
    let t = edit("count = 2\nreview_time", "count = 1\nreview_time")
        .replace("policy = \"gate\"", "policy = \"two-person\"");
    check_err(
        &t,
        "dir/s.toml",
        46,
        10,
        &["requires two distinct reviewers", "only 1"],
    );
}

#[test]
fn topology_file_missing_is_located_at_the_file_value() {
    let t = edit(
        "topology = { generator = \"layered\", services = 6, layers = 2, mean_dependencies = 1.0 }",
        "topology = { file = \"topo/missing.csv\" }",
    );
    check_err(
        &t,
        "dir/s.toml",
        8,
        21,
        &[
            "cannot read topology file `topo/missing.csv`",
            "not found",
            "dir/topo/missing.csv",
        ],
    );
    // The one that exists loads, relative to the scenario's directory.
    let t = edit(
        "topology = { generator = \"layered\", services = 6, layers = 2, mean_dependencies = 1.0 }",
        "topology = { file = \"topo/g.csv\" }",
    );
    let s = parse(&t).unwrap();
    assert_eq!(s.referenced_files.len(), 1);
    assert_eq!(s.referenced_files[0].0, PathBuf::from("dir/topo/g.csv"));
}

#[test]
fn topology_fields_must_fit_their_source() {
    let t = edit(
        "layers = 2, mean",
        "layers = 2, edges_per_service = 3, mean",
    );
    check_err(
        &t,
        "dir/s.toml",
        8,
        83,
        &["`edges_per_service` does not apply to generator `layered`"],
    );
}

#[test]
fn unknown_metric_suggests_the_nearest() {
    let t = format!("{MINI}\n[objectives]\nrisk = \"user_impact_total\"\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        8,
        &[
            "unknown metric `user_impact_total`",
            "did you mean `user_impact_min_total`",
        ],
    );
}

#[test]
fn fault_fields_must_fit_their_kind() {
    let t = format!(
        "{MINI}\n[[faults]]\nkind = \"reviewer_outage\"\nat = \"1d\"\nduration = \"1d\"\nclass = \"code\"\n"
    );
    check_err(
        &t,
        "dir/s.toml",
        53,
        9,
        &[
            "`class` does not apply to fault kind `reviewer_outage`",
            "`group` or `fraction`",
        ],
    );
}

// ----- sweeps -----

const SWEEP: &str = r#"
[sweep]
"breakers.blast_guard.max_predicted_users" = [0.05, 0.2]
"authors.bots.count" = { from = 1, to = 3, step = 1 }
"#;

#[test]
fn sweep_grid_labels_and_overrides() {
    let s = parse(&format!("{MINI}{SWEEP}")).unwrap();
    assert_eq!(s.axes.len(), 2);
    assert_eq!(s.axes[0].path, "breakers.blast_guard.max_predicted_users");
    assert_eq!(s.axes[0].values, ["0.05", "0.2"]);
    assert_eq!(s.axes[1].values, ["1", "2", "3"]);
    assert_eq!(s.points.len(), 6);
    assert_eq!(s.worlds.len(), 12);
    assert_eq!(s.run_count(), 24);
    // File order, first axis slowest.
    assert_eq!(
        s.points[4].label,
        "breakers.blast_guard.max_predicted_users=0.2, authors.bots.count=2"
    );
    for (p, point) in s.points.iter().enumerate() {
        assert_eq!(point.index, p);
        let threshold = [0.05, 0.2][p / 3];
        let count = [1, 2, 3][p % 3];
        for arm in 0..2 {
            let w = s.world(arm, p);
            assert_eq!(w.authors[0].count, count, "arm {arm} point {p}");
            // Only the guarded arm switches the guard on.
            match (arm, w.breakers.blast_guard) {
                (0, None) => {}
                (1, Some(g)) => assert_eq!(g.max_predicted_users, threshold),
                other => panic!("arm {arm} point {p}: {other:?}"),
            }
            // arm-major indexing
            assert_eq!(w.authors[0].count, s.worlds[arm * 6 + p].authors[0].count);
        }
    }
}

#[test]
fn sweep_float_range_and_values_table() {
    let sweep = r#"
[sweep]
"infrastructure.soft_propagation" = { from = 0.1, to = 0.3, step = 0.1 }
"policies.gate.rules.0.require" = { values = ["peer", "senior"] }
"#;
    let s = parse(&format!("{MINI}{sweep}")).unwrap();
    assert_eq!(s.axes[0].values, ["0.1", "0.2", "0.3"]);
    assert_eq!(s.world(1, 5).infra.soft_propagation, 0.3);
    assert_eq!(s.world(1, 4).policy.rules[0].require, Requirement::Peer);
    assert_eq!(s.world(1, 5).policy.rules[0].require, Requirement::Senior);
}

#[test]
fn unknown_sweep_path_suggests_the_nearest() {
    let t = format!("{MINI}\n[sweep]\n\"authors.bots.cont\" = [1, 2]\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        1,
        &[
            "unknown path `authors.bots.cont`",
            "did you mean `authors.bots.count`",
        ],
    );
    let t = format!("{MINI}\n[sweep]\n\"authors.bot.count\" = [1, 2]\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        1,
        &[
            "unknown path `authors.bot.count`",
            "`authors.bot` is not in the scenario",
            "`authors.bots.count`",
        ],
    );
    let t = format!("{MINI}\n[sweep]\n\"seed\" = [1, 2]\n");
    check_err(&t, "dir/s.toml", 50, 1, &["`seed` cannot be swept"]);
}

#[test]
fn bad_sweep_value_names_the_sweep_entry() {
    let t = format!("{MINI}\n[sweep]\n\"authors.bots.count\" = [1, 0]\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        28,
        &[
            "sweep `authors.bots.count` = 0",
            "author group `bots` is empty",
        ],
    );
    let t = format!("{MINI}\n[sweep]\n\"reviewers.seniors.detection\" = [0.5, 2.0]\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        39,
        &["sweep `reviewers.seniors.detection` = 2.0", "probability"],
    );
}

#[test]
fn arm_overrides_apply_to_their_arm_only() {
    let t = edit(
        "breakers = [\"blast_guard\"]",
        "breakers = [\"blast_guard\"]\nset = { \"breakers.blast_guard.max_predicted_users\" = 0.3, \"authors.bots.tasks_per_day\" = 5.0 }",
    );
    let s = parse(&t).unwrap();
    assert_eq!(s.world(0, 0).authors[0].tasks_per_day, 3.0);
    assert_eq!(s.world(1, 0).authors[0].tasks_per_day, 5.0);
    assert_eq!(
        s.world(1, 0)
            .breakers
            .blast_guard
            .unwrap()
            .max_predicted_users,
        0.3
    );
    let bad = edit(
        "breakers = [\"blast_guard\"]",
        "breakers = [\"blast_guard\"]\nset = { \"authors.bots.mix.code\" = 0.7 }",
    );
    check_err(
        &bad,
        "dir/s.toml",
        48,
        35,
        &[
            "arm `guarded` sets `authors.bots.mix.code` = 0.7",
            "must sum to 1",
            "sums to 1.2",
        ],
    );
}

#[test]
fn baseline_must_name_an_arm() {
    let t = edit("seed = 1", "seed = 1\nbaseline = \"guarded\"");
    assert_eq!(parse(&t).unwrap().baseline_arm, 1);
    let t = edit("seed = 1", "seed = 1\nbaseline = \"gaurded\"");
    check_err(
        &t,
        "dir/s.toml",
        6,
        12,
        &["unknown baseline arm `gaurded`", "`open` or `guarded`"],
    );
}

#[test]
fn without_arms_each_policy_is_an_arm() {
    let end = MINI.find("[[arms]]").unwrap();
    let t = format!(
        "{}[[policies]]\nname = \"free\"\nrules = [{{ require = \"none\" }}]\n",
        &MINI[..end]
    );
    let s = parse(&t).unwrap();
    let names: Vec<&str> = s.arms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["gate", "free"]);
    assert!(s.worlds.iter().all(|w| w.breakers.blast_guard.is_none()));
}

// ----- hash and overrides -----

#[test]
fn hash_tracks_the_file_and_referenced_files() {
    let t = edit(
        "topology = { generator = \"layered\", services = 6, layers = 2, mean_dependencies = 1.0 }",
        "topology = { file = \"topo/g.csv\" }",
    );
    let a = parse(&t).unwrap().hash;
    assert_eq!(a, parse(&t).unwrap().hash, "the hash is deterministic");
    // One byte of the scenario.
    let b = parse(&t.replace("question = \"q\"", "question = \"r\""))
        .unwrap()
        .hash;
    assert_ne!(a, b);
    // One byte of the topology file.
    let mut f = files();
    f.insert(PathBuf::from("dir/topo/g.csv"), "a,b\nb,d\n".to_string());
    let c = parse_with(&t, &f).unwrap().hash;
    assert_ne!(a, c);
}

#[test]
fn cli_overrides_change_worlds_and_hash() {
    let s = parse(MINI).unwrap();
    let h0 = s.hash.clone();
    let same = s.clone().with_overrides(Some(1), Some(2), None).unwrap();
    assert_eq!(
        same.hash, h0,
        "overrides equal to the file leave the hash alone"
    );
    let o = s
        .with_overrides(Some(9), Some(5), Some(SimDuration::from_days(1)))
        .unwrap();
    assert_ne!(o.hash, h0);
    assert_eq!((o.seed, o.replications), (9, 5));
    assert!(
        o.worlds
            .iter()
            .all(|w| w.horizon == SimDuration::from_days(1))
    );
    let e = parse(MINI)
        .unwrap()
        .with_overrides(None, Some(0), None)
        .unwrap_err();
    assert!(e.message().contains("--replications must be at least 1"));
}

#[test]
fn reparse_with_a_changed_document() {
    let s = parse(MINI).unwrap();
    let mut doc = s.document();
    scenario::set_path(&mut doc, "authors.bots.count", toml::Value::Integer(7)).unwrap();
    let r = s.reparse(&doc).unwrap();
    assert_eq!(r.world(0, 0).authors[0].count, 7);
    assert!(scenario::set_path(&mut doc, "authors.nobody.count", 1.into()).is_err());
}

#[test]
fn chaos_table_is_validated_with_the_scenario() {
    // The old uninterpreted shape is now an unknown key, located at it.
    let t = format!("{MINI}\n[chaos]\nreviewer_outage = {{ fraction = [0.1, 0.9] }}\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        1,
        &["unknown field `reviewer_outage`"],
    );
    let t = format!(
        "{MINI}\n[chaos]\ncampaigns = 3\n[[chaos.faults]]\nkind = \"reviewer_outage\"\n\
         at = {{ from = \"1d\", to = \"2d\" }}\nduration = \"1d\"\nfraction = 0.5\n"
    );
    let spec = parse(&t)
        .unwrap()
        .chaos
        .expect("a [chaos] table gives a spec");
    assert_eq!(spec.campaigns, 3);
    assert_eq!(spec.templates[0].kind_name, "reviewer_outage");
}

#[test]
fn schema_is_draft07_and_closed() {
    let json: serde_json::Value =
        serde_json::from_str(&blastsim::cli::schema::schema_json()).unwrap();
    assert_eq!(json["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(json["additionalProperties"], false);
    for key in [
        "authors",
        "reviewers",
        "policies",
        "breakers",
        "arms",
        "sweep",
        "chaos",
    ] {
        assert!(
            json["properties"].get(key).is_some(),
            "schema lacks `{key}`"
        );
    }
}

// ----- the binary -----

#[test]
fn validate_binary_exits_2_with_a_located_error_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("blastsim-scenario-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.toml"),
        edit("count = 2\ntasks", "count = 0\ntasks"),
    )
    .unwrap();
    std::fs::write(dir.join("good.toml"), MINI).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .current_dir(&dir)
        .args(["validate", "good.toml", "bad.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("bad.toml:20:9: author group `bots` is empty"),
        "{stderr}"
    );
    assert!(stderr.contains("20 | count = 0"), "{stderr}");
    assert_eq!(
        stdout,
        "ok: good.toml (2 arms x 1 point x 2 replications = 4 runs)\n"
    );
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["bad.toml", "good.toml"],
        "validate must write nothing"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unquoted_dotted_sweep_path_gets_a_hint() {
    let t = format!("{MINI}\n[sweep]\nauthors.bots.count = [1, 2]\n");
    check_err(
        &t,
        "dir/s.toml",
        50,
        1,
        &[
            "unknown field `bots` in a sweep axis",
            "quote the whole path",
        ],
    );
}

#[test]
fn breakers_vs_signoff_sweeps_guard_and_preset_breaker() {
    use blastsim::model::config::{BreakerWindow, GuardAction};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/breakers-vs-signoff.toml");
    let s = scenario::load(&path).unwrap();
    let arm = |name: &str| s.arms.iter().position(|a| a.name == name).unwrap();
    let (all, escalate) = (arm("peer+guard+breakers"), arm("peer+guard-escalate"));
    assert_eq!(s.arms[s.baseline_arm].name, "peer-review");
    assert_eq!(
        s.axes[0].values,
        ["0.01", "0.02", "0.05", "0.1", "0.2", "1.0"]
    );
    for p in 0..s.points.len() {
        let w = s.world(all, p);
        let guard = w.breakers.blast_guard.unwrap();
        let agent = w.breakers.agent.unwrap();
        assert_eq!(
            guard.max_predicted_users,
            [0.01, 0.02, 0.05, 0.10, 0.20, 1.0][p]
        );
        assert_eq!(guard.action, GuardAction::Block);
        // The arm's `set` applies on top of the sweep value.
        let e = s.world(escalate, p).breakers.blast_guard.unwrap();
        assert_eq!(
            (e.action, e.max_predicted_users),
            (GuardAction::Escalate, guard.max_predicted_users)
        );
        // The agent breaker comes from its preset.
        assert_eq!(agent.window, BreakerWindow::Count(20));
        assert_eq!(agent.min_actions, 5);
        // Re-validated points reuse the one graph.
        assert!(std::sync::Arc::ptr_eq(
            &w.infra.graph,
            &s.world(0, 0).infra.graph
        ));
    }
}

#[test]
fn sweep_a_duration_inside_a_distribution() {
    use blastsim::model::dist::DurationDist;
    let t = format!(
        "{MINI}\n[sweep]\n\"infrastructure.rebuild.lognormal.median\" = {{ from = \"6h\", to = \"12h\", step = \"3h\" }}\n"
    );
    let s = parse(&t).unwrap();
    assert_eq!(s.axes[0].values, ["6h", "9h", "12h"]);
    match &s.world(1, 1).incidents.rebuild {
        DurationDist::Lognormal { median, sigma } => {
            assert_eq!(*median, SimDuration::from_hours(9));
            assert_eq!(*sigma, 0.5);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rate_limits_as_strings_or_tables() {
    let t = edit(
        "blast_guard = { max_predicted_users = 0.1 }",
        "blast_guard = { max_predicted_users = 0.1 }\nrate_limit = { per_agent = \"20/h\", per_service = { rate = \"5/30m\", burst = 2 } }",
    )
    .replace("breakers = [\"blast_guard\"]", "breakers = [\"blast_guard\", \"rate_limit\"]");
    let s = parse(&t).unwrap();
    let r = s.world(1, 0).breakers.rate_limit.unwrap();
    let a = r.per_agent.unwrap();
    assert_eq!(
        (a.tokens, a.per, a.burst),
        (20, SimDuration::from_hours(1), 20)
    );
    let v = r.per_service.unwrap();
    assert_eq!(
        (v.tokens, v.per, v.burst),
        (5, SimDuration::from_mins(30), 2)
    );
    let bad = edit(
        "blast_guard = { max_predicted_users = 0.1 }",
        "blast_guard = { max_predicted_users = 0.1 }\nrate_limit = { per_agent = \"20 per hour\" }",
    );
    check_err(
        &bad,
        "dir/s.toml",
        39,
        28,
        &["invalid rate \"20 per hour\"", "\"20/h\""],
    );
}

mod fuzz {
    use proptest::prelude::*;

    use super::{MINI, parse};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

        // Any edit of a valid file is either valid or a located error: never a panic, and
        // the location is inside the file.
        #[test]
        fn edits_never_panic_and_errors_stay_in_the_file(
            start in 0usize..MINI.len(),
            len in 0usize..12,
            insert in "[a-z0-9_ .=\"\\[\\]{},:-]{0,12}",
        ) {
            let mut start = start;
            while !MINI.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len).min(MINI.len());
            while !MINI.is_char_boundary(end) {
                end -= 1;
            }
            let text = format!("{}{}{}", &MINI[..start], insert, &MINI[end..]);
            if let Err(e) = parse(&text) {
                let lines = text.lines().count().max(1);
                prop_assert!(e.line() >= 1 && e.line() <= lines + 1, "{e}");
                prop_assert!(e.column() >= 1, "{e}");
                prop_assert!(!e.message().is_empty());
            }
        }
    }
}

#[test]
fn absurd_ranges_are_errors_not_panics() {
    let t = format!(
        "{MINI}\n[sweep]\n\"authors.bots.count\" = {{ from = -9223372036854775807, to = 9223372036854775807, step = 9223372036854775807 }}\n"
    );
    check_err(
        &t,
        "dir/s.toml",
        50,
        24,
        &["does not fit in 64-bit integers"],
    );
    let t = format!(
        "{MINI}\n[sweep]\n\"authors.bots.count\" = {{ from = 1, to = 100000, step = 1 }}\n"
    );
    check_err(&t, "dir/s.toml", 50, 24, &["AXIS_VALUES_MAX = 10000"]);
    let t = edit(
        "permissions = [\"code\", \"config\"]",
        "permissions = [\"code\", \"config\"]\nhours = { start = \"99999999:00\", end = \"17:00\" }",
    );
    check_err(&t, "dir/s.toml", 25, 19, &["invalid time of day"]);
}

// ----- kinds, [chaos] in validation, command-line overrides -----

/// Every value of kind `K` round-trips through its name; names are unique; an unknown
/// name is refused with every valid name.
fn round_trip<K: blastsim::model::config::Kind + std::fmt::Debug>() {
    let names = K::names();
    assert_eq!(names.len(), K::all().len());
    for k in K::all() {
        assert_eq!(K::parse(k.name()), Ok(*k), "{}", K::WHAT);
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "{} names are unique", K::WHAT);
    let e = K::parse("no-such-name").unwrap_err();
    assert_eq!(e.valid, names);
    assert_eq!(e.what, K::WHAT);
}

#[test]
fn every_kind_round_trips_through_its_parser() {
    use blastsim::model::breaker::BreakerKind;
    use blastsim::model::config::{
        ActionClass, AuthorKind, FaultType, GuardAction, InvariantKind, KillOn, KillScope,
        RequirementName, Seniority, Severity,
    };
    use blastsim::model::topology::{FileFormat, Generator, TopologyPreset};
    use blastsim::scenario::presets::{AgentBreakerPreset, PolicyPreset};
    round_trip::<ActionClass>();
    round_trip::<AuthorKind>();
    round_trip::<Severity>();
    round_trip::<Seniority>();
    round_trip::<RequirementName>();
    round_trip::<GuardAction>();
    round_trip::<KillOn>();
    round_trip::<KillScope>();
    round_trip::<FaultType>();
    round_trip::<InvariantKind>();
    round_trip::<FileFormat>();
    round_trip::<Generator>();
    round_trip::<TopologyPreset>();
    round_trip::<PolicyPreset>();
    round_trip::<AgentBreakerPreset>();
    round_trip::<BreakerKind>();
    // Each preset builds what it names.
    for p in PolicyPreset::ALL {
        assert_eq!(p.policy().name, p.name());
    }
    for f in FileFormat::ALL {
        for ext in f.extensions() {
            assert_eq!(FileFormat::from_extension(&ext.to_uppercase()), Some(f));
        }
    }
}

#[test]
fn schema_lists_every_kind_name_and_types_chaos() {
    use blastsim::model::breaker::BreakerKind;
    use blastsim::model::config::{FaultType, Kind, RequirementName};
    use blastsim::model::topology::Generator;
    let out = Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .arg("schema")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let enums = |what: &str| -> Vec<String> {
        let def = &json["definitions"][what.replace([' ', '-'], "_")];
        def["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum for {what}: {def}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(enums(FaultType::WHAT), FaultType::names());
    assert_eq!(enums(RequirementName::WHAT), RequirementName::names());
    assert_eq!(enums(Generator::WHAT), Generator::names());
    let breakers = json["definitions"]["Breakers"]["properties"]
        .as_object()
        .unwrap();
    let mut keys: Vec<&str> = breakers.keys().map(String::as_str).collect();
    let mut names = BreakerKind::names();
    keys.sort_unstable();
    names.sort_unstable();
    assert_eq!(keys, names);
    let chaos = json["definitions"]["RawChaos"]["properties"].as_object();
    let keys: Vec<&String> = chaos.expect("chaos is typed").keys().collect();
    assert_eq!(keys, ["arms", "campaigns", "faults", "replications"]);
}

/// 1-based line and column of the first `needle` in `text`.
fn at(text: &str, needle: &str) -> (usize, usize) {
    let i = text
        .rfind(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let line = text[..i].matches('\n').count() + 1;
    let col = text[..i].rfind('\n').map_or(i, |n| i - n - 1) + 1;
    (line, col)
}

#[test]
fn validate_rejects_every_bad_chaos_table_with_a_located_error() {
    let fault = |body: &str| format!("{MINI}\n[chaos]\n[[chaos.faults]]\n{body}\n");
    let ok = "kind = \"reviewer_outage\"\nat = { from = \"1d\", to = \"2d\" }\nduration = \"1d\"\nfraction = 0.5";
    assert!(parse(&fault(ok)).unwrap().chaos.is_some());
    let cases: [(String, &str, &[&str]); 9] = [
        (
            fault(&ok.replace("\"reviewer_outage\"", "\"reviewer_outtage\"")),
            "\"reviewer_outtage\"",
            &[
                "unknown fault kind `reviewer_outtage`",
                "did you mean `reviewer_outage`",
            ],
        ),
        (
            fault(&format!("{ok}\ngroup = \"juniors\"")),
            "\"juniors\"",
            &["unknown reviewer group `juniors`", "`seniors`"],
        ),
        (
            fault(&ok.replace("fraction = 0.5", "fraction = { from = 0.8, to = 0.2 }")),
            "0.2 }",
            &["`to` (0.2) must be at least `from` (0.8)"],
        ),
        (
            fault(&ok.replace("fraction = 0.5", "fraction = 1.5")),
            "1.5",
            &["fraction must be a probability between 0 and 1"],
        ),
        (
            format!("{MINI}\n[chaos]\ncampaigns = 0\n[[chaos.faults]]\n{ok}\n"),
            "0\n[[",
            &["campaigns must be at least 1"],
        ),
        (
            fault(&ok.replace("to = \"2d\"", "to = \"8d\"")),
            "{ from = \"1d\"",
            &["may start at 1w 1d, at or after the horizon (1w)"],
        ),
        (
            fault(&format!("{ok}\ncolour = 1")),
            "colour",
            &["unknown field `colour`"],
        ),
        (
            fault(&ok.replace("fraction = 0.5", "fraction = nan")),
            "nan",
            &["fraction must be a finite number"],
        ),
        (
            format!("{MINI}\n[chaos]\ncampaigns = 2\n"),
            "[chaos]",
            &["[chaos] has no fault template"],
        ),
    ];
    for (text, needle, phrases) in &cases {
        let (line, col) = at(text, needle);
        check_err(text, "dir/s.toml", line, col, phrases);
    }
}

#[test]
fn validate_binary_checks_chaos() {
    let dir = std::env::temp_dir().join(format!("blastsim-chaos-validate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "{MINI}\n[chaos]\n[[chaos.faults]]\nkind = \"dependency_degradaton\"\nat = \"1d\"\nduration = \"1d\"\n"
    );
    std::fs::write(dir.join("bad.toml"), &text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .current_dir(&dir)
        .args(["validate", "bad.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    let (line, col) = at(&text, "\"dependency_degradaton\"");
    assert!(
        stderr.contains(&format!(
            "bad.toml:{line}:{col}: unknown fault kind `dependency_degradaton`"
        )),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn overridden_horizon_is_validated_like_the_file() {
    let days = SimDuration::from_days;
    let e = parse(MINI)
        .unwrap()
        .with_overrides(None, None, Some(SimDuration::ZERO))
        .unwrap_err();
    assert!(
        e.message().contains("--horizon must be longer than zero"),
        "{e}"
    );

    let t = format!(
        "{MINI}\n[[faults]]\nkind = \"dependency_degradation\"\nat = \"2d\"\nduration = \"1d\"\n"
    );
    let s = parse(&t).unwrap();
    assert!(s.clone().with_overrides(None, None, Some(days(3))).is_ok());
    let e = s.with_overrides(None, None, Some(days(1))).unwrap_err();
    let (line, col) = at(&t, "\"2d\"");
    assert_eq!(
        (e.file(), e.line(), e.column()),
        (Path::new("dir/s.toml"), line, col),
        "{e}"
    );
    assert!(
        e.message()
            .contains("the fault starts at 2d, at or after the horizon (1d, set by --horizon)"),
        "{e}"
    );

    // A chaos template is checked against the overridden horizon too.
    let t = format!(
        "{MINI}\n[chaos]\n[[chaos.faults]]\nkind = \"dependency_degradation\"\nat = {{ from = \"1d\", to = \"3d\" }}\nduration = \"1d\"\n"
    );
    let e = parse(&t)
        .unwrap()
        .with_overrides(Some(5), None, Some(days(2)))
        .unwrap_err();
    assert_eq!(e.line(), at(&t, "{ from").0, "{e}");
    assert!(e.message().contains("set by --horizon"), "{e}");
}

#[test]
fn run_refuses_a_bad_overridden_horizon_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("blastsim-horizon-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!(
        "{MINI}\n[[faults]]\nkind = \"dependency_degradation\"\nat = \"2d\"\nduration = \"1d\"\n"
    );
    std::fs::write(dir.join("s.toml"), &text).unwrap();
    let run = |horizon: &str| {
        Command::new(env!("CARGO_BIN_EXE_blastsim"))
            .current_dir(&dir)
            .args([
                "run",
                "s.toml",
                "--quiet",
                "--no-charts",
                "--out",
                "out",
                "--horizon",
                horizon,
            ])
            .output()
            .unwrap()
    };
    let out = run("0s");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--horizon must be longer than zero"),
        "{stderr}"
    );
    let out = run("1d");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let (line, col) = at(&text, "\"2d\"");
    assert!(
        stderr.contains(&format!("s.toml:{line}:{col}: the fault starts at 2d")),
        "{stderr}"
    );
    assert!(!dir.join("out").exists(), "nothing is written");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// Limits (scenario::limits): each refused, located, naming the limit.

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_in(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("needle in text");
    text[..at].matches('\n').count() + 1
}

/// Asserts `text` is refused at the line holding `needle` with a message naming `limit`.
#[track_caller]
fn refused_by_limit(text: &str, needle: &str, limit: &str) -> String {
    let e = parse(text).expect_err("over a limit must be refused");
    let shown = e.to_string();
    assert_eq!(e.file(), Path::new("dir/s.toml"), "{shown}");
    assert_eq!(e.line(), line_in(text, needle), "{shown}");
    assert!(e.message().contains(limit), "missing `{limit}` in: {shown}");
    shown
}

#[test]
fn services_over_the_limit_are_refused_before_anything_is_built() {
    // 10^9 services would need tens of GB: refused at the value, at once.
    let t = edit("services = 6,", "services = 1000000000,");
    let m = refused_by_limit(&t, "services = 1000000000", "SERVICES_MAX = 2000000");
    assert!(m.contains("tested maximum is 10^6"), "{m}");
    let t = edit("services = 6,", "services = 2000001,");
    refused_by_limit(&t, "services = 2000001", "SERVICES_MAX");
}

#[test]
fn generated_edges_over_the_limit_are_refused() {
    let t = edit(
        r#"{ generator = "layered", services = 6, layers = 2, mean_dependencies = 1.0 }"#,
        r#"{ generator = "scale_free", services = 1000000, edges_per_service = 100 }"#,
    );
    refused_by_limit(&t, "scale_free", "EDGES_MAX = 20000000");
}

#[test]
fn authors_and_reviewers_over_the_limit_are_refused() {
    let t = edit("count = 2\ntasks", "count = 100001\ntasks");
    refused_by_limit(&t, "count = 100001", "AUTHORS_MAX = 100000");
    // Two groups under the limit each, over it together: located at the second.
    let second = "\n[[authors]]\nname = \"more\"\nkind = \"agent\"\ncount = 60001\ntasks_per_day = 1.0\nmix = { code = 1.0 }\ndefect_probability = { code = 0.1 }\npermissions = [\"code\"]\n";
    let t = edit("count = 2\ntasks", "count = 60000\ntasks") + second;
    let m = refused_by_limit(&t, "count = 60001", "AUTHORS_MAX");
    assert!(m.contains("120001 authors in all groups"), "{m}");
    let t = edit(
        "seniority = \"senior\"\ncount = 2",
        "seniority = \"senior\"\ncount = 100001",
    );
    refused_by_limit(&t, "count = 100001", "REVIEWERS_MAX = 100000");
}

#[test]
fn replications_runs_and_configurations_over_their_limits_are_refused() {
    let t = edit("replications = 2", "replications = 100001");
    refused_by_limit(&t, "replications = 100001", "REPLICATIONS_MAX = 100000");
    // 2 arms x 100 points x 100000 replications = 2 x 10^7 runs.
    let t = edit("replications = 2", "replications = 100000")
        + "\n[sweep]\n\"infrastructure.soft_propagation\" = { from = 0.0, to = 0.99, step = 0.01 }\n";
    let m = refused_by_limit(&t, "replications = 100000", "RUNS_MAX = 10000000");
    assert!(m.contains("20000000 runs"), "{m}");
    // 2 arms x 300 x 300 points = 180000 configurations.
    let t = format!(
        "{MINI}\n[sweep]\n\"infrastructure.soft_propagation\" = {{ from = 0.0, to = 0.299, step = 0.001 }}\n\"infrastructure.soft_dependency_share\" = {{ from = 0.0, to = 0.299, step = 0.001 }}\n"
    );
    refused_by_limit(&t, "[sweep]", "CONFIGURATIONS_MAX = 100000");
    // 400 x 400 points.
    let t = format!(
        "{MINI}\n[sweep]\n\"infrastructure.soft_propagation\" = {{ from = 0.0, to = 0.399, step = 0.001 }}\n\"infrastructure.soft_dependency_share\" = {{ from = 0.0, to = 0.399, step = 0.001 }}\n"
    );
    refused_by_limit(&t, "[sweep]", "POINTS_MAX = 100000");
    let t = format!(
        "{MINI}\n[sweep]\n\"infrastructure.soft_propagation\" = {{ from = 0.0, to = 1.0, step = 0.00001 }}\n"
    );
    refused_by_limit(&t, "from = 0.0", "AXIS_VALUES_MAX = 10000");
}

#[test]
fn horizon_over_the_limit_is_refused_in_the_file_and_on_the_command_line() {
    let t = edit("horizon = \"7d\"", "horizon = \"7301d\"");
    refused_by_limit(&t, "horizon = ", "HORIZON_MAX");
    // 20 years exactly is allowed.
    parse(&edit("horizon = \"7d\"", "horizon = \"7300d\"")).unwrap();
    let s = parse(MINI).unwrap();
    let e = s
        .clone()
        .with_overrides(None, None, Some(SimDuration::parse("7301d").unwrap()))
        .unwrap_err();
    assert!(e.to_string().contains("--horizon"), "{e}");
    assert!(e.message().contains("HORIZON_MAX"), "{e}");
    let e = s
        .clone()
        .with_overrides(None, Some(100_001), None)
        .unwrap_err();
    assert!(e.message().contains("REPLICATIONS_MAX"), "{e}");
    assert_eq!(
        s.with_overrides(None, Some(100_000), None)
            .unwrap()
            .run_count(),
        200_000
    );
}

#[test]
fn chaos_campaigns_over_the_limit_are_refused() {
    let path = Path::new("scenarios/chaos-policies.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let t = text.replacen("campaigns = 64", "campaigns = 100001", 1);
    let e = scenario::parse(&t, path, |p: &Path| std::fs::read_to_string(p)).unwrap_err();
    assert_eq!(e.line(), line_in(&t, "campaigns = 100001"), "{e}");
    assert!(e.message().contains("CAMPAIGNS_MAX = 100000"), "{e}");
    // Campaigns x arms x replications is bounded like a sweep's runs.
    let t = text
        .replacen("campaigns = 64", "campaigns = 100000", 1)
        .replacen(
            "campaigns = 100000\nreplications = 1\n",
            "campaigns = 100000\nreplications = 100\n",
            1,
        );
    assert!(
        t.contains("replications = 100\n"),
        "the test edits the chaos table"
    );
    let e = scenario::parse(&t, path, |p: &Path| std::fs::read_to_string(p)).unwrap_err();
    assert_eq!(e.line(), line_in(&t, "campaigns = 100000"), "{e}");
    assert!(e.message().contains("RUNS_MAX = 10000000"), "{e}");
}

#[test]
fn long_lines_and_large_files_are_refused() {
    let t = format!("{MINI}# {}\n", "x".repeat(70_000));
    let shown = refused_by_limit(&t, "# xxx", "LINE_BYTES_MAX = 65536");
    assert!(
        shown.len() < 1_000,
        "the excerpt is clipped: {} bytes",
        shown.len()
    );
    let t = format!(
        "{MINI}{}",
        "# padding to past the size limit\n".repeat(140_000)
    );
    let e = parse(&t).unwrap_err();
    assert!(e.message().contains("SCENARIO_BYTES_MAX"), "{e}");
    // A device that never ends is refused after reading the limit, not at the end.
    let e = scenario::limits::read_bounded(Path::new("/dev/zero"), 1 << 16, "X_MAX").unwrap_err();
    assert!(e.to_string().contains("X_MAX"), "{e}");
}

#[test]
fn arm_names_that_are_too_long_or_make_the_same_file_are_refused() {
    let long = "a".repeat(65);
    let t = edit("name = \"open\"", &format!("name = \"{long}\""));
    refused_by_limit(&t, &long, "ARM_NAME_CHARS_MAX = 64");
    let t = edit("name = \"open\"", "name = \"peer+review\"").replacen(
        "name = \"guarded\"",
        "name = \"peer-review\"",
        1,
    );
    let m = refused_by_limit(&t, "\"peer-review\"", "same files");
    assert!(
        m.contains("`peer-review`") && m.contains("`peer+review`"),
        "{m}"
    );
    assert!(
        m.contains(&format!("line {}", line_in(&t, "peer+review"))),
        "{m}"
    );
    assert_eq!(scenario::file_stem("Peer+Review"), "peer-review");
}

#[test]
fn a_fault_takes_one_group_or_a_list() {
    let fault = "\n[[faults]]\nkind = \"rogue_agent_burst\"\nat = \"1d\"\nduration = \"1h\"\ngroup = GROUPS\ndefect_multiplier = 2.0\n";
    let one = parse(&format!("{MINI}{}", fault.replace("GROUPS", "\"bots\""))).unwrap();
    assert_eq!(one.world(0, 0).faults.len(), 1);
    let list = parse(&format!("{MINI}{}", fault.replace("GROUPS", "[\"bots\"]"))).unwrap();
    assert_eq!(list.world(0, 0).faults, one.world(0, 0).faults);
    let t = format!("{MINI}{}", fault.replace("GROUPS", "[\"bots\", \"bost\"]"));
    check_err(
        &t,
        "dir/s.toml",
        line_in(&t, "group = ["),
        18,
        &["unknown author group `bost`", "did you mean `bots`"],
    );
}

/// `blastsim ARGS` in `dir`: (exit code, stderr).
fn blastsim(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_binary_refuses_every_limit_with_exit_2_naming_it() {
    let dir = std::env::temp_dir().join(format!("blastsim-limits-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, String, &str); 8] = [
        (
            "services.toml",
            edit("services = 6,", "services = 1000000000,"),
            "SERVICES_MAX",
        ),
        (
            "authors.toml",
            edit("count = 2\ntasks", "count = 100001\ntasks"),
            "AUTHORS_MAX",
        ),
        (
            "reviewers.toml",
            edit(
                "seniority = \"senior\"\ncount = 2",
                "seniority = \"senior\"\ncount = 100001",
            ),
            "REVIEWERS_MAX",
        ),
        (
            "reps.toml",
            edit("replications = 2", "replications = 1000000"),
            "REPLICATIONS_MAX",
        ),
        (
            "runs.toml",
            edit("replications = 2", "replications = 100000")
                + "\n[sweep]\n\"infrastructure.soft_propagation\" = { from = 0.0, to = 0.99, step = 0.01 }\n",
            "RUNS_MAX",
        ),
        (
            "horizon.toml",
            edit("horizon = \"7d\"", "horizon = \"10000d\""),
            "HORIZON_MAX",
        ),
        (
            "arm.toml",
            edit(
                "name = \"open\"",
                &format!("name = \"{}\"", "o".repeat(300)),
            ),
            "ARM_NAME_CHARS_MAX",
        ),
        (
            "line.toml",
            format!("{MINI}# {}\n", "x".repeat(70_000)),
            "LINE_BYTES_MAX",
        ),
    ];
    for (file, text, limit) in &cases {
        std::fs::write(dir.join(file), text).unwrap();
        let (code, stderr) = blastsim(&dir, &["validate", file]);
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(limit),
            "{file}: missing {limit} in {stderr}"
        );
        assert!(
            stderr.contains(&format!("{file}:")),
            "{file}: not located: {stderr}"
        );
    }
    // The scenario file itself: a device is refused after SCENARIO_BYTES_MAX bytes.
    let (code, stderr) = blastsim(&dir, &["validate", "/dev/zero"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("SCENARIO_BYTES_MAX"), "{stderr}");
    // Flags: the same limits, and plain messages for negative numbers.
    std::fs::write(dir.join("good.toml"), MINI).unwrap();
    let (code, stderr) = blastsim(&dir, &["run", "good.toml", "--replications", "100001"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("REPLICATIONS_MAX"), "{stderr}");
    let (code, stderr) = blastsim(&dir, &["run", "good.toml", "--horizon", "10000y"]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, stderr) = blastsim(&dir, &["run", "good.toml", "--horizon", "8000d"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("HORIZON_MAX"), "{stderr}");
    let (code, stderr) = blastsim(&dir, &["chaos", "good.toml", "--campaigns", "1000000000"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("CAMPAIGNS_MAX"), "{stderr}");
    for flag in ["--seed", "--replications", "--threads"] {
        let (code, stderr) = blastsim(&dir, &["run", "good.toml", flag, "-1"]);
        assert_eq!(code, Some(2), "{flag}: {stderr}");
        assert!(!stderr.contains("'-- -1'"), "{flag}: {stderr}");
        assert!(stderr.contains("a whole number"), "{flag}: {stderr}");
    }
    assert!(
        std::fs::read_dir(&dir)
            .unwrap()
            .all(|e| e.unwrap().path().is_file()),
        "nothing ran, so no results folder"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// Topology files: excerpts clipped, other files not echoed.

/// MINI with its topology read from `dir/topo/<name>` holding `content`.
fn with_topology_file(name: &str, format: &str, content: &str) -> Result<Scenario, ScenarioError> {
    let t = edit(
        r#"{ generator = "layered", services = 6, layers = 2, mean_dependencies = 1.0 }"#,
        &format!(r#"{{ file = "topo/{name}", format = "{format}" }}"#),
    );
    let mut f = files();
    f.insert(
        PathBuf::from(format!("dir/topo/{name}")),
        content.to_string(),
    );
    parse_with(&t, &f)
}

#[test]
fn files_that_are_not_topologies_are_named_not_quoted() {
    let shadow = "root:$6$s3cr3tHash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n";
    for format in ["csv", "dot", "jaeger"] {
        let e = with_topology_file("shadow", format, shadow).unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.file(), Path::new("dir/topo/shadow"), "{format}: {shown}");
        assert_eq!(e.line(), 1, "{format}: {shown}");
        for secret in ["root", "s3cr3t", "daemon"] {
            assert!(
                !shown.contains(secret),
                "{format} echoed `{secret}`: {shown}"
            );
        }
    }
    // A real edge list keeps its quoted excerpt after its first edge.
    let e = with_topology_file("g.csv", "csv", "a,b\nc,d,sideways\n").unwrap_err();
    assert!(e.to_string().contains("2 | c,d,sideways"), "{e}");
}

#[test]
fn long_topology_lines_are_clipped_around_the_column() {
    // One long JSON line with the error near its end.
    let mut json = String::from("[");
    for i in 0..4000 {
        json.push_str(&format!(
            r#"{{"parent": "s{i}", "child": "t{i}", "callCount": 1}},"#
        ));
    }
    json.push_str(r#"{"parent": "x", "child": "y", "callCount": -1}]"#);
    json = format!("[\n{}\n]", &json[1..json.len() - 1]);
    assert!(json.len() > 200_000);
    let e = with_topology_file("deps.json", "jaeger", &json).unwrap_err();
    let shown = e.to_string();
    assert_eq!(e.line(), 2, "{shown}");
    assert!(
        shown.len() < 600,
        "stderr is {} bytes: {shown}",
        shown.len()
    );
    assert!(shown.contains('…'), "{shown}");
    assert!(
        shown.contains("callCount\": -1"),
        "the window is at the column: {shown}"
    );
    // A CSV line under LINE_BYTES_MAX but long, with the bad field at its end.
    let csv = format!("a,b\nc,{},sideways\n", "d".repeat(10_000));
    let e = with_topology_file("g.csv", "csv", &csv).unwrap_err();
    let shown = e.to_string();
    assert!(shown.len() < 600, "{} bytes: {shown}", shown.len());
    assert!(shown.contains("sideways"), "{shown}");
    // Over LINE_BYTES_MAX: refused by name.
    let csv = format!("a,b\nc,{}\n", "d".repeat(70_000));
    let e = with_topology_file("g.csv", "csv", &csv).unwrap_err();
    assert!(e.message().contains("LINE_BYTES_MAX"), "{e}");
    assert!(e.to_string().len() < 1_000);
}

/// MINI with an `[objectives]` section whose first key is `line50` (at line 50).
fn with_objectives(line50: &str) -> String {
    format!("{MINI}\n[objectives]\n{line50}\n")
}

/// The 1-based column of `needle` in `line`.
fn col(line: &str, needle: &str) -> usize {
    line.find(needle).expect("needle in line") + 1
}

#[test]
fn objectives_costs_and_relative_bounds_validate() {
    let s = parse(&with_objectives(
        "costs = [{ metric = \"blocks_false\", worse = \"higher\" }, { metric = \"deploys_per_day\", worse = \"lower\" }]\nconstraints = [{ metric = \"user_impact_min_total\", at_most = \"arm:guarded\" }, { metric = \"incidents\", at_least = 2 }]",
    ))
    .unwrap();
    let o = &s.objectives;
    // The velocity metric is always the first cost; listing it again is allowed.
    let costs: Vec<(&str, scenario::Worse)> = o
        .costs
        .iter()
        .map(|c| (c.metric.as_str(), c.worse))
        .collect();
    assert_eq!(
        costs,
        [
            ("deploys_per_day", scenario::Worse::Lower),
            ("blocks_false", scenario::Worse::Higher)
        ]
    );
    assert_eq!(
        o.constraints[0].bound,
        scenario::Bound::Arm("guarded".into())
    );
    assert!(o.constraints[0].at_most);
    assert_eq!(o.constraints[1].bound, scenario::Bound::Value(2.0));
    assert!(!o.constraints[1].at_most);
}

#[test]
fn a_relative_bound_naming_no_arm_lists_the_arms() {
    let line = "constraints = [{ metric = \"user_impact_min_total\", at_most = \"arm:guardd\" }]";
    check_err(
        &with_objectives(line),
        "dir/s.toml",
        50,
        col(line, "\"arm:"),
        &["unknown arm `guardd`", "did you mean `guarded`", "`open`"],
    );
    let line = "constraints = [{ metric = \"user_impact_min_total\", at_most = \"guarded\" }]";
    check_err(
        &with_objectives(line),
        "dir/s.toml",
        50,
        col(line, "\"guarded"),
        &["a number or \"arm:NAME\""],
    );
}

#[test]
fn bad_costs_are_located_with_suggestions() {
    let line = "costs = [{ metric = \"blocks_false\", worse = \"up\" }]";
    check_err(
        &with_objectives(line),
        "dir/s.toml",
        50,
        col(line, "\"up"),
        &["unknown cost direction `up`", "`higher` or `lower`"],
    );
    let line = "costs = [{ metric = \"senior_review_h_week\", worse = \"higher\" }]";
    check_err(
        &with_objectives(line),
        "dir/s.toml",
        50,
        col(line, "\"senior"),
        &[
            "unknown metric `senior_review_h_week`",
            "did you mean `senior_review_h_per_week`",
        ],
    );
    let line = "costs = [{ metric = \"user_impact_min_total\", worse = \"higher\" }]";
    check_err(
        &with_objectives(line),
        "dir/s.toml",
        50,
        col(line, "\"user"),
        &["is the risk metric"],
    );
    let line = "costs = [{ metric = \"blocks_false\", worse = \"higher\" }, { metric = \"blocks_false\", worse = \"lower\" }]";
    check_err(
        &with_objectives(line),
        "dir/s.toml",
        50,
        col(line, "\"blocks_false\", worse = \"lower"),
        &["listed as a cost twice"],
    );
}
