//! The leadership report: `report.md` and a self-contained `report.html` (inline SVG and
//! CSS, no external assets), built from one list of blocks so the two always say the same.
//!
//! Written for a reader who decides on a policy, not for a statistician: the answer
//! first, short sentences, numbers with units and 95% confidence intervals, and every
//! term explained where it is first used.

use std::fmt::Write as _;
use std::path::Path;

use super::charts::Charts;
use super::charts::input::{Results, Stat};
use super::charts::style::{
    fmt_num, fmt_pct, fmt_signed, metric_label, metric_name, metric_unit, short_path,
};

/// The metrics of the arms table, in column order, with their column headings.
pub const TABLE_METRICS: [(&str, &str); 6] = [
    ("deploys_per_day", "Deploys per day"),
    ("lead_time_h_p50", "Lead time, median (h)"),
    ("incidents", "Incidents per run"),
    (
        "user_impact_min_p95",
        "User impact per incident, p95 (user-min)",
    ),
    ("senior_review_h_per_week", "Senior review (h/week)"),
    ("blocks_false", "Good changes blocked per run"),
];

/// One piece of the document.
enum Block {
    H1(String),
    H2(String),
    /// A paragraph; `**bold**` and `` `code` `` are the only markup.
    P(String),
    List(Vec<String>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Figure {
        name: String,
        caption: String,
        svg: String,
    },
    Code(String),
}

/// Writes `report.md` and `report.html` into `dir`.
pub fn write(dir: &Path, r: &Results, charts: &Charts) -> anyhow::Result<()> {
    let blocks = build(r, charts);
    crate::report::atomic::write_atomic(&dir.join("report.md"), to_markdown(&blocks).as_bytes())?;
    let title = if r.manifest.name.is_empty() {
        "blastsim report".to_string()
    } else {
        format!("{} — blastsim report", r.manifest.name)
    };
    crate::report::atomic::write_atomic(
        &dir.join("report.html"),
        to_html(&title, &blocks).as_bytes(),
    )?;
    Ok(())
}

/// "41.3 (95% CI 39.8 to 42.9)".
fn with_ci(s: &Stat) -> String {
    if s.ci_low.is_finite() && s.ci_high.is_finite() {
        format!(
            "{} (95% CI {} to {})",
            fmt_num(s.mean),
            fmt_num(s.ci_low),
            fmt_num(s.ci_high)
        )
    } else {
        fmt_num(s.mean)
    }
}

/// "41.3 ± 1.6": the mean and the half-width of its 95% CI, both to the precision the
/// half-width warrants (two significant digits of it), so the columns read evenly.
fn plus_minus(s: &Stat) -> String {
    if !(s.ci_low.is_finite() && s.ci_high.is_finite()) {
        return fmt_num(s.mean);
    }
    let hw = (s.ci_high - s.ci_low) / 2.0;
    if hw >= 10.0 || hw <= 0.0 {
        return format!("{} ± {}", fmt_num(s.mean.round()), fmt_num(hw.round()));
    }
    // Two decimals at most: a table of ± 0.0019 reads as noise, and a value that small
    // is zero for a decision.
    let d = (1 - hw.log10().floor() as i32).clamp(0, 2) as usize;
    let (m, h) = (format!("{:.d$}", s.mean), format!("{:.d$}", hw));
    let zero = |t: &str| {
        t.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
    };
    if zero(&m) && zero(&h) {
        return "0".to_string();
    }
    format!("{m} ± {h}")
}

/// "+12.1 (95% CI 10.2 to 14.0)" for a paired difference, if the row has one; "same in
/// every run" when the two arms never differed at all.
fn diff_text(s: &Stat) -> Option<String> {
    let d = s.diff_mean.filter(|d| d.is_finite())?;
    if d == 0.0 && s.diff_low.unwrap_or(0.0) == 0.0 && s.diff_high.unwrap_or(0.0) == 0.0 {
        return Some("same in every run".to_string());
    }
    Some(match (s.diff_low, s.diff_high) {
        (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => {
            format!(
                "{} (95% CI {} to {})",
                fmt_signed(d),
                fmt_signed(lo),
                fmt_signed(hi)
            )
        }
        _ => fmt_signed(d),
    })
}

/// A horizon as people say it: "90d" or "25w 5d" → "180 days"; anything that is not a
/// whole number of days, as written.
fn horizon_text(h: &str) -> String {
    const DAY_S: u64 = 86_400;
    match humantime::parse_duration(h.trim()) {
        Ok(d) if d.as_secs() % DAY_S == 0 && d.subsec_nanos() == 0 && d.as_secs() > 0 => {
            match d.as_secs() / DAY_S {
                1 => "1 day".to_string(),
                n => format!("{n} days"),
            }
        }
        _ => h.to_string(),
    }
}

fn constraint_text(c: &super::charts::input::ConstraintInfo) -> String {
    format!(
        "{} {} {}{}",
        metric_name(&c.metric).to_lowercase(),
        if c.at_most { "at most" } else { "at least" },
        fmt_num(c.value),
        unit_suffix(&c.metric)
    )
}

/// " hours" after a number of `metric`, or nothing for counts and shares.
fn unit_suffix(metric: &str) -> String {
    match metric_unit(metric).as_str() {
        "" | "count" | "share" => String::new(),
        u => format!(" {u}"),
    }
}

/// `arm`, or `arm at a=1` naming only the swept parameters that change this arm's
/// results (an arm that does not use a swept breaker is the same at every setting).
fn setting(r: &Results, arm: usize, point: usize) -> String {
    if r.points.len() < 2 {
        return format!("**{}**", r.arms[arm]);
    }
    let axes = r.axes_of_arm(arm);
    let Some(p) = r.points.iter().find(|p| p.index == point) else {
        return format!("**{}**", r.arms[arm]);
    };
    if axes.is_empty() {
        return format!(
            "**{}** (the swept parameters do not affect this arm)",
            r.arms[arm]
        );
    }
    let parts: Vec<String> = axes
        .iter()
        .filter_map(|&k| {
            Some(format!(
                "{}={}",
                short_path(&r.manifest.axes[k].path),
                p.values.get(k)?
            ))
        })
        .collect();
    format!("**{}** at `{}`", r.arms[arm], parts.join(", "))
}

fn build(r: &Results, charts: &Charts) -> Vec<Block> {
    let m = &r.manifest;
    let mut b = Vec::new();
    let heading = if m.question.is_empty() {
        format!("Results of {}", m.name)
    } else {
        m.question.clone()
    };
    b.push(Block::H1(heading));
    let mut byline = String::new();
    if !m.name.is_empty() {
        let _ = write!(byline, "Scenario `{}`", m.name);
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

    b.push(Block::H2("The answer".to_string()));
    b.extend(headline(r).into_iter().map(Block::P));
    b.extend(tradeoff(r));

    b.push(Block::H2("What was simulated".to_string()));
    b.push(Block::List(scenario_lines(r)));

    if let Some(f) = charts.get("frontier") {
        b.push(Block::H2("Velocity against blast radius".to_string()));
        b.push(Block::P(
            "Each marker is one policy (an **arm**) at one setting. Further right ships more; lower breaks less. \
             A setting on the grey staircase (the **Pareto frontier**) cannot be improved on one axis without \
             losing on the other; anything above it is beaten outright."
                .to_string(),
        ));
        b.push(Block::Figure {
            name: f.name.clone(),
            caption: f.caption.clone(),
            svg: f.svg.clone(),
        });
    }

    b.push(Block::H2("The arms side by side".to_string()));
    b.extend(arm_tables(r));

    b.push(Block::H2("The worst incident".to_string()));
    b.push(Block::P(worst_paragraph(r)));
    if let Some(f) = charts.get("graph") {
        b.push(Block::Figure {
            name: f.name.clone(),
            caption: f.caption.clone(),
            svg: f.svg.clone(),
        });
    }

    let rest: Vec<_> = charts
        .files
        .iter()
        .filter(|c| c.name != "frontier" && c.name != "graph")
        .collect();
    if !rest.is_empty() || !charts.skipped.is_empty() {
        b.push(Block::H2("More charts".to_string()));
        for f in rest {
            b.push(Block::Figure {
                name: f.name.clone(),
                caption: f.caption.clone(),
                svg: f.svg.clone(),
            });
        }
        if !charts.skipped.is_empty() {
            b.push(Block::P("Not drawn:".to_string()));
            b.push(Block::List(charts.skipped.clone()));
        }
    }

    b.push(Block::H2("Method and assumptions".to_string()));
    b.extend(method(r).into_iter().map(Block::P));
    if !m.sources.is_empty() {
        b.push(Block::P(
            "Sources the scenario's parameters are calibrated on:".to_string(),
        ));
        b.push(Block::List(m.sources.clone()));
    } else {
        b.push(Block::P(
            "The scenario cites no calibration sources: treat its parameters as assumptions."
                .to_string(),
        ));
    }

    b.push(Block::H2("Reproduce".to_string()));
    let mut code = String::new();
    if !m.command.is_empty() {
        let _ = writeln!(code, "{}", reproduce_command(&m.command));
    }
    let _ = write!(code, "blastsim plot {}", r.dir.display());
    b.push(Block::P(
        "The first command reruns the simulation and rewrites every file here (same seed, same numbers); \
         the second redraws the charts and this report from the CSV files alone."
            .to_string(),
    ));
    b.push(Block::Code(code));
    b
}

/// The recorded command without the flags that cannot change a result (`--threads`,
/// `--quiet`, `--no-charts`), so the report reads the same however the run was invoked.
fn reproduce_command(command: &str) -> String {
    let mut out = Vec::new();
    let mut words = command.split_whitespace();
    while let Some(w) = words.next() {
        match w {
            "--quiet" | "--no-charts" => {}
            "--threads" => {
                words.next();
            }
            _ if w.starts_with("--threads=") => {}
            _ => out.push(w),
        }
    }
    out.join(" ")
}

fn headline(r: &Results) -> Vec<String> {
    let m = &r.manifest;
    let (vm, rm) = (&m.velocity, &m.risk);
    let horizon = if m.horizon.is_empty() {
        String::new()
    } else {
        format!(" (one run = {})", horizon_text(&m.horizon))
    };
    let describe = |a: usize, p: usize| -> String {
        let mut s = String::new();
        if let Some(v) = r.summary.get(a, p, vm) {
            let _ = write!(s, "It deploys {} {}", with_ci(v), metric_unit(vm));
        }
        if let Some(k) = r.summary.get(a, p, rm) {
            let _ = write!(
                s,
                "{}{} {} per run{horizon}",
                if s.is_empty() { "It has " } else { " and has " },
                with_ci(k),
                metric_unit(rm)
            );
        }
        if !s.is_empty() {
            s.push('.');
        }
        s
    };
    let mut out = Vec::new();
    let base = r.baseline();
    match (r.recommended(), r.closest()) {
        (Some((a, p)), _) => {
            let mut first = format!("Recommendation: {}.", setting(r, a, p));
            let d = describe(a, p);
            if !d.is_empty() {
                first = format!("{first} {d}");
            }
            out.push(first);
            if a != base {
                let dv = r.summary.get(a, p, vm).and_then(diff_text);
                let dk = r.summary.get(a, p, rm).and_then(diff_text);
                if let (Some(dv), Some(dk)) = (dv, dk) {
                    out.push(format!(
                        "Against the baseline, **{}**, on the same simulated changes: {dv} {} and {dk} {} per run.",
                        r.arms[base],
                        metric_unit(vm),
                        metric_unit(rm)
                    ));
                }
            } else {
                out.push(
                    "This is the baseline arm: no alternative that meets the constraints deploys more."
                        .to_string(),
                );
            }
            if !m.constraints.is_empty() {
                let parts: Vec<String> = m
                    .constraints
                    .iter()
                    .map(|c| {
                        let here = r
                            .summary
                            .mean(a, p, &c.metric)
                            .map(|v| format!(" (here {})", fmt_num(v)))
                            .unwrap_or_default();
                        format!("{}{here}", constraint_text(c))
                    })
                    .collect();
                out.push(format!(
                    "It is the setting with the highest {} that meets every constraint: {}.",
                    metric_name(vm).to_lowercase(),
                    parts.join("; ")
                ));
            }
        }
        (None, Some((a, p))) => {
            let misses: Vec<String> = m
                .constraints
                .iter()
                .filter_map(|c| {
                    let v = r.summary.mean(a, p, &c.metric)?;
                    (!c.met_by(v)).then(|| {
                        format!(
                            "{} (it has {}{})",
                            constraint_text(c),
                            fmt_num(v),
                            unit_suffix(&c.metric)
                        )
                    })
                })
                .collect();
            out.push(format!(
                "**No setting met the constraints.** The closest is {}, which misses {}.",
                setting(r, a, p),
                if misses.is_empty() {
                    "them narrowly".to_string()
                } else {
                    misses.join("; ")
                }
            ));
            let d = describe(a, p);
            if !d.is_empty() {
                out.push(d);
            }
            out.push(
                "So the choice is a trade-off between velocity and blast radius, set out below; to get a \
                 recommendation, relax a constraint or add a stronger safeguard to the scenario and run it again."
                    .to_string(),
            );
        }
        (None, None) => {
            out.push("The run made no recommendation (the scenario states no constraints to choose by). The frontier below shows the choices.".to_string());
        }
    }
    out
}

/// The trade-off against the baseline, arm by arm, from the paired differences at the
/// focus point: how much velocity each arm gives up for how much less blast radius. Said
/// whether or not a setting was recommended, since it is what a reader weighs.
fn tradeoff(r: &Results) -> Vec<Block> {
    let m = &r.manifest;
    let (vm, rm) = (&m.velocity, &m.risk);
    let p = r.focus_point();
    let base = r.baseline();
    let (Some(bv), Some(bk)) = (r.summary.mean(base, p, vm), r.summary.mean(base, p, rm)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let arms: Vec<usize> = (0..r.arms.len())
        .filter(|&a| r.summary.get(a, p, vm).is_some() && r.summary.get(a, p, rm).is_some())
        .collect();
    if arms.len() < 2 {
        return out;
    }
    let mean = |a: usize, metric: &str| r.summary.mean(a, p, metric).unwrap_or(f64::NAN);
    // Ties go to the earlier arm (scenario order), so the sentence is stable.
    let safest = arms.iter().copied().fold(
        arms[0],
        |b, a| if mean(a, rm) < mean(b, rm) { a } else { b },
    );
    let fastest = arms.iter().copied().fold(
        arms[0],
        |b, a| if mean(a, vm) > mean(b, vm) { a } else { b },
    );
    let at = r.focus_description();
    out.push(Block::P(format!(
        "**The trade-off.** {}Safest: **{}**, with {} {} per run. Fastest: **{}**, with {} {}. \
         The baseline, **{}**, has {} and {}.",
        if at.is_empty() {
            String::new()
        } else {
            format!("{}: ", capital(&at))
        },
        r.arms[safest],
        fmt_num(mean(safest, rm)),
        metric_unit(rm),
        r.arms[fastest],
        fmt_num(mean(fastest, vm)),
        metric_unit(vm),
        r.arms[base],
        format_args!("{} {}", fmt_num(bv), metric_unit(vm)),
        format_args!("{} {}", fmt_num(bk), metric_unit(rm)),
    )));

    let pct = |d: f64, of: f64| {
        if of.abs() > 0.0 {
            format!("{}%", fmt_signed(100.0 * d / of))
        } else {
            "n/a".to_string()
        }
    };
    let change = |st: &Stat, of: f64| -> String {
        let Some(d) = st.diff_mean.filter(|d| d.is_finite()) else {
            return "n/a".to_string();
        };
        if diff_text(st).as_deref() == Some("same in every run") {
            return "same in every run".to_string();
        }
        let ci = match (st.diff_low, st.diff_high) {
            (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() => {
                format!("; 95% CI {} to {}", fmt_signed(lo), fmt_signed(hi))
            }
            _ => String::new(),
        };
        format!("{} ({}{ci})", pct(d, of), fmt_signed(d))
    };
    let rows: Vec<Vec<String>> = arms
        .iter()
        .copied()
        .filter(|&a| a != base)
        .filter_map(|a| {
            let (sv, sk) = (r.summary.get(a, p, vm)?, r.summary.get(a, p, rm)?);
            let (dv, dk) = (sv.diff_mean?, sk.diff_mean?);
            // "Clearly" = the 95% CI of the paired difference excludes 0.
            let below = |st: &Stat| st.diff_high.is_some_and(|h| h < 0.0);
            let above = |st: &Stat| st.diff_low.is_some_and(|l| l > 0.0);
            let (slower, faster) = (below(sv), above(sv));
            let (safer, riskier) = (below(sk), above(sk));
            let price = if safer && slower && bv > 0.0 && bk > 0.0 {
                let cost = 100.0 * -dv / bv;
                let gain = 100.0 * -dk / bk;
                format!(
                    "{}% of velocity per 10% less {}",
                    fmt_num(10.0 * cost / gain),
                    short_risk(rm)
                )
            } else if safer && !slower {
                "free: safer at no measurable velocity cost".to_string()
            } else if riskier && slower {
                "worse on both".to_string()
            } else if riskier {
                "buys velocity with blast radius".to_string()
            } else if slower {
                "costs velocity, no measurable safety gain".to_string()
            } else if faster {
                "faster, no measurable safety change".to_string()
            } else {
                "no measurable difference".to_string()
            };
            Some(vec![
                r.arms[a].clone(),
                change(sv, bv),
                change(sk, bk),
                price,
            ])
        })
        .collect();
    if !rows.is_empty() {
        out.push(Block::P(format!(
            "Each arm against the baseline on the same simulated changes (paired runs). The last column is the \
             price of safety: the share of the baseline's {} given up for every 10% of its {} removed; \
             lower is a better deal. A difference counts only when its 95% interval excludes zero.",
            metric_name(vm).to_lowercase(),
            short_risk(rm),
        )));
        out.push(Block::Table {
            head: vec![
                "Arm".to_string(),
                format!("{} vs baseline", metric_name(vm)),
                format!("{} vs baseline", metric_name(rm)),
                "Price of safety".to_string(),
            ],
            rows,
        });
    }
    out
}

/// The risk metric in a few words, for running text: "user impact".
fn short_risk(metric: &str) -> String {
    match metric {
        "user_impact_min_total" => "user impact".to_string(),
        m => metric_name(m).to_lowercase(),
    }
}

fn scenario_lines(r: &Results) -> Vec<String> {
    let m = &r.manifest;
    let base = r.baseline();
    let mut lines = Vec::new();
    let arms: Vec<String> = r
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let desc = m
                .arms
                .iter()
                .find(|x| &x.name == a)
                .map(|x| x.description.as_str())
                .unwrap_or("");
            let mut s = format!("**{a}**");
            if !desc.is_empty() {
                let _ = write!(s, ": {desc}");
            }
            if i == base {
                s.push_str(" (baseline)");
            }
            s
        })
        .collect();
    lines.push(format!("Policies compared (arms): {}.", arms.join("; ")));
    if m.axes.is_empty() {
        lines.push("No parameter was swept: each arm ran at one setting.".to_string());
    } else {
        let axes: Vec<String> = m
            .axes
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
    if let Some(t) = m.runs_total {
        let done = m.runs_done.unwrap_or(t);
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
    if !m.horizon.is_empty() {
        sim.push(format!("each run simulates {}", horizon_text(&m.horizon)));
    }
    if !m.seed.is_empty() {
        sim.push(format!("master seed {}", m.seed));
    }
    if !sim.is_empty() {
        lines.push(format!("{}.", capital(&sim.join("; "))));
    }
    lines.push(format!(
        "Velocity is measured as {}; blast radius as {}.",
        metric_label(&m.velocity).to_lowercase(),
        metric_label(&m.risk).to_lowercase()
    ));
    lines
}

fn arm_tables(r: &Results) -> Vec<Block> {
    let p = r.focus_point();
    let mut out = Vec::new();
    let at = r.focus_description();
    out.push(Block::P(format!(
        "Mean ± half-width of the 95% confidence interval, over {} replications{}. \
         One run = {}.",
        r.replications(),
        if at.is_empty() {
            String::new()
        } else {
            format!(", {at}")
        },
        if r.manifest.horizon.is_empty() {
            "the scenario's horizon".to_string()
        } else {
            horizon_text(&r.manifest.horizon)
        }
    )));
    let metrics: Vec<(&str, &str)> = TABLE_METRICS
        .iter()
        .copied()
        .filter(|(m, _)| r.summary.has_metric(m))
        .collect();
    let mut head = vec!["Arm".to_string()];
    head.extend(metrics.iter().map(|(_, h)| h.to_string()));
    let rows: Vec<Vec<String>> = r
        .arms
        .iter()
        .enumerate()
        .map(|(a, name)| {
            let mut row = vec![name.clone()];
            row.extend(metrics.iter().map(|(m, _)| {
                r.summary
                    .get(a, p, m)
                    .map(plus_minus)
                    .unwrap_or_else(|| "n/a".to_string())
            }));
            row
        })
        .collect();
    out.push(Block::Table {
        head: head.clone(),
        rows,
    });

    let base = r.baseline();
    let diff_rows: Vec<Vec<String>> = (0..r.arms.len())
        .filter(|&a| a != base)
        .map(|a| {
            let mut row = vec![r.arms[a].clone()];
            row.extend(metrics.iter().map(|(m, _)| {
                r.summary
                    .get(a, p, m)
                    .and_then(diff_text)
                    .unwrap_or_else(|| "n/a".to_string())
            }));
            row
        })
        .filter(|row| row[1..].iter().any(|c| c != "n/a"))
        .collect();
    if !diff_rows.is_empty() {
        out.push(Block::P(format!(
            "Difference from the baseline, **{}**, measured on paired runs (the same simulated changes under both \
             policies). An interval that does not include 0 is a real difference at the 95% level.",
            r.arms[base]
        )));
        out.push(Block::Table {
            head,
            rows: diff_rows,
        });
    }
    out
}

fn worst_paragraph(r: &Results) -> String {
    let Some(incidents) = &r.incidents else {
        return "incidents.csv is absent, so the worst incident cannot be described.".to_string();
    };
    let Some(w) = r.worst_incident() else {
        return "No incident happened in any run.".to_string();
    };
    let article = |s: &str| {
        if s.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        }
    };
    let author = if w.author_group.is_empty() || w.author_group == w.author_kind {
        format!("{} {}", article(&w.author_kind), w.author_kind)
    } else {
        format!(
            "{} {} (group `{}`)",
            article(&w.author_kind),
            w.author_kind,
            w.author_group
        )
    };
    let severity = w.severity.replace('_', " ");
    let at = if r.points.len() > 1 {
        format!(" at `{}`", r.point_label_short(w.point))
    } else {
        String::new()
    };
    let services = w.services_hit.round() as i64;
    let spread = match services {
        n if n <= 1 => "and stayed there (1 service down)".to_string(),
        n => format!("and spread until {n} services were down"),
    };
    let mut s = format!(
        "Of all {} incidents in every run, the worst happened under **{}**{at} (run {}, replication {}). \
         {} {} change by {author}, with {} {severity} defect, started at service `{}` on day {} {spread}. \
         At its peak it cut off {} of users. ",
        fmt_num(incidents.len() as f64),
        w.arm,
        w.run_id,
        w.replication,
        capital(article(&w.class)),
        w.class,
        article(&severity),
        w.origin,
        (w.started_h / 24.0).floor() as i64 + 1,
        fmt_pct(w.users_hit_peak),
    );
    if w.detected_h.is_finite() {
        let _ = write!(
            s,
            "It was detected after {}",
            hours_text(w.detected_h - w.started_h)
        );
        if w.duration_h.is_finite() {
            let _ = write!(s, " and took {} to restore", hours_text(w.duration_h));
        }
        match w.recovery.as_str() {
            "" => {}
            "rebuild" => {
                s.push_str(" by rebuilding the environment (a rollback cannot undo a deletion)")
            }
            "rollback" => s.push_str(" by rolling the change back"),
            other => {
                let _ = write!(s, " by {}", other.replace('_', " "));
            }
        }
        s.push_str(". ");
    }
    let _ = write!(
        s,
        "It cost {} user-impact minutes",
        fmt_num(w.user_impact_min)
    );
    if w.user_impact_min > 0.0 {
        let _ = write!(
            s,
            ", as much as every user cut off for {} hours",
            fmt_num(w.user_impact_min / 60.0)
        );
    }
    s.push('.');
    s
}

/// Hours as people say them: "25 minutes" below an hour, else "4.59 hours".
fn hours_text(h: f64) -> String {
    if h < 1.0 {
        let m = (h * 60.0).round().max(0.0) as i64;
        if m == 1 {
            "1 minute".to_string()
        } else {
            format!("{m} minutes")
        }
    } else if h >= 48.0 {
        format!("{} hours ({} days)", fmt_num(h), fmt_num(h / 24.0))
    } else {
        format!("{} hours", fmt_num(h))
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn method(r: &Results) -> Vec<String> {
    let m = &r.manifest;
    let mut out = vec![
        "**The model.** A discrete-event simulation of an engineering organisation. AI agents and human engineers \
         propose changes; each change is, unknown to everyone, either sound or defective, and how badly. The approval \
         policy routes it to reviewers (juniors and seniors, with working hours, queues and imperfect detection that \
         gets worse when rushed). Automated circuit breakers can stop an agent as it acts. A defective change that \
         reaches production starts an incident at its service, which spreads along the service dependency graph until \
         it is detected and rolled back or rebuilt."
            .to_string(),
        "**User-impact minutes** measure an outage's size: minutes down, weighted by the share of user traffic \
         affected. 60 user-impact minutes is every user cut off for an hour, or 10% of users for ten hours."
            .to_string(),
    ];
    // Common random numbers: how much the pairing bought, from the rows that measure it.
    let mut ratios: Vec<f64> = r
        .summary
        .iter()
        .filter(|((_, _, metric), _)| metric == &m.velocity || metric == &m.risk)
        .filter_map(|(_, s)| s.pairing_variance_ratio)
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let mut crn = "**Fair comparison.** Every arm faces the same simulated world: replication r uses one random seed \
                   in every arm, so the same changes are proposed, with the same hidden defects, on the same days \
                   (common random numbers). Differences between arms then come from the policy, not from luck."
        .to_string();
    if !ratios.is_empty() {
        let med = ratios[ratios.len() / 2];
        if med < 1.0 {
            let _ = write!(
                crn,
                " Measured on these runs, pairing cut the variance of the differences to {} of what independent \
                 seeds would give (median over arms and settings, for {} and {}): each comparison is as precise as \
                 about {}× as many unpaired runs.",
                fmt_pct(med),
                metric_name(&m.velocity).to_lowercase(),
                metric_name(&m.risk).to_lowercase(),
                fmt_num(1.0 / med)
            );
        } else {
            let _ = write!(
                crn,
                " Measured on these runs, pairing did not reduce the variance of the differences (ratio {} of \
                 independent seeds), so the paired intervals are no tighter than unpaired ones.",
                fmt_num(med)
            );
        }
    }
    out.push(crn);
    out.push(format!(
        "**Uncertainty.** Each number is a mean over {} replications with a 95% confidence interval (Student t). \
         Differences from the baseline are paired, run by run.",
        r.replications()
    ));
    if !m.constraints.is_empty() {
        let cs: Vec<String> = m.constraints.iter().map(constraint_text).collect();
        out.push(format!(
            "**How the recommendation is chosen.** Among all arms and settings, the one with the highest {} whose mean \
             meets every constraint: {}.",
            metric_name(&m.velocity).to_lowercase(),
            cs.join("; ")
        ));
    }
    if !m.axes.is_empty() {
        let paths: Vec<String> = m
            .axes
            .iter()
            .map(|a| format!("`{}`", short_path(&a.path)))
            .collect();
        out.push(format!(
            "**Assumptions.** The swept parameters ({}) are what the scenario leaves open; every other parameter \
             is fixed at the scenario's value. Parameters without a source below are modelling assumptions.",
            paths.join(", ")
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Rendering

fn to_markdown(blocks: &[Block]) -> String {
    let mut s = String::new();
    for b in blocks {
        match b {
            Block::H1(t) => {
                let _ = writeln!(s, "# {t}\n");
            }
            Block::H2(t) => {
                let _ = writeln!(s, "## {t}\n");
            }
            Block::P(t) => {
                let _ = writeln!(s, "{t}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(s, "- {i}");
                }
                s.push('\n');
            }
            Block::Table { head, rows } => {
                let cell = |c: &str| c.replace('|', "\\|");
                let _ = writeln!(
                    s,
                    "| {} |",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                );
                let _ = writeln!(
                    s,
                    "|{}",
                    head.iter()
                        .enumerate()
                        .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                        .collect::<String>()
                );
                for row in rows {
                    let _ = writeln!(
                        s,
                        "| {} |",
                        row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    );
                }
                s.push('\n');
            }
            Block::Figure { name, caption, .. } => {
                let _ = writeln!(
                    s,
                    "![{caption}]({name}.svg)\n\n*{caption}.* ([PNG]({name}.png))\n"
                );
            }
            Block::Code(t) => {
                let _ = writeln!(s, "```sh\n{t}\n```\n");
            }
        }
    }
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escapes `t` and turns `**x**` into bold and `` `x` `` into code.
fn inline(t: &str) -> String {
    let mut out = String::new();
    let (mut bold, mut code) = (false, false);
    let mut rest = t;
    while !rest.is_empty() {
        if !code && rest.starts_with("**") {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = &rest[2..];
        } else if rest.starts_with('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[1..];
        } else {
            let next = rest
                .char_indices()
                .skip(1)
                .find(|(_, c)| *c == '*' || *c == '`')
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            out.push_str(&escape(&rest[..next]));
            rest = &rest[next..];
        }
    }
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

const CSS: &str = "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1.2em;\
color:#1a1a1a;line-height:1.5}h1{font-size:1.7em;line-height:1.25}h2{margin-top:2em;border-bottom:1px solid #ccc;\
padding-bottom:.2em}table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccc;\
padding:.35em .6em;text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{text-align:left;font-weight:bold}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto;border:1px solid #e5e5e5}figcaption{color:#555;font-size:.92em}\
pre{background:#f5f5f5;padding:.8em;overflow-x:auto}code{background:#f5f5f5;padding:0 .2em}";

fn to_html(title: &str, blocks: &[Block]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(title)
    );
    for b in blocks {
        match b {
            Block::H1(t) => {
                let _ = writeln!(s, "<h1>{}</h1>", inline(t));
            }
            Block::H2(t) => {
                let _ = writeln!(s, "<h2>{}</h2>", inline(t));
            }
            Block::P(t) => {
                let _ = writeln!(s, "<p>{}</p>", inline(t));
            }
            Block::List(items) => {
                s.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(s, "<li>{}</li>", inline(i));
                }
                s.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                s.push_str("<table>\n<tr>");
                for h in head {
                    let _ = write!(s, "<th>{}</th>", inline(h));
                }
                s.push_str("</tr>\n");
                for row in rows {
                    s.push_str("<tr>");
                    for c in row {
                        let _ = write!(s, "<td>{}</td>", inline(c));
                    }
                    s.push_str("</tr>\n");
                }
                s.push_str("</table>\n");
            }
            Block::Figure { name, caption, svg } => {
                // Inline the SVG itself (no external file), minus any XML prologue.
                let body = svg.find("<svg").map(|i| &svg[i..]).unwrap_or(svg);
                let _ = writeln!(
                    s,
                    "<figure id=\"{}\">\n{}\n<figcaption>{}.</figcaption>\n</figure>",
                    escape(name),
                    body.trim_end(),
                    inline(caption)
                );
            }
            Block::Code(t) => {
                let _ = writeln!(s, "<pre><code>{}</code></pre>", escape(t));
            }
        }
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod reproduce_tests {
    use super::reproduce_command;

    #[test]
    fn flags_that_cannot_change_a_result_are_dropped() {
        assert_eq!(
            reproduce_command(
                "blastsim run s.toml --threads 2 --quiet --seed 7 --no-charts --threads=1"
            ),
            "blastsim run s.toml --seed 7"
        );
    }
}
