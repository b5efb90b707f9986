//! "What was simulated": the arms, the sweep, the replications, the horizon and seed, and
//! how velocity and blast radius are measured.

use std::fmt::Write as _;

use super::super::charts::input::Results;
use super::super::charts::style::metric_label;
use super::text::{capital, horizon_text, md, md_keeping_code};

pub(super) fn scenario_lines(r: &Results) -> Vec<String> {
    let m = &r.manifest;
    let base = r.baseline();
    let mut lines = Vec::new();
    let arms: Vec<String> = r
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let desc = m
                .meta
                .arms
                .iter()
                .find(|x| &x.name == a)
                .map(|x| x.description.as_str())
                .unwrap_or("");
            let mut s = format!("**{}**", md(a));
            if !desc.is_empty() {
                let _ = write!(s, ": {}", md_keeping_code(desc));
            }
            if i == base {
                s.push_str(" (baseline)");
            }
            s
        })
        .collect();
    lines.push(format!("Policies compared (arms): {}.", arms.join("; ")));
    if r.axes().is_empty() {
        lines.push("No parameter was swept: each arm ran at one setting.".to_string());
    } else {
        let axes: Vec<String> = r
            .axes()
            .iter()
            .map(|a| format!("`{}` over {}", a.path, a.values.join(", ")))
            .collect();
        lines.push(format!(
            "Swept: {} ({} settings per arm).",
            axes.join("; and "),
            r.points.len()
        ));
    }
    let reps = r.replications();
    let mut runs = format!("{reps} replications of every arm and setting");
    // A manifest without run counts (a hand-made one) reads them as 0: say nothing.
    let (t, done) = (m.runs_total, m.runs_done);
    if t > 0 {
        if done == t {
            let _ = write!(runs, ", {t} runs in all");
        } else {
            let _ = write!(
                runs,
                ", {done} of {t} runs finished (the rest are missing from these numbers)"
            );
        }
    }
    lines.push(format!("{runs}."));
    let mut sim = Vec::new();
    if !m.meta.horizon.is_empty() {
        sim.push(format!(
            "each run simulates {}",
            horizon_text(&m.meta.horizon)
        ));
    }
    sim.push(format!("master seed {}", m.meta.seed));
    if !sim.is_empty() {
        lines.push(format!("{}.", capital(&sim.join("; "))));
    }
    lines.push(format!(
        "Velocity is measured as {}; blast radius as {}.",
        metric_label(r.velocity()).to_lowercase(),
        metric_label(r.risk()).to_lowercase()
    ));
    lines
}
