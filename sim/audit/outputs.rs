//! The files an audit writes, each atomically (temporary file, then rename):
//!
//! | file | contents |
//! |---|---|
//! | `decisions.csv` | one row per action × arm: time, agent, tool, subject, class and its source, service, outcome, decision, what decided, predicted reach, review wait and work, hold delay |
//! | `audit_summary.csv` | one row per arm: decision counts and shares, destructive and failed actions per decision, review hours and waits, breaker trips, agents halted and for how long |
//! | `audit_diff.csv` | for every pair of arms, how many decisions change from one kind to another, with example actions |
//! | `audit_coverage.json` | what reading, classification and service mapping could and could not do, with examples |
//! | `fitted_authors.toml` | an `[[authors]]` block fitted to the log |
//! | `audit.md`, `audit_decisions.png/.svg` | the report section and its chart |
//!
//! Integers are milliseconds; floats are written with Rust's shortest round-trip form, so
//! outputs are byte-identical for the same inputs.

use std::fmt::Write as _;
use std::path::Path;

use crate::audit::classify::Unmapped;
use crate::audit::log::ReadStats;
use crate::audit::replay::{ArmStats, By, DecisionKind};
use crate::audit::{AuditOutcome, ClassCoverage, Context, Row, RowSink};
use crate::model::graph::ServiceGraph;
use crate::report::atomic::{AtomicFile, write_atomic};

/// Header of `decisions.csv`.
pub const DECISIONS_HEADER: [&str; 19] = [
    "action",
    "time",
    "file",
    "line",
    "agent",
    "session",
    "tool",
    "subject",
    "class",
    "classified_by",
    "service",
    "outcome",
    "arm",
    "decision",
    "decided_by",
    "predicted_users",
    "review_wait_ms",
    "review_ms",
    "delay_ms",
];

/// Longest subject written to `decisions.csv`, in bytes (longer ones are cut with `…`).
pub const SUBJECT_MAX: usize = 200;

/// Streams `decisions.csv`.
pub struct DecisionsCsv {
    out: csv::Writer<AtomicFile>,
    files: Vec<String>,
}

impl DecisionsCsv {
    /// Starts `dir/decisions.csv`; `files` are the log paths, for the `file` column.
    pub fn create(dir: &Path, files: Vec<String>) -> std::io::Result<DecisionsCsv> {
        let f = AtomicFile::create(&dir.join("decisions.csv"))?;
        let mut out = csv::Writer::from_writer(f);
        out.write_record(DECISIONS_HEADER)
            .map_err(std::io::Error::other)?;
        Ok(DecisionsCsv { out, files })
    }

    /// Flushes and renames the file into place.
    pub fn commit(self) -> std::io::Result<()> {
        let f = self
            .out
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        f.commit()
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

/// The text of "what decided".
pub fn by_name(by: &By, policy: &crate::model::config::Policy) -> String {
    match by {
        By::Nothing => "no_rule".to_string(),
        By::Policy(i) => format!("policy:{}#{}", policy.name, i + 1),
        By::AccessControl => "access_control".to_string(),
        By::Breaker(b) => format!("breaker:{}", b.name()),
        By::ClaudeCode(r) => format!("claude_code:{r}"),
        By::AutoApprove => format!("policy:{}:auto_approve", policy.name),
        By::Unfinished => "review_unfinished".to_string(),
    }
}

fn service_name(s: &Result<crate::model::graph::ServiceId, Unmapped>, g: &ServiceGraph) -> String {
    match s {
        Ok(id) => g.name(*id).to_string(),
        Err(Unmapped::NoMatch) => String::new(),
        Err(Unmapped::UnknownService(n)) => format!("?{n}"),
    }
}

impl RowSink for DecisionsCsv {
    fn row(&mut self, row: &Row, ctx: &Context<'_>) -> std::io::Result<()> {
        let a = &row.action;
        let time = rfc3339(a.time_ms);
        let subject = crate::audit::log::excerpt(a.subject(), SUBJECT_MAX);
        let class_by = ctx.classifier.source_name(row.class_source);
        let service = service_name(&row.service, ctx.graph);
        let file = self.files.get(a.file as usize).map_or("", String::as_str);
        let (seq, line) = (a.seq.to_string(), a.line.to_string());
        for (i, d) in row.decisions.iter().enumerate() {
            let predicted = d.predicted_users.map(|p| p.to_string()).unwrap_or_default();
            let rec = [
                seq.as_str(),
                time.as_str(),
                file,
                line.as_str(),
                a.agent.as_str(),
                a.session.as_str(),
                a.tool.as_str(),
                subject.as_str(),
                row.class.name(),
                class_by.as_str(),
                service.as_str(),
                a.outcome.name(),
                ctx.arms[i].as_str(),
                d.kind.name(),
                &by_name(&d.by, &ctx.worlds[i].policy),
                predicted.as_str(),
                &d.review_wait_ms.to_string(),
                &d.review_ms.to_string(),
                &d.delay_ms.to_string(),
            ];
            self.out.write_record(rec).map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

/// Header of `audit_summary.csv`.
pub const SUMMARY_HEADER: [&str; 31] = [
    "arm",
    "actions",
    "allowed",
    "asked",
    "held",
    "blocked",
    "escalated",
    "allowed_share",
    "asked_share",
    "held_share",
    "blocked_share",
    "escalated_share",
    "destructive",
    "destructive_allowed",
    "destructive_asked",
    "destructive_held",
    "destructive_blocked",
    "destructive_escalated",
    "failed",
    "failed_stopped",
    "reviews",
    "review_h",
    "review_wait_h_p50",
    "review_wait_h_p95",
    "review_wait_h_max",
    "peak_review_queue",
    "unfinished_reviews",
    "breaker_trips",
    "agents_halted",
    "halted_h",
    "held_h",
];

const MS_PER_H: f64 = 3_600_000.0;

/// Shares and hours of one arm, as the summary and the report show them.
pub fn summary_row(name: &str, s: &ArmStats) -> Vec<String> {
    let n: u64 = s.kinds.iter().sum();
    let share = |k: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let q = |p: f64| {
        if s.waits.is_empty() {
            0.0
        } else {
            s.waits.value_at_quantile(p) as f64 / MS_PER_H
        }
    };
    let mut row = vec![name.to_string(), n.to_string()];
    row.extend(s.kinds.iter().map(u64::to_string));
    row.extend(s.kinds.iter().map(|&k| share(k).to_string()));
    row.push(s.destructive.iter().sum::<u64>().to_string());
    row.extend(s.destructive.iter().map(u64::to_string));
    row.push(s.failed.iter().sum::<u64>().to_string());
    row.push(
        (s.failed[DecisionKind::Blocked.index()] + s.failed[DecisionKind::Held.index()])
            .to_string(),
    );
    row.push(s.reviews.to_string());
    row.push((s.review_ms as f64 / MS_PER_H).to_string());
    row.push(q(0.5).to_string());
    row.push(q(0.95).to_string());
    row.push(
        (if s.waits.is_empty() {
            0.0
        } else {
            s.waits.max() as f64 / MS_PER_H
        })
        .to_string(),
    );
    row.push(s.peak_queue.to_string());
    row.push(s.unfinished.to_string());
    row.push(s.trips.to_string());
    row.push(s.agents_halted.len().to_string());
    row.push((s.halted_ms as f64 / MS_PER_H).to_string());
    row.push((s.held_ms as f64 / MS_PER_H).to_string());
    row
}

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(std::io::Error::other)?;
    for r in rows {
        w.write_record(r).map_err(std::io::Error::other)?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The coverage file's contents.
#[derive(serde::Serialize)]
struct CoverageFile<'a> {
    command: &'a str,
    version: &'a str,
    scenario: &'a str,
    scenario_hash: &'a str,
    actions: u64,
    read: &'a ReadStats,
    classification: &'a ClassCoverage,
    assumptions: &'a [&'a str],
}

/// What every audit assumes, for the coverage file and the report.
pub const ASSUMPTIONS: [&str; 8] = [
    "each logged action meets every arm at its logged time; what an arm would have delayed does not shift the agent's later actions",
    "reviews approve: the log cannot say what a reviewer would have caught, so review costs (hours, waits) are measured, not review catches",
    "a Claude Code `ask` prompt is answered by the arm's reviewer pool as a peer review",
    "a held action (rate limit, open agent breaker) is reported with the delay the breaker asks for and is not retried",
    "a failed call counts as an incident-kind failure for the per-agent breaker; logs hold no incidents, so the kill switch and error-budget freeze never fire",
    "the blast-radius guard predicts reach exactly (its noise at the median); an action without a service has a predicted reach of 0",
    "actions without a logged time are spaced by `[audit] untimed_spacing` from Monday 09:00 UTC",
    "actions out of order by more than the reorder window are moved forward to the latest time already replayed",
];

/// Everything but `decisions.csv`.
pub struct Inputs<'a> {
    /// The command line, as recorded.
    pub command: &'a str,
    /// Scenario name.
    pub scenario: &'a str,
    /// Scenario hash.
    pub scenario_hash: &'a str,
    /// Author group name the log's agents belong to.
    pub group: &'a str,
    /// The log paths.
    pub logs: &'a [String],
    /// Whether decisions.csv was written.
    pub decisions: bool,
}

/// Writes the summary, diff, coverage, fitted block, chart and report section.
pub fn write_all(dir: &Path, out: &AuditOutcome, inputs: &Inputs<'_>) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = out
        .arms
        .iter()
        .zip(&out.stats)
        .map(|(n, s)| summary_row(n, s))
        .collect();
    write_atomic(
        &dir.join("audit_summary.csv"),
        &csv_bytes(&SUMMARY_HEADER, &rows)?,
    )?;

    let diff_rows: Vec<Vec<String>> = out
        .diff
        .changes
        .iter()
        .map(|(&(i, j, a, b), t)| {
            vec![
                out.arms[i].clone(),
                out.arms[j].clone(),
                a.name().to_string(),
                b.name().to_string(),
                t.count.to_string(),
                t.examples.join(" | "),
            ]
        })
        .collect();
    write_atomic(
        &dir.join("audit_diff.csv"),
        &csv_bytes(
            &[
                "from_arm",
                "to_arm",
                "from_decision",
                "to_decision",
                "actions",
                "examples",
            ],
            &diff_rows,
        )?,
    )?;

    let cov = CoverageFile {
        command: inputs.command,
        version: env!("CARGO_PKG_VERSION"),
        scenario: inputs.scenario,
        scenario_hash: inputs.scenario_hash,
        actions: out.actions,
        read: &out.read,
        classification: &out.coverage,
        assumptions: &ASSUMPTIONS,
    };
    let mut json = serde_json::to_vec_pretty(&cov)?;
    json.push(b'\n');
    write_atomic(&dir.join("audit_coverage.json"), &json)?;

    write_atomic(
        &dir.join("fitted_authors.toml"),
        out.fit
            .to_toml(&format!("{}-fitted", inputs.group), inputs.logs)
            .as_bytes(),
    )?;

    let chart = crate::audit::chart::draw(dir, &out.arms, &out.stats)?;
    let md = report(out, inputs, chart);
    write_atomic(&dir.join("audit.md"), md.as_bytes())?;
    Ok(())
}

fn pct(k: u64, n: u64) -> String {
    if n == 0 {
        "0%".to_string()
    } else {
        format!("{:.1}%", 100.0 * k as f64 / n as f64)
    }
}

/// The report section (Markdown).
pub fn report(out: &AuditOutcome, inputs: &Inputs<'_>, chart: &str) -> String {
    let mut s = String::new();
    let r = &out.read;
    let _ = writeln!(s, "## Audit: the logged actions under each arm\n");
    let _ = writeln!(
        s,
        "{} actions from {} ({} lines) replayed through {} arm(s) of `{}`; the log's agents \
         take the `{}` author group's permissions.\n",
        out.actions,
        inputs.logs.join(", "),
        r.lines,
        out.arms.len(),
        inputs.scenario,
        inputs.group
    );
    let _ = writeln!(s, "![decisions per arm]({chart}.png)\n");
    let _ = writeln!(
        s,
        "| arm | allowed | asked | held | blocked | escalated | destructive stopped | review h | wait p95 h | agents halted |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for (name, st) in out.arms.iter().zip(&out.stats) {
        let n: u64 = st.kinds.iter().sum();
        let d: u64 = st.destructive.iter().sum();
        let stopped = st.destructive[DecisionKind::Blocked.index()]
            + st.destructive[DecisionKind::Held.index()];
        let row = summary_row(name, st);
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} | {stopped} of {d} | {:.1} | {:.2} | {} |",
            pct(st.kinds[0], n),
            pct(st.kinds[1], n),
            pct(st.kinds[2], n),
            pct(st.kinds[3], n),
            pct(st.kinds[4], n),
            st.review_ms as f64 / MS_PER_H,
            row[23].parse::<f64>().unwrap_or(0.0),
            st.agents_halted.len(),
        );
    }
    let _ = writeln!(s);
    if out.arms.len() > 1 {
        let _ = writeln!(s, "Changes between arms:\n");
        for i in 0..out.arms.len() {
            for j in i + 1..out.arms.len() {
                let changes: Vec<_> = out
                    .diff
                    .changes
                    .iter()
                    .filter(|((a, b, _, _), _)| *a == i && *b == j)
                    .collect();
                let total: u64 = changes.iter().map(|(_, t)| t.count).sum();
                let detail: Vec<String> = changes
                    .iter()
                    .map(|((_, _, x, y), t)| format!("{} {} → {}", t.count, x.name(), y.name()))
                    .collect();
                let _ = writeln!(
                    s,
                    "- moving from **{}** to **{}** changes {total} decisions{}",
                    out.arms[i],
                    out.arms[j],
                    if detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", detail.join(", "))
                    }
                );
            }
        }
        let _ = writeln!(s);
    }
    let c = &out.coverage;
    let unclassified: u64 = c.unclassified.values().map(|t| t.count).sum();
    let unmapped: u64 = c.unmapped.values().map(|t| t.count).sum();
    let malformed: u64 = r.malformed.values().map(|t| t.count).sum();
    let _ = writeln!(
        s,
        "Coverage (details and examples in `audit_coverage.json`):\n"
    );
    let _ = writeln!(s, "- malformed lines skipped: {malformed}");
    let _ = writeln!(
        s,
        "- unclassified actions (given the fallback class): {unclassified} of {} ({})",
        out.actions,
        pct(unclassified, out.actions)
    );
    for (tool, t) in c.unclassified.iter().take(5) {
        let _ = writeln!(
            s,
            "  - {tool}: {} (e.g. `{}`)",
            t.count,
            md_code(t.examples.first())
        );
    }
    let _ = writeln!(
        s,
        "- actions without a service (invisible to the blast-radius guard): {unmapped} ({})",
        pct(unmapped, out.actions)
    );
    for (reason, t) in &c.unmapped {
        if reason.starts_with("infra:") || reason.starts_with("destructive:") {
            let _ = writeln!(
                s,
                "  - {reason}: {} (e.g. `{}`)",
                t.count,
                md_code(t.examples.first())
            );
        }
    }
    let _ = writeln!(
        s,
        "- outcome unknown: {}; untimed: {}; out of order beyond the window: {}; unpaired \
         PreToolUse: {}; unpaired PostToolUse: {}",
        r.outcome_unknown,
        r.untimed,
        r.out_of_order.count,
        r.unpaired_pre.count,
        r.unpaired_post.count
    );
    let unknown: u64 = c.unknown_tools.values().map(|t| t.count).sum();
    if unknown > 0 {
        let names: Vec<&str> = c.unknown_tools.keys().map(String::as_str).take(8).collect();
        let _ = writeln!(
            s,
            "- unknown tools: {unknown} actions ({})",
            names.join(", ")
        );
    }
    let _ = writeln!(s, "\nAssumptions of the replay:\n");
    for a in ASSUMPTIONS {
        let _ = writeln!(s, "- {a}");
    }
    let _ = writeln!(
        s,
        "\nFiles: {}`audit_summary.csv`, `audit_diff.csv`, `audit_coverage.json`, \
         `fitted_authors.toml` (an `[[authors]]` block fitted to the log: {} agents/day, {:.1} \
         actions per agent-day).",
        if inputs.decisions {
            "`decisions.csv`, "
        } else {
            ""
        },
        out.fit.count,
        out.fit.tasks_per_day
    );
    s
}

fn md_code(s: Option<&String>) -> String {
    s.map(|x| x.replace('`', "'").replace('|', "\\|"))
        .unwrap_or_default()
}
