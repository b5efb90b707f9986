//! The leadership report: `report.md`, and a self-contained `report.html` (inline SVG and
//! CSS, no external assets) rendered from that same Markdown, so the two always say the
//! same. Each section is built in the file named for it.
//!
//! Written for a reader who decides on a policy, not for a statistician: the answer
//! first, short sentences, numbers with units and 95% confidence intervals, and every
//! term explained where it is first used.

use std::fmt::Write as _;
use std::path::Path;

use super::charts::input::Results;
use super::charts::{ChartFile, Charts};

mod breaker;
mod decision;
mod html;
mod incident;
mod markdown;
mod method;
mod scenario;
mod sensitivity;
mod tables;
mod text;

use markdown::Block;

/// Writes `report.md` and `report.html` into `dir`.
pub fn write(dir: &Path, r: &Results, charts: &Charts) -> anyhow::Result<()> {
    let md = markdown::to_markdown(&build(r, charts));
    crate::report::atomic::write_unsynced(&dir.join("report.md"), md.as_bytes())?;
    let title = if r.manifest.meta.name.is_empty() {
        "blastsim report".to_string()
    } else {
        format!("{} — blastsim report", r.manifest.meta.name)
    };
    crate::report::atomic::write_unsynced(
        &dir.join("report.html"),
        html::to_html(&title, &md, charts).as_bytes(),
    )?;
    Ok(())
}

/// The whole document, section by section.
fn build(r: &Results, charts: &Charts) -> Vec<Block> {
    let mut b = title(r);
    // The first screen: what to do, the options in business units, the paired differences.
    b.push(Block::H2("What to do".to_string()));
    b.extend(decision::what_to_do(r));
    if let Some(f) = charts.get("forest") {
        b.push(Block::H2("What each option changes".to_string()));
        b.push(Block::P(
            "Each bar is one policy's difference from the baseline on the same simulated changes, with its 95% confidence interval, in the units of the table above. Right of the zero line is worse; a bar that crosses it is a difference the runs cannot tell from chance."
                .to_string(),
        ));
        b.push(figure(f));
    }
    if let Some(f) = charts.get("frontier") {
        b.push(Block::H2("Velocity against blast radius".to_string()));
        b.push(Block::P(
            "Each marker is one policy (an **arm**) at one setting, labelled with its name. Further right ships more; lower breaks less. A setting on the grey staircase (the **Pareto frontier**) cannot be improved on one axis without losing on the other; anything above it is beaten outright. Constraints on either axis are drawn as dashed lines with the side that breaks them shaded; settings that miss any constraint are drawn faded."
                .to_string(),
        ));
        b.push(figure(f));
    }

    b.push(Block::H2("The decision in detail".to_string()));
    b.extend(decision::headline(r).into_iter().map(Block::P));
    b.extend(decision::tradeoff(r));

    b.push(Block::H2("What was simulated".to_string()));
    b.push(Block::List(scenario::scenario_lines(r)));

    b.push(Block::H2("The arms side by side".to_string()));
    b.extend(tables::arm_tables(r));

    b.push(Block::H2("The worst incident".to_string()));
    b.push(Block::P(incident::worst_paragraph(r)));
    if let Some(f) = charts.get("graph") {
        b.push(figure(f));
    }
    b.extend(incident::risk_section(charts));

    b.extend(breaker::section(r));
    b.extend(sensitivity::section(r, charts, figure));
    b.extend(more_charts(charts));
    b.extend(incident::appendix(charts));
    b.extend(method_section(r));
    b.extend(reproduce_section(r));
    b
}

/// The question as the title, and the scenario and version under it.
fn title(r: &Results) -> Vec<Block> {
    let m = &r.manifest;
    let heading = if m.meta.question.is_empty() {
        format!("Results of {}", text::md(&m.meta.name))
    } else {
        text::md(&m.meta.question)
    };
    let mut b = vec![Block::H1(heading)];
    let mut byline = String::new();
    if !m.meta.name.is_empty() {
        let _ = write!(byline, "Scenario {}", text::code(&m.meta.name));
    }
    if !m.version.is_empty() {
        let _ = write!(
            byline,
            "{}blastsim {}",
            if byline.is_empty() { "" } else { ", " },
            m.version
        );
    }
    if !byline.is_empty() {
        b.push(Block::P(format!("{byline}.")));
    }
    b
}

fn figure(f: &ChartFile) -> Block {
    Block::Figure {
        name: f.name.clone(),
        caption: text::md(&f.caption),
    }
}

/// Every chart not shown in an earlier section, and the ones not drawn, with why.
fn more_charts(charts: &Charts) -> Vec<Block> {
    let rest: Vec<_> = charts
        .files
        .iter()
        .filter(|c| {
            !matches!(c.name.as_str(), "frontier" | "forest" | "graph" | "tornado")
                && !incident::shown_here(&c.name)
        })
        .collect();
    if rest.is_empty() && charts.skipped.is_empty() {
        return Vec::new();
    }
    let mut b = vec![Block::H2("More charts".to_string())];
    b.extend(rest.into_iter().map(figure));
    if !charts.skipped.is_empty() {
        b.push(Block::P("Not drawn:".to_string()));
        b.push(Block::List(charts.skipped.clone()));
    }
    b
}

fn method_section(r: &Results) -> Vec<Block> {
    let mut b = vec![Block::H2("Method and assumptions".to_string())];
    b.extend(method::method(r).into_iter().map(Block::P));
    let sources = &r.manifest.meta.sources;
    if !sources.is_empty() {
        b.push(Block::P(
            "Sources the scenario's parameters are calibrated on:".to_string(),
        ));
        b.push(Block::List(sources.iter().map(|s| text::md(s)).collect()));
    } else {
        b.push(Block::P(
            "The scenario cites no calibration sources: treat its parameters as assumptions."
                .to_string(),
        ));
    }
    b
}

fn reproduce_section(r: &Results) -> Vec<Block> {
    let mut code = String::new();
    if !r.manifest.command.is_empty() {
        let _ = writeln!(code, "{}", method::reproduce_command(&r.manifest.command));
    }
    let _ = write!(code, "blastsim plot {}", r.dir.display());
    vec![
        Block::H2("Reproduce".to_string()),
        Block::P(
            "The first command reruns the simulation and rewrites every file here (same seed, same numbers); \
             the second redraws the charts and this report from the CSV files alone."
                .to_string(),
        ),
        Block::Code(code),
    ]
}
