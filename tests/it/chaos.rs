//! The chaos harness: a planted violation is found and shrunk to exactly its fault,
//! replay reruns a run exactly, the trace alone reproduces the run's summary, campaigns do
//! not depend on the thread count, the story names its causes, and `[chaos]` errors are
//! located.

use std::path::{Path, PathBuf};
use std::process::Command;

use blastsim::chaos::campaign::run_seed;
use blastsim::chaos::{
    Plan, Target, draw_schedule, findings, locate, run_campaigns, shrink, story,
};
use blastsim::engine::{Seed, SimDuration, SimTime};
use blastsim::metrics::{Collector, simulate, simulate_traced};
use blastsim::model::config::*;
use blastsim::model::trace::{TraceEvent, TraceRecord};
use blastsim::scenario::chaos::{self as chaos_spec, Bounds, FaultTemplate, TemplateKind};

use crate::support::*;

fn days(n: u64) -> SimDuration {
    SimDuration::from_days(n)
}

/// A world where nothing can go wrong unless agents are granted destructive rights: two
/// agents whose every task needs a destructive action (refused by access control), always
/// defective and deleting the environment, which takes 10 h to rebuild against a 4 h
/// `max_outage`. No review, so reviewer faults are harmless; no incident happens without
/// the grant, so incident-side faults are harmless too.
fn planted_world() -> WorldConfig {
    let mut agents = authors("agents", AuthorKind::Agent, 2, 24.0);
    agents.mix = only(ActionClass::Destructive, 1.0, 0.0);
    agents.defect_probability = only(ActionClass::Destructive, 1.0, 0.0);
    agents.severity = all(SeverityMix {
        local: 0.0,
        cascading: 0.0,
        environment_deletion: 1.0,
    });
    agents.permissions = ClassSet::ALL;
    agents.permissions.0 &= !(1 << ActionClass::Destructive.index());
    let mut w = world(
        chain(6),
        vec![agents],
        vec![reviewers("peers", Seniority::Junior, 2, mins(30))],
    );
    w.policy = policy("autonomous", Requirement::None);
    w.invariants.max_outage = Some(hours(4));
    w
}

fn range(from: f64, to: f64) -> Bounds<f64> {
    Bounds { from, to }
}

/// Five harmless templates and, last, the planted one.
fn planted_templates() -> Vec<FaultTemplate> {
    let t = |kind_name, kind| FaultTemplate {
        kind_name,
        kind,
        at: Bounds {
            from: SimTime::ZERO,
            to: SimTime(days(20).as_ms()),
        },
        duration: Bounds {
            from: hours(6),
            to: days(2),
        },
    };
    vec![
        t(
            "reviewer_outage",
            TemplateKind::ReviewerOutage {
                groups: vec![],
                fraction: range(0.5, 1.0),
            },
        ),
        t(
            "rogue_agent_burst",
            TemplateKind::RogueAgentBurst {
                groups: vec![],
                defect_multiplier: range(1.0, 3.0),
                escalation_multiplier: range(1.0, 3.0),
            },
        ),
        t(
            "monitoring_blind_spot",
            TemplateKind::MonitoringBlindSpot {
                service_share: range(0.1, 0.9),
                detection_multiplier: range(2.0, 10.0),
            },
        ),
        t(
            "dependency_degradation",
            TemplateKind::DependencyDegradation,
        ),
        t(
            "responder_shortage",
            TemplateKind::ResponderShortage {
                fraction: range(0.5, 1.0),
            },
        ),
        t(
            "permission_misconfiguration",
            TemplateKind::PermissionMisconfiguration {
                groups: vec![0],
                classes: vec![ActionClass::Destructive],
            },
        ),
    ]
}

fn plan(world: WorldConfig, templates: Vec<FaultTemplate>, campaigns: u32) -> Plan {
    Plan {
        targets: vec![Target {
            arm: 0,
            point: 0,
            name: "autonomous".into(),
            world,
        }],
        templates,
        campaigns,
        replications: 1,
        seed: 99,
    }
}

/// Swarm testing switches each template on with probability 1/2, so the planted one is
/// in a given campaign with probability 1/2: it must be found within 16 campaigns
/// (P(miss) = 2^-16 for a fair draw). Then shrinking must remove every harmless fault.
#[test]
fn a_planted_violation_is_found_and_shrinks_to_exactly_its_fault() {
    const CAMPAIGNS: u32 = 16;
    let templates = planted_templates();
    let p = plan(planted_world(), templates.clone(), CAMPAIGNS);
    let runs = run_campaigns(&p, &|| {});
    assert_eq!(runs.len(), CAMPAIGNS as usize);
    // Every run with the planted fault breaks max_outage; no run without it does.
    for r in &runs {
        let planted = r.schedule.iter().any(|d| d.template == 5);
        assert_eq!(
            r.count(InvariantKind::MaxOutage) > 0,
            planted,
            "campaign {} (schedule {:?})",
            r.campaign,
            r.schedule
        );
    }
    let found = findings(&p, &runs);
    assert_eq!(found.len(), 1, "only max_outage can break: {found:?}");
    assert_eq!(found[0].invariant, InvariantKind::MaxOutage);
    let first = &runs[found[0].first];
    assert!(
        first.schedule.len() >= 2,
        "the test wants a failing schedule with harmless faults to drop; got {:?}",
        first.schedule
    );
    let s = shrink(
        &p.targets[0].world,
        &templates,
        &first.schedule,
        run_seed(first.seed),
        InvariantKind::MaxOutage,
        100,
    );
    assert!(!s.exhausted);
    assert_eq!(s.schedule.len(), 1, "shrunk to {:?}", s.schedule);
    assert_eq!(s.schedule[0].template, 5);
    assert!(matches!(
        s.schedule[0].fault.kind,
        FaultKind::PermissionMisconfiguration {
            class: ActionClass::Destructive,
            ..
        }
    ));
    let original = first
        .schedule
        .iter()
        .find(|d| d.template == 5)
        .expect("the failing schedule holds the planted fault");
    assert!(s.schedule[0].fault.duration < original.fault.duration);
    // Still fails, deterministically.
    let out = simulate(
        &blastsim::chaos::world_with(&p.targets[0].world, &s.schedule),
        run_seed(first.seed),
    );
    assert!(
        out.violations
            .iter()
            .any(|v| v.invariant == InvariantKind::MaxOutage)
    );
    let again = shrink(
        &p.targets[0].world,
        &templates,
        &first.schedule,
        run_seed(first.seed),
        InvariantKind::MaxOutage,
        100,
    );
    assert_eq!(again, s);
}

#[test]
fn schedules_are_nonempty_subsets_drawn_within_their_ranges() {
    let templates = planted_templates();
    let mut sizes = [0u32; 7];
    for k in 0..200 {
        let s = draw_schedule(&templates, Seed(7), k);
        assert_eq!(s, draw_schedule(&templates, Seed(7), k));
        assert!(!s.is_empty());
        sizes[s.len()] += 1;
        for d in &s {
            let t = &templates[d.template];
            assert!(t.at.from <= d.fault.at && d.fault.at <= t.at.to);
            assert!(t.duration.from <= d.fault.duration && d.fault.duration <= t.duration.to);
            if let FaultKind::ReviewerOutage { fraction, .. } = d.fault.kind {
                assert!((0.5..=1.0).contains(&fraction));
            }
        }
    }
    // Binomial(6, 1/2) with an empty draw moved to size 1: mean 3 (tolerance 0.3 over
    // 200 campaigns, sd of the mean ~0.09).
    let mean = sizes
        .iter()
        .enumerate()
        .map(|(n, c)| n as f64 * *c as f64)
        .sum::<f64>()
        / 200.0;
    assert!((mean - 3.0).abs() < 0.3, "mean schedule size {mean}");
}

fn collect_trace(
    world: &WorldConfig,
    seed: Seed,
) -> (blastsim::metrics::RunOutput, Vec<TraceRecord>) {
    let mut trace = Vec::new();
    let out = simulate_traced(world, seed, |r: &TraceRecord| trace.push(r.clone()));
    (out, trace)
}

#[test]
fn the_story_of_a_planted_incident_names_its_author_rule_and_cascade() {
    let mut w = planted_world();
    w.faults = vec![Fault {
        kind: FaultKind::PermissionMisconfiguration {
            group: Some(0),
            class: ActionClass::Destructive,
        },
        at: SimTime(days(1).as_ms()),
        duration: hours(3),
    }];
    w.incidents.responders = 8;
    let (out, trace) = collect_trace(&w, Seed(3));
    println!("{}", story(&trace, &w));
    assert!(!out.incidents.is_empty());
    let text = story(&trace, &w);
    for phrase in [
        "An agent of group `agents`",
        "a destructive action (delete and recreate)",
        "severity environment_deletion",
        "Policy `autonomous` matched rule 1 (when always: require no review)",
        "Nobody reviewed it.",
        "This arm has no breaker configured.",
        "hard dependency on `s",
        "permission_misconfiguration (destructive granted to agents)",
        "Rebuilding the deleted environment",
    ] {
        assert!(text.contains(phrase), "missing {phrase:?} in:\n{text}");
    }
    // The worst incident is the one with the most user-impact minutes.
    let worst = out
        .incidents
        .iter()
        .map(|i| i.user_impact_min)
        .fold(0.0, f64::max);
    assert!(
        text.contains(&format!("cost {worst:.0} user-impact minutes")),
        "{text}"
    );
    assert_eq!(
        story(&[], &w),
        "No incident happened in this run: there is no causal story to tell.\n"
    );
}

fn shipped() -> blastsim::scenario::Scenario {
    blastsim::scenario::load(Path::new("scenarios/chaos-policies.toml")).expect("ships valid")
}

#[test]
fn run_ids_follow_blastsim_run_numbering() {
    let s = shipped();
    let (arms, reps) = (s.arms.len() as u64, u64::from(s.replications));
    assert_eq!((arms, s.points.len(), reps), (6, 1, 4));
    // ((arm * points) + point) * replications + replication = (3 * 1 + 0) * 4 + 1 = 13.
    let r = locate(&s, 13).unwrap();
    assert_eq!((r.arm, r.point, r.replication), (3, 0, 1));
    assert_eq!(r.seed, Seed(4242).derive(1));
    let e = locate(&s, 24).unwrap_err();
    assert!(
        e.contains("run id 24 is out of range") && e.contains("runs 0 to 23"),
        "{e}"
    );
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blastsim"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blastsim-chaos-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Replay reruns a run exactly (fingerprint and metrics), and its trace, read back and fed
/// to a fresh Collector, gives the run's summary row.
#[test]
fn replay_reruns_exactly_and_its_trace_reproduces_the_summary() {
    let s = shipped();
    let id = 5; // arm 1 (peer-review), replication 1
    let r = locate(&s, id).unwrap();
    let world = s.world(r.arm, r.point);
    let original = simulate(world, Seed(s.seed).derive(1));
    let dir = tmp("replay");
    let trace_path = dir.join("run5.jsonl");
    let out = bin()
        .args([
            "replay",
            "scenarios/chaos-policies.toml",
            "--run",
            "5",
            "--trace",
        ])
        .arg(&trace_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!("fingerprint {:016x}", original.fingerprint)),
        "{stdout}"
    );
    for m in [
        "deploys_per_day",
        "incidents",
        "users_hit_max",
        "user_impact_min_total",
    ] {
        let line = format!("  {m} = {}", original.summary.get(m).unwrap());
        assert!(stdout.contains(&line), "missing {line:?} in {stdout}");
    }
    assert!(
        stdout.contains("Worst incident") || stdout.contains("No incident"),
        "{stdout}"
    );

    // The trace: valid JSON lines, and the metrics come back from it alone.
    let text = std::fs::read_to_string(&trace_path).unwrap();
    let records: Vec<TraceRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect();
    assert!(matches!(records[0].event, TraceEvent::RunStarted { .. }));
    assert!(matches!(
        records.last().unwrap().event,
        TraceEvent::RunEnded { .. }
    ));
    let mut c = Collector::new(&world.invariants, world.horizon.as_ms());
    for rec in &records {
        c.observe(rec.t, &rec.event);
    }
    let again = c.finish(
        original.stop,
        original.fingerprint,
        original.worst_hit.clone(),
    );
    assert_eq!(again.summary, original.summary);
    assert_eq!(again.violations, original.violations);
    assert_eq!(again.incidents, original.incidents);

    // An out-of-range run id is bad input, with the valid range.
    let bad = bin()
        .args(["replay", "scenarios/chaos-policies.toml", "--run", "99"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(err.contains("runs 0 to 23"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole command: results folder, exit code 1 on violations, and each repro file
/// reruns a run that breaks its invariant.
#[test]
fn chaos_command_writes_repro_files_that_replay_the_violation() {
    let dir = tmp("cli");
    let scenario = dir.join("planted.toml");
    let text = std::fs::read_to_string("scenarios/chaos-policies.toml").unwrap();
    // Two arms, one campaign, horizon 10d: small and fast.
    let text = text
        .replace("horizon = \"30d\"", "horizon = \"10d\"")
        .replace("to = \"25d\"", "to = \"8d\"")
        .replace(
            "[chaos]\ncampaigns = 64",
            "[chaos]\ncampaigns = 2\narms = [\"autonomous\", \"senior-signoff\"]",
        );
    std::fs::write(&scenario, text).unwrap();
    let out_dir = dir.join("out");
    let out = bin()
        .arg("chaos")
        .arg(&scenario)
        .arg("--out")
        .arg(&out_dir)
        .args(["--quiet", "--threads", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(out_dir.join("campaigns.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 2);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains(&InvariantKind::ALL.map(InvariantKind::name).join(","))
    );
    let md = std::fs::read_to_string(out_dir.join("chaos.md")).unwrap();
    assert!(md.contains("## Which arms survived"));
    let repros: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("reproduce: blastsim "))
        .collect();
    assert_eq!(code == Some(1), !repros.is_empty(), "{stdout}");
    let invariants: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("VIOLATION ")?.split(' ').next())
        .collect();
    assert_eq!(invariants.len(), repros.len());
    for (cmd, invariant) in repros.iter().zip(&invariants) {
        let args: Vec<&str> = cmd.split(' ').collect();
        let replay = bin().args(&args).output().unwrap();
        assert_eq!(replay.status.code(), Some(0), "{cmd}");
        let text = String::from_utf8(replay.stdout).unwrap();
        assert!(
            text.contains(&format!("violated {invariant}")),
            "{cmd}:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn campaigns_do_not_depend_on_the_thread_count() {
    let s = shipped();
    let spec = chaos_spec::load(&s).unwrap();
    let mut p = blastsim::pipeline::chaos::plan(&s, &spec, 2);
    p.targets.truncate(2);
    for t in &mut p.targets {
        t.world.horizon = days(10);
    }
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run_campaigns(&p, &|| {}))
            .into_iter()
            .map(|r| {
                (
                    r.campaign,
                    r.target,
                    r.seed,
                    r.fingerprint,
                    r.summary,
                    r.violations,
                )
            })
            .collect::<Vec<_>>()
    };
    let one = run(1);
    assert_eq!(one.len(), 4);
    assert_eq!(one, run(2));
}

fn check_chaos_err(chaos: &str, line: usize, column: usize, phrases: &[&str]) {
    let base = std::fs::read_to_string("scenarios/smoke.toml").unwrap();
    let text = format!("{base}\n{chaos}");
    let path = Path::new("scenarios/smoke.toml");
    // `[chaos]` is validated with the rest of the scenario.
    let e = blastsim::scenario::parse(&text, path, |p| std::fs::read_to_string(p)).unwrap_err();
    let base_lines = base.lines().count() + 1;
    assert_eq!((e.line(), e.column()), (base_lines + line, column), "{e}");
    for p in phrases {
        assert!(e.message().contains(p), "missing {p:?} in {}", e.message());
    }
}

#[test]
fn chaos_table_errors_are_located() {
    check_chaos_err(
        "[chaos]\n[[chaos.faults]]\nkind = \"reviewer_outage\"\nat = \"1d\"\nduration = \"1d\"\nfraction = { from = 0.8, to = 0.2 }\n",
        6,
        31,
        &["`to` (0.2) must be at least `from` (0.8)"],
    );
    check_chaos_err(
        "[chaos]\n[[chaos.faults]]\nkind = \"reviewer_outage\"\ngroup = \"peer\"\nat = \"1d\"\nduration = \"1d\"\nfraction = 0.5\n",
        4,
        9,
        &["unknown reviewer group `peer`", "`peers`"],
    );
    check_chaos_err(
        "[chaos]\n[[chaos.faults]]\nkind = \"responder_shortage\"\nat = { from = \"1d\", to = \"30d\" }\nduration = \"1d\"\nfraction = 1.5\n",
        4,
        6,
        &["at or after the horizon"],
    );
    check_chaos_err(
        "[chaos]\narms = [\"autonomus\"]\n[[chaos.faults]]\nkind = \"dependency_degradation\"\nat = \"1d\"\nduration = \"1d\"\n",
        2,
        9,
        &["unknown arm `autonomus`", "did you mean `autonomous`"],
    );
    check_chaos_err(
        "[chaos]\n[[chaos.faults]]\nkind = \"dependency_degradation\"\nat = \"1d\"\nduration = \"1d\"\nfraction = 0.5\n",
        6,
        12,
        &["`fraction` does not apply to fault kind `dependency_degradation`"],
    );
}

#[test]
fn the_shipped_chaos_table_validates() {
    let s = shipped();
    let spec = chaos_spec::load(&s).unwrap();
    assert_eq!(spec.campaigns, 64);
    assert_eq!(spec.arms, (0..6).collect::<Vec<_>>());
    let kinds: Vec<&str> = spec.templates.iter().map(|t| t.kind_name).collect();
    assert_eq!(
        kinds,
        [
            "reviewer_outage",
            "permission_misconfiguration",
            "rogue_agent_burst",
            "monitoring_blind_spot",
            "dependency_degradation",
            "responder_shortage"
        ]
    );
}

/// A run made with `--replications`, `--horizon` and `--seed` replays from its results
/// folder without repeating them: the manifest carries them, and the fingerprint is the one
/// runs.csv recorded. Without the folder, run 7 does not exist in the file's settings.
#[test]
fn replay_takes_the_settings_run_used_from_the_manifest() {
    let dir = tmp("replay-from");
    let out = dir.join("res");
    let ran = bin()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--replications",
            "4",
            "--horizon",
            "10d",
        ])
        .args(["--seed", "11", "--quiet", "--no-charts", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let fp_col = header.iter().position(|h| *h == "fingerprint").unwrap();
    let row7: Vec<&str> = runs
        .lines()
        .find(|l| l.starts_with("7,"))
        .unwrap()
        .split(',')
        .collect();
    let replay = bin()
        .args(["replay", "scenarios/smoke.toml", "--run", "7", "--from"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        replay.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let stdout = String::from_utf8(replay.stdout).unwrap();
    assert!(
        stdout.contains(&format!("fingerprint {}", row7[fp_col])),
        "{stdout}\nexpected {}",
        row7[fp_col]
    );
    // The file's own settings (3 replications) have no run 7.
    let alone = bin()
        .args(["replay", "scenarios/smoke.toml", "--run", "7", "--from"])
        .arg(dir.join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(2));
    // A folder of another scenario is refused, naming both.
    let other = bin()
        .args(["replay", "scenarios/baseline.toml", "--run", "0", "--from"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
    let err = String::from_utf8(other.stderr).unwrap();
    assert!(err.contains("is of scenario `smoke`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--campaigns` is held to `RUNS_MAX` like the file's `campaigns`: 100 000 campaigns of
/// the shipped arms at 20 replications each is refused at once, naming the limit, and
/// nothing is written.
#[test]
fn campaigns_flag_over_the_run_limit_is_refused() {
    let dir = tmp("campaigns-limit");
    let text = std::fs::read_to_string("scenarios/chaos-policies.toml")
        .unwrap()
        .replacen(
            "campaigns = 64\nreplications = 1\n",
            "campaigns = 64\nreplications = 20\n",
            1,
        );
    assert!(text.contains("replications = 20"));
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, text).unwrap();
    let out = bin()
        .args([
            "chaos",
            scenario.to_str().unwrap(),
            "--campaigns",
            "100000",
            "--quiet",
        ])
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--campaigns 100000") && err.contains("RUNS_MAX"),
        "{err}"
    );
    assert!(!dir.join("out").exists());
}

/// `chaos` takes the folder lock `run` takes: a second process on the same `--out` exits 2
/// at once, saying so, before any campaign runs.
#[test]
fn chaos_on_a_locked_folder_exits_2_at_once() {
    let dir = tmp("locked");
    let held = blastsim::report::journal::lock(&dir).unwrap();
    let out = bin()
        .args([
            "chaos",
            "scenarios/chaos-policies.toml",
            "--campaigns",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("in use by another blastsim process"), "{err}");
    assert!(!dir.join("campaigns.csv").exists() && !dir.join("chaos.md").exists());
    drop(held);
}
