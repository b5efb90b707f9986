//! Synthetic action logs, deterministic from a seed: the shipped example log (Claude Code
//! hook events of a small team working on DeathStarBench's socialNetwork) and the large
//! generic logs the scale tests read.
//!
//! `cargo run --example audit_log > examples/audit/claude-code-hooks.jsonl` regenerates
//! the shipped example. The mix of tool calls is an ASSUMPTION shaped like a coding
//! session (mostly reads, searches, edits and test runs; a few cluster operations; a
//! handful of destructive commands, some of which the default rules do not know), not a
//! measured distribution.

use std::io::{self, Write};

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use crate::engine::Seed;
use crate::engine::time::{MS_PER_DAY, MS_PER_HOUR};

/// Services of DeathStarBench socialNetwork the example touches (names from
/// `scenarios/topologies/deathstarbench-social-network.dot`).
const SERVICES: [&str; 12] = [
    "compose-post-service",
    "text-service",
    "user-service",
    "social-graph-service",
    "home-timeline-service",
    "user-timeline-service",
    "post-storage-service",
    "media-service",
    "url-shorten-service",
    "unique-id-service",
    "nginx-thrift",
    "user-mention-service",
];

const SOURCES: [&str; 8] = [
    "src/ComposePostService/ComposePostHandler.h",
    "src/UserService/UserHandler.h",
    "src/SocialGraphService/SocialGraphHandler.h",
    "src/HomeTimelineService/HomeTimelineHandler.h",
    "src/TextService/TextHandler.h",
    "src/utils_mongodb.h",
    "nginx-web-server/lua-scripts/api/post/compose.lua",
    "test/test_compose_post.py",
];

const CONFIGS: [&str; 4] = [
    "config/service-config.json",
    "config/jaeger-config.yml",
    "helm-chart/socialnetwork/values.yaml",
    "docker-compose.yml",
];

/// One tool call of the example: tool, input JSON, typical duration (ms), failure chance.
struct Call {
    tool: &'static str,
    input: String,
    duration_ms: u64,
    fail: f64,
}

fn json(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// Picks the next call of a session.
fn call(rng: &mut impl rand::Rng) -> Call {
    let u: f64 = rng.random();
    let svc = SERVICES[rng.random_range(0..SERVICES.len())];
    let src = SOURCES[rng.random_range(0..SOURCES.len())];
    let cfg = CONFIGS[rng.random_range(0..CONFIGS.len())];
    let root = "/home/dev/socialnet";
    let bash = |cmd: String, duration_ms, fail| Call {
        tool: "Bash",
        input: format!(r#"{{"command":{},"description":"run"}}"#, json(&cmd)),
        duration_ms,
        fail,
    };
    // Cumulative weights of the call kinds, in percent.
    match (u * 1000.0) as u32 {
        0..=279 => Call {
            tool: "Read",
            input: format!(r#"{{"file_path":{}}}"#, json(&format!("{root}/{src}"))),
            duration_ms: 80,
            fail: 0.01,
        },
        280..=379 => Call {
            tool: "Grep",
            input: format!(
                r#"{{"pattern":"{}","path":{}}}"#,
                "mongo_client",
                json(&format!("{root}/src"))
            ),
            duration_ms: 150,
            fail: 0.0,
        },
        380..=429 => Call {
            tool: "Glob",
            input: r#"{"pattern":"**/*Handler.h"}"#.to_string(),
            duration_ms: 60,
            fail: 0.0,
        },
        430..=569 => {
            let lines = rng.random_range(1..40);
            let new = "    x = y;\n".repeat(lines);
            Call {
                tool: "Edit",
                input: format!(
                    r#"{{"file_path":{},"old_string":"x","new_string":{}}}"#,
                    json(&format!("{root}/{src}")),
                    json(&new)
                ),
                duration_ms: 120,
                fail: 0.03,
            }
        }
        570..=609 => Call {
            tool: "Write",
            input: format!(
                r#"{{"file_path":{},"content":"{{\n  \"replicas\": 2\n}}\n"}}"#,
                json(&format!("{root}/{cfg}"))
            ),
            duration_ms: 90,
            fail: 0.0,
        },
        610..=719 => bash(
            [
                "make test",
                "pytest test/ -q",
                "cmake --build build && ctest",
                "make -C build",
            ][rng.random_range(0..4)]
            .to_string(),
            90_000,
            0.25,
        ),
        720..=779 => bash(
            ["git status", "git diff", "git log --oneline -5"][rng.random_range(0..3)].to_string(),
            300,
            0.0,
        ),
        780..=809 => bash(
            format!("git commit -am 'fix {svc}' && git push origin HEAD"),
            4_000,
            0.05,
        ),
        810..=849 => bash(
            format!("kubectl get pods -n socialnet -l app={svc}"),
            1_500,
            0.02,
        ),
        850..=869 => bash(
            format!("kubectl apply -n socialnet -f k8s/{svc}.yaml"),
            3_000,
            0.08,
        ),
        870..=884 => bash(
            format!("kubectl rollout restart deploy/{svc} -n socialnet"),
            2_000,
            0.05,
        ),
        885..=889 => bash(
            "helm upgrade socialnet helm-chart/socialnetwork -n socialnet".to_string(),
            20_000,
            0.1,
        ),
        890..=899 => bash("rm -rf build/ && mkdir build".to_string(), 500, 0.0),
        900..=904 => bash(
            format!("kubectl delete deploy {svc} -n socialnet"),
            2_000,
            0.0,
        ),
        905..=907 => bash("git push --force origin main".to_string(), 3_000, 0.1),
        908..=909 => bash(
            format!("terraform destroy -auto-approve -target=module.{svc}"),
            60_000,
            0.0,
        ),
        910..=912 => bash(
            "mongosh post-storage-mongodb --eval 'db.post.drop()'".to_string(),
            800,
            0.0,
        ),
        913..=914 => bash(
            "docker compose down -v && docker compose up -d".to_string(),
            45_000,
            0.05,
        ),
        915..=939 => Call {
            tool: "WebFetch",
            input: format!(
                r#"{{"url":{},"prompt":"how to configure"}}"#,
                json(
                    [
                        "https://thrift.apache.org/docs/",
                        "https://www.mongodb.com/docs/manual/",
                        "https://kubernetes.io/docs/concepts/",
                        "https://pastebin.example.net/raw/x"
                    ][rng.random_range(0..4)]
                )
            ),
            duration_ms: 2_500,
            fail: 0.05,
        },
        940..=959 => Call {
            tool: "mcp__github__create_pull_request",
            input: format!(r#"{{"title":"Fix {svc}","base":"main"}}"#),
            duration_ms: 1_500,
            fail: 0.02,
        },
        960..=969 => Call {
            tool: "TodoWrite",
            input: r#"{"todos":[]}"#.to_string(),
            duration_ms: 10,
            fail: 0.0,
        },
        970..=979 => Call {
            tool: "Task",
            input: r#"{"subagent_type":"general-purpose","prompt":"find callers"}"#.to_string(),
            duration_ms: 30_000,
            fail: 0.0,
        },
        980..=989 => Call {
            tool: "SlashCommand",
            input: r#"{"command":"/review"}"#.to_string(),
            duration_ms: 5_000,
            fail: 0.0,
        },
        _ => bash(format!("curl -s http://{svc}:9090/health"), 200, 0.1),
    }
}

/// The shipped example: Claude Code hook events of `sessions` sessions over the working
/// days of one week from Monday 2026-01-05, Pre and Post per call, plus session events.
pub fn claude_code_example(seed: u64, sessions: u32, out: &mut impl Write) -> io::Result<u64> {
    let monday = crate::audit::log::UNTIMED_START_MS - 9 * MS_PER_HOUR;
    let mut events: Vec<(u64, u64, String)> = Vec::new();
    let mut order = 0u64;
    let mut calls = 0u64;
    for s in 0..sessions {
        let mut rng = Seed(seed).stream(0xC1A0, u64::from(s));
        let day = u64::from(s) % 5;
        let start =
            monday + day * MS_PER_DAY + 9 * MS_PER_HOUR + rng.random_range(0..7 * MS_PER_HOUR);
        let sid = format!(
            "{:08x}-5e55-4c0d-9a1b-{:012x}",
            rng.random::<u32>(),
            u64::from(s)
        );
        let head = |event: &str| {
            format!(
                r#""session_id":"{sid}","transcript_path":"/home/dev/.claude/projects/socialnet/{sid}.jsonl","cwd":"/home/dev/socialnet","permission_mode":"default","hook_event_name":"{event}""#
            )
        };
        let mut push = |t: u64, line: String| {
            events.push((t, order, line));
            order += 1;
        };
        push(
            start,
            format!(
                r#"{{{},"source":"startup","timestamp":"{}"}}"#,
                head("SessionStart"),
                crate::audit::outputs::rfc3339(start)
            ),
        );
        let mut t = start + 20_000;
        push(
            t,
            format!(
                r#"{{{},"prompt":"fix the failing compose-post test","timestamp":"{}"}}"#,
                head("UserPromptSubmit"),
                crate::audit::outputs::rfc3339(t)
            ),
        );
        let n = rng.random_range(8..30);
        let gap = Exp::new(1.0 / 25_000.0).expect("a positive rate");
        for _ in 0..n {
            t += 2_000 + gap.sample(&mut rng) as u64;
            let c = call(&mut rng);
            let id = format!("toolu_01{:022x}", rng.random::<u64>());
            let pre = format!(
                r#"{{{},"tool_name":"{}","tool_input":{},"tool_use_id":"{id}","timestamp":"{}"}}"#,
                head("PreToolUse"),
                c.tool,
                c.input,
                crate::audit::outputs::rfc3339(t)
            );
            push(t, pre);
            let done = t + c.duration_ms / 2 + rng.random_range(0..=c.duration_ms);
            let failed = rng.random::<f64>() < c.fail;
            let response = match (c.tool, failed) {
                ("Bash", true) => r#"{"stdout":"","stderr":"error: exit status 1","exit_code":1,"interrupted":false}"#.to_string(),
                ("Bash", false) => r#"{"stdout":"ok","stderr":"","exit_code":0,"interrupted":false}"#.to_string(),
                (_, true) => r#"{"is_error":true,"error":"tool failed"}"#.to_string(),
                (_, false) => r#"{"success":true}"#.to_string(),
            };
            let post = format!(
                r#"{{{},"tool_name":"{}","tool_input":{},"tool_response":{response},"tool_use_id":"{id}","timestamp":"{}"}}"#,
                head("PostToolUse"),
                c.tool,
                c.input,
                crate::audit::outputs::rfc3339(done)
            );
            push(done, post);
            t = done;
            calls += 1;
        }
        push(
            t + 5_000,
            format!(
                r#"{{{},"stop_hook_active":false,"timestamp":"{}"}}"#,
                head("Stop"),
                crate::audit::outputs::rfc3339(t + 5_000)
            ),
        );
    }
    // A hook appends as events happen: the file is in time order across sessions.
    events.sort();
    for (_, _, line) in events {
        writeln!(out, "{line}")?;
    }
    Ok(calls)
}

/// A large generic log for scale tests: `n` actions of `agents` agents, one line each,
/// one second apart, cycling through a fixed set of actions (a tenth destructive).
pub fn generic_scale(n: u64, agents: u32, out: &mut impl Write) -> io::Result<()> {
    const ACTIONS: [&str; 10] = [
        r#""tool":"Read","path":"/r/src/a.rs""#,
        r#""tool":"Bash","command":"cargo test""#,
        r#""tool":"Edit","path":"/r/src/a.rs","size":12"#,
        r#""tool":"Read","path":"/r/src/b.rs""#,
        r#""tool":"Bash","command":"git status""#,
        r#""tool":"Bash","command":"kubectl apply -f user-service.yaml","service":"user-service""#,
        r#""tool":"Grep","path":"/r/src""#,
        r#""tool":"Bash","command":"kubectl delete deploy post-storage-mongodb","service":"post-storage-mongodb""#,
        r#""tool":"Write","path":"/r/config/app.yaml""#,
        r#""tool":"Bash","command":"git push origin HEAD""#,
    ];
    let start = crate::audit::log::UNTIMED_START_MS;
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    for i in 0..n {
        let outcome = if i % 13 == 0 { "error" } else { "ok" };
        writeln!(
            w,
            r#"{{"time":{},"agent":"a{}",{},"outcome":"{outcome}"}}"#,
            start + i * 1000,
            i % u64::from(agents.max(1)),
            ACTIONS[(i % 10) as usize]
        )?;
    }
    w.flush()
}
