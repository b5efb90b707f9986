//! Charts and the leadership report, drawn from fixture results folders that this file
//! writes (plausible numbers for four arms, with no sweep, a 1-D and a 2-D sweep), so the
//! report layer is tested without the model.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use blastsim::report::charts::style::fmt_num;
use blastsim::report::render;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

const ARMS: [(&str, &str); 4] = [
    ("autonomous", "agents merge their own changes"),
    ("peer-review", "one peer approves every change"),
    (
        "senior-signoff",
        "a senior signs off every AI-assisted change",
    ),
    (
        "risk-tiered",
        "two-person review for infra and destructive changes, 10% sampling of the rest",
    ),
];
const BASELINE: usize = 2;
const REPS: usize = 20;
const DAYS: usize = 60;
const GUARD: &str = "breakers.blast_guard.max_predicted_users";
const SENIORS: &str = "reviewers.senior.count";

/// What a fixture folder holds.
struct Spec {
    name: &'static str,
    axes: Vec<(&'static str, Vec<&'static str>)>,
    /// Upper bound on `user_impact_min_p95`; a tiny one leaves nothing recommendable.
    p95_bound: f64,
    graph_nodes: usize,
}

/// Rounds like `fmt_num` shows (3 significant digits, whole numbers from 100), so the
/// CSV text and the report's text of one number agree.
fn round3(v: f64) -> f64 {
    let a = v.abs();
    if a >= 100.0 {
        v.round()
    } else if a >= 10.0 {
        (v * 10.0).round() / 10.0
    } else {
        (v * 100.0).round() / 100.0
    }
}

fn fixture_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The mean of each metric for an arm at a point: guard `g` (0..1, 1 = off) and `seniors`.
fn model(arm: usize, g: f64, seniors: f64) -> BTreeMap<&'static str, f64> {
    let deploys = [48.0, 40.0, 26.0, 44.0][arm] * (0.8 + 0.2 * g.powf(0.3));
    let senior_lag = if arm == 2 { 16.0 / seniors } else { 1.0 };
    let lead = [0.6, 3.5, 9.0, 2.2][arm] * senior_lag.sqrt();
    let impact = [5200.0, 2900.0, 1500.0, 1700.0][arm] * (0.35 + 0.65 * g.powf(0.4));
    let incidents = [31.0, 19.0, 9.0, 11.0][arm] * (0.5 + 0.5 * g.powf(0.3));
    let senior_h = [0.0, 6.0, 38.0 * (seniors / 8.0).powf(0.2), 12.0][arm] + 2.0;
    let false_blocks = 140.0 * (1.0 - g).powi(2) + [3.0, 2.0, 1.0, 2.0][arm];
    // Autonomous agents have the fattest tail: it never meets the fixture's p95 bound.
    let p95 = impact / incidents * 2.6 * [1.6, 1.1, 1.0, 1.0][arm];
    BTreeMap::from([
        ("deploys_per_day", deploys),
        ("lead_time_h_p50", lead),
        ("user_impact_min_total", impact),
        ("user_impact_min_p95", p95),
        ("incidents", incidents),
        ("senior_review_h_per_week", senior_h),
        ("blocks_false", false_blocks),
        ("users_hit_max", 0.05 + 0.3 * g),
    ])
}

struct Point {
    label: String,
    values: Vec<String>,
    g: f64,
    seniors: f64,
}

fn points(spec: &Spec) -> Vec<Point> {
    let mut out = vec![Point {
        label: "base".into(),
        values: vec![],
        g: 1.0,
        seniors: 8.0,
    }];
    for (path, values) in &spec.axes {
        let mut next = Vec::new();
        for p in &out {
            for v in values {
                let mut q = Point {
                    label: String::new(),
                    values: p.values.clone(),
                    g: p.g,
                    seniors: p.seniors,
                };
                q.values.push(v.to_string());
                if *path == GUARD {
                    q.g = v.parse().unwrap();
                } else {
                    q.seniors = v.parse().unwrap();
                }
                next.push(q);
            }
        }
        out = next;
    }
    for p in &mut out {
        if !spec.axes.is_empty() {
            p.label = spec
                .axes
                .iter()
                .zip(&p.values)
                .map(|((a, _), v)| format!("{a}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
        }
    }
    out
}

/// Writes manifest.json, summary.csv, incidents.csv, timeline.csv and (optionally) the
/// graph tables of a plausible experiment. Returns the folder.
/// `tag` names the folder, so tests running in parallel never share one.
fn write_fixture(spec: &Spec, tag: &str) -> PathBuf {
    let dir = fixture_dir(&format!("{}-{tag}", spec.name));
    let pts = points(spec);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let metrics = [
        "deploys_per_day",
        "lead_time_h_p50",
        "user_impact_min_total",
        "user_impact_min_p95",
        "incidents",
        "senior_review_h_per_week",
        "blocks_false",
        "users_hit_max",
    ];
    let t = 2.093 / (REPS as f64).sqrt();

    // Means first, to find the frontier and the recommendation the way the experiments
    // layer does: highest deploys/day whose p95 impact is within the bound.
    let means: Vec<Vec<BTreeMap<&str, f64>>> = (0..ARMS.len())
        .map(|a| pts.iter().map(|p| model(a, p.g, p.seniors)).collect())
        .collect();
    let mut rec: Option<(usize, usize)> = None;
    for a in 0..ARMS.len() {
        for (pi, _) in pts.iter().enumerate() {
            let m = &means[a][pi];
            let ok = round3(m["user_impact_min_p95"]) <= spec.p95_bound;
            if ok
                && rec
                    .is_none_or(|(ra, rp)| m["deploys_per_day"] > means[ra][rp]["deploys_per_day"])
            {
                rec = Some((a, pi));
            }
        }
    }
    let front = |a: usize, p: usize| {
        let (v, k) = (
            means[a][p]["deploys_per_day"],
            means[a][p]["user_impact_min_total"],
        );
        !(0..ARMS.len()).any(|b| {
            (0..pts.len()).any(|q| {
                let (v2, k2) = (
                    means[b][q]["deploys_per_day"],
                    means[b][q]["user_impact_min_total"],
                );
                v2 >= v && k2 <= k && (v2 > v || k2 < k)
            })
        })
    };

    let axis_cols: String = spec.axes.iter().map(|(a, _)| format!("{a},")).collect();
    let mut s = format!(
        "arm,point,point_label,{axis_cols}metric,n,mean,sd,ci95_low,ci95_high,p50,p95,max,paired_diff_mean,\
         paired_diff_ci95_low,paired_diff_ci95_high,pairing_variance_ratio,on_frontier,recommended\n"
    );
    for (a, (arm, _)) in ARMS.iter().enumerate() {
        for (pi, p) in pts.iter().enumerate() {
            for metric in metrics {
                let mean = round3(means[a][pi][metric]);
                let sd = round3(mean.abs() * 0.12 + 0.05);
                let hw = round3(t * sd);
                let (lo, hi) = (round3(mean - hw), round3(mean + hw));
                let diff = if a == BASELINE {
                    ",,,".to_string()
                } else {
                    let d = round3(mean - round3(means[BASELINE][pi][metric]));
                    let dhw = round3(hw * 0.45);
                    format!(
                        "{d},{},{},{}",
                        round3(d - dhw),
                        round3(d + dhw),
                        0.2 + 0.01 * a as f64
                    )
                };
                let vals: String = p.values.iter().map(|v| format!("{v},")).collect();
                let label = if p.label.contains(',') {
                    format!("\"{}\"", p.label)
                } else {
                    p.label.clone()
                };
                writeln!(
                    s,
                    "{arm},{pi},{label},{vals}{metric},{REPS},{mean},{sd},{lo},{hi},{mean},{},{},{diff},{},{}",
                    round3(mean * 1.2),
                    round3(mean * 1.4),
                    front(a, pi),
                    rec == Some((a, pi))
                )
                .unwrap();
            }
        }
    }
    std::fs::write(dir.join("summary.csv"), s).unwrap();

    let mut inc = String::from(
        "run_id,arm,point,replication,incident,change_id,author_group,author_kind,class,severity,origin,started_h,\
         detected_h,restored_h,duration_h,services_hit,users_hit_peak,user_impact_min,recovery\n",
    );
    let classes = ["code", "config", "infra", "destructive"];
    let mut run_id = 0;
    for (a, (arm, _)) in ARMS.iter().enumerate() {
        for (pi, _) in pts.iter().enumerate() {
            for r in 0..REPS {
                let n = (means[a][pi]["incidents"] / 6.0).round() as usize + rng.random_range(0..3);
                for i in 0..n {
                    let class = classes[rng.random_range(0..4)];
                    let heavy = if class == "destructive" { 40.0 } else { 1.0 };
                    let impact = round3(
                        heavy * 20.0 * (rng.random::<f64>() * 4.0).exp() * (a as f64 * -0.2).exp(),
                    );
                    let start = round3(rng.random::<f64>() * DAYS as f64 * 24.0);
                    let dur = round3(
                        0.2 + rng.random::<f64>() * if class == "destructive" { 13.0 } else { 2.0 },
                    );
                    writeln!(
                        inc,
                        "{run_id},{arm},{pi},{r},{i},c{run_id}-{i},{},{},{class},{},svc-{},{start},{},{},{dur},{},{},{impact},{}",
                        if i % 3 == 0 { "humans" } else { "agents" },
                        if i % 3 == 0 { "human" } else { "agent" },
                        if class == "destructive" { "environment_deletion" } else { "cascading" },
                        rng.random_range(0..spec.graph_nodes.max(1)),
                        round3(start + 0.15),
                        round3(start + dur),
                        rng.random_range(1..12),
                        round3(rng.random::<f64>() * 0.6),
                        if class == "destructive" { "rebuild" } else { "rollback" },
                    )
                    .unwrap();
                }
                run_id += 1;
            }
        }
    }
    std::fs::write(dir.join("incidents.csv"), inc).unwrap();

    let mut tl = String::from(
        "run_id,arm,point,replication,day,deploys,incidents,users_hit_max,user_impact_min,breaker_trips,freeze_h,kill_switch_h\n",
    );
    for (a, (arm, _)) in ARMS.iter().enumerate() {
        for (pi, _) in pts.iter().enumerate() {
            for day in 0..DAYS {
                let weekend = day % 7 >= 5;
                let deploys = if weekend { 0.2 } else { 1.0 }
                    * means[a][pi]["deploys_per_day"]
                    * (0.7 + 0.6 * rng.random::<f64>());
                let incidents = if rng.random::<f64>() < 0.12 {
                    rng.random_range(1..3)
                } else {
                    0
                };
                let hit = if incidents > 0 {
                    round3(rng.random::<f64>() * 0.4)
                } else {
                    0.0
                };
                let trips = if a == 0 && rng.random::<f64>() < 0.1 {
                    rng.random_range(1..4)
                } else {
                    0
                };
                let freeze = if (30..34).contains(&day) && a != 2 {
                    24.0
                } else {
                    0.0
                };
                let kill = if incidents > 0 && a == 3 { 2.5 } else { 0.0 };
                writeln!(
                    tl,
                    "{a}{pi},{arm},{pi},0,{day},{},{incidents},{hit},{},{trips},{freeze},{kill}",
                    deploys.round(),
                    round3(hit * 600.0)
                )
                .unwrap();
            }
        }
    }
    std::fs::write(dir.join("timeline.csv"), tl).unwrap();

    if spec.graph_nodes > 0 {
        let layers = 4;
        let mut nodes = String::from("id,name,weight,tier,depth,hit_in_worst\n");
        let mut edges = String::from("from,to,kind,fallback\n");
        for id in 0..spec.graph_nodes {
            let depth = id * layers / spec.graph_nodes;
            let hit = id % 7 == 2 || id == 0;
            let w = round3(0.002 + rng.random::<f64>().powi(3) * 0.2);
            writeln!(
                nodes,
                "{id},svc-{id},{w},{},{depth},{hit}",
                1 + depth.min(2)
            )
            .unwrap();
            if depth + 1 < layers {
                let next_lo = (depth + 1) * spec.graph_nodes / layers;
                let next_hi = (depth + 2) * spec.graph_nodes / layers;
                for _ in 0..2 {
                    let to = rng.random_range(next_lo..next_hi);
                    let soft = rng.random::<f64>() < 0.4;
                    writeln!(
                        edges,
                        "{id},{to},{},{}",
                        if soft { "soft" } else { "hard" },
                        soft
                    )
                    .unwrap();
                }
            }
        }
        std::fs::write(dir.join("graph_nodes.csv"), nodes).unwrap();
        std::fs::write(dir.join("graph_edges.csv"), edges).unwrap();
    }

    let axes: Vec<serde_json::Value> = spec
        .axes
        .iter()
        .map(|(p, vs)| serde_json::json!({"path": p, "values": vs.iter().map(|v| serde_json::from_str::<serde_json::Value>(v).unwrap()).collect::<Vec<_>>()}))
        .collect();
    let manifest = serde_json::json!({
        "name": spec.name,
        "question": "Does mandatory senior sign-off on agent changes pay for its velocity cost?",
        "path": format!("scenarios/{}.toml", spec.name),
        "hash": "0123abcd",
        "seed": 2026,
        "replications": REPS,
        "horizon": "60d",
        "arms": ARMS.iter().map(|(n, d)| serde_json::json!({"name": n, "description": d})).collect::<Vec<_>>(),
        "baseline": ARMS[BASELINE].0,
        "axes": axes,
        "objectives": {"velocity": "deploys_per_day", "risk": "user_impact_min_total",
            "constraints": [{"metric": "user_impact_min_p95", "at_most": true, "value": spec.p95_bound}]},
        "sources": ["DORA 2024 performance clusters — https://dora.dev/research/2024/dora-report/"],
        "command": format!("blastsim run scenarios/{}.toml", spec.name),
        "version": "0.1.0",
        "threads": 2,
        "runs_total": ARMS.len() * pts.len() * REPS,
        "runs_done": ARMS.len() * pts.len() * REPS,
        "recommendation": rec.map(|(a, p)| serde_json::json!({"arm": ARMS[a].0, "point_label": pts[p].label})),
        "wall_time_s": 12.5,
        "created": "2026-01-01T00:00:00Z",
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    dir
}

fn one_dim() -> Spec {
    Spec {
        name: "one-dim",
        axes: vec![(GUARD, vec!["0.01", "0.02", "0.05", "0.1", "0.2", "1.0"])],
        p95_bound: 420.0,
        graph_nodes: 36,
    }
}

fn two_dim() -> Spec {
    Spec {
        name: "two-dim",
        axes: vec![
            (GUARD, vec!["0.01", "0.05", "0.2", "1.0"]),
            (SENIORS, vec!["4", "8", "16"]),
        ],
        p95_bound: 420.0,
        graph_nodes: 300,
    }
}

fn no_sweep(p95_bound: f64) -> Spec {
    Spec {
        name: if p95_bound < 1.0 {
            "no-sweep-no-rec"
        } else {
            "no-sweep"
        },
        axes: vec![],
        p95_bound,
        graph_nodes: 0,
    }
}

/// Every `<text>` of an SVG, after checking it parses as XML.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect()
}

/// Checks the PNG's size and that it is not blank: distinct colours and inked pixels.
fn check_png(path: &Path) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height),
        (1600, 1000),
        "{}",
        path.display()
    );
    let bpp = info.line_size / info.width as usize;
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(bpp).collect();
    let inked = px.iter().filter(|p| p[..3] != [255, 255, 255]).count();
    let colours: std::collections::BTreeSet<&[u8]> = px.iter().copied().collect();
    assert!(
        inked > px.len() / 50,
        "{}: only {inked} non-white pixels",
        path.display()
    );
    assert!(
        colours.len() >= 8,
        "{}: only {} colours",
        path.display(),
        colours.len()
    );
}

fn check_chart(dir: &Path, name: &str, labels: &[&str]) {
    let texts = svg_texts(&dir.join(format!("{name}.svg")));
    for l in labels {
        assert!(
            texts.iter().any(|t| t.contains(l)),
            "{name}.svg has no label {l:?}; texts: {texts:?}"
        );
    }
    check_png(&dir.join(format!("{name}.png")));
}

const SWEEPS: [&str; 6] = [
    "deploys_per_day",
    "lead_time_h_p50",
    "user_impact_min_total",
    "incidents",
    "senior_review_h_per_week",
    "blocks_false",
];

#[test]
fn one_dim_sweep_draws_every_chart_with_arm_labels() {
    let dir = write_fixture(&one_dim(), "t1");
    render(&dir).unwrap();
    let arms: Vec<&str> = ARMS.iter().map(|a| a.0).collect();
    check_chart(
        &dir,
        "frontier",
        &[&arms[..], &["Recommended", "Pareto frontier"]].concat(),
    );
    for m in SWEEPS {
        check_chart(&dir, &format!("sweep_{m}"), &arms);
        assert!(
            !dir.join(format!("heatmap_{m}.svg")).exists(),
            "a 1-D sweep has no heatmap"
        );
    }
    check_chart(
        &dir,
        "ccdf_impact",
        &[&arms[..], &["Incidents per year"]].concat(),
    );
    // One single-run timeline (the appendix's), of the recommended arm.
    let one = the_timeline(&dir);
    let a = one.strip_prefix("timeline_").unwrap().to_string();
    check_chart(&dir, &one, &[&a, "Deploys per day"]);
    check_chart(&dir, "graph", &["svc-0", "Down in the worst incident"]);
}

#[test]
fn two_dim_sweep_adds_heatmaps_and_draws_a_large_graph() {
    let dir = write_fixture(&two_dim(), "t2");
    render(&dir).unwrap();
    let arms: Vec<&str> = ARMS.iter().map(|a| a.0).collect();
    for m in SWEEPS {
        check_chart(&dir, &format!("heatmap_{m}"), &arms);
        // The sweep line holds the second axis at the recommended setting and says so.
        check_chart(
            &dir,
            &format!("sweep_{m}"),
            &["Held fixed: Senior reviewers"],
        );
    }
    check_chart(&dir, "graph", &["depth 3"]);
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("(12 settings per arm)"), "{report}");
}

#[test]
fn no_sweep_skips_sweep_charts_and_the_report_says_so() {
    let dir = write_fixture(&no_sweep(420.0), "t3");
    render(&dir).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("sweep_") || n.starts_with("heatmap_")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("graph.")),
        "no graph tables, so no graph chart: {names:?}"
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(report.contains("No parameter was swept"), "{report}");
    assert!(
        report.contains("sweep charts: the scenario sweeps no parameter"),
        "{report}"
    );
    assert!(
        report.contains("graph: graph_nodes.csv / graph_edges.csv are absent"),
        "{report}"
    );
}

/// Reads summary.csv the plain way and returns, for the recommended row of `metric`, its
/// (mean, ci95_low, ci95_high, paired_diff_mean) as written.
fn recommended_row(dir: &Path, metric: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        if &row[col("metric")] == metric && &row[col("recommended")] == "true" {
            return ["mean", "ci95_low", "ci95_high", "paired_diff_mean"]
                .iter()
                .map(|c| row[col(c)].to_string())
                .collect();
        }
    }
    panic!("no recommended row for {metric}");
}

#[test]
fn report_quotes_the_recommendation_as_summary_csv_has_it() {
    let dir = write_fixture(&one_dim(), "t4");
    render(&dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    // The fixture's rule picks risk-tiered (highest deploys/day with p95 within bound).
    assert!(
        md.contains("Recommendation: **risk-tiered** at `blast_guard.max_predicted_users="),
        "{md}"
    );
    assert!(html.contains("Recommendation: <strong>risk-tiered</strong>"));
    for metric in ["deploys_per_day", "user_impact_min_total"] {
        let row = recommended_row(&dir, metric);
        let nums: Vec<f64> = row.iter().map(|s| s.parse().unwrap()).collect();
        let ci = format!(
            "{} (95% CI {} to {})",
            fmt_num(nums[0]),
            fmt_num(nums[1]),
            fmt_num(nums[2])
        );
        assert!(
            md.contains(&ci),
            "report.md lacks {ci:?} for {metric}:\n{md}"
        );
        assert!(html.contains(&ci), "report.html lacks {ci:?} for {metric}");
        // Values under 1,000 must appear exactly as summary.csv writes them.
        for (raw, v) in row.iter().zip(&nums).take(3) {
            if v.abs() < 1000.0 {
                assert!(
                    md.contains(raw.as_str()),
                    "report.md lacks {raw} ({metric})"
                );
            }
        }
        let diff = format!(
            "{}{}",
            if nums[3] > 0.0 { "+" } else { "" },
            fmt_num(nums[3])
        );
        assert!(
            md.contains(&diff),
            "report.md lacks the paired difference {diff} ({metric})"
        );
    }
    // The rest of a leadership page.
    for needle in [
        "Does mandatory senior sign-off",
        "**senior-signoff**: a senior signs off every AI-assisted change (baseline)",
        "| Arm | Deploys per day",
        "The worst incident",
        "pairing cut the variance of the differences to",
        "https://dora.dev/research/2024/dora-report/",
        "blastsim run scenarios/one-dim.toml",
        "![",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}");
    }
}

#[test]
fn worst_incident_paragraph_names_the_biggest_row_of_incidents_csv() {
    let dir = write_fixture(&one_dim(), "t5");
    render(&dir).unwrap();
    let mut r = csv::Reader::from_path(dir.join("incidents.csv")).unwrap();
    let mut worst: Option<csv::StringRecord> = None;
    for row in r.records() {
        let row = row.unwrap();
        let v: f64 = row[17].parse().unwrap();
        if worst
            .as_ref()
            .is_none_or(|w| v > w[17].parse::<f64>().unwrap())
        {
            worst = Some(row);
        }
    }
    let w = worst.unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let para = md
        .split("## The worst incident")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .nth(1)
        .unwrap();
    assert!(para.contains(&format!("under **{}**", &w[1])), "{para}");
    assert!(
        para.contains(&format!("(run {}, replication {})", &w[0], &w[3])),
        "{para}"
    );
    assert!(
        para.contains(&format!(
            "{} user-impact minutes",
            fmt_num(w[17].parse().unwrap())
        )),
        "{para}"
    );
    assert!(
        para.contains(&format!("spread until {} services were down", &w[15])),
        "{para}"
    );
    let how = match &w[18] {
        "rebuild" => "by rebuilding the environment",
        "rollback" => "by rolling the change back",
        other => panic!("fixture recovery {other}"),
    };
    assert!(para.contains(how), "{para}");
    assert!(
        para.contains(&format!("started at service `{}`", &w[10])),
        "{para}"
    );
}

#[test]
fn no_setting_meeting_the_constraints_is_said_and_the_closest_named() {
    let dir = write_fixture(&no_sweep(0.5), "t6");
    render(&dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("**No setting met the constraints.**"), "{md}");
    // Closest by relative shortfall on p95 impact: the arm with the lowest p95 in the model.
    let p95: Vec<f64> = (0..ARMS.len())
        .map(|a| round3(model(a, 1.0, 8.0)["user_impact_min_p95"]))
        .collect();
    let best = (0..ARMS.len())
        .min_by(|&a, &b| p95[a].total_cmp(&p95[b]))
        .unwrap();
    assert!(
        md.contains(&format!("The closest is **{}**", ARMS[best].0)),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "(it has {} user-impact minutes)",
            fmt_num(p95[best])
        )),
        "{md}"
    );
    let frontier = svg_texts(&dir.join("frontier.svg"));
    assert!(
        !frontier.iter().any(|t| t.starts_with("Recommended:")),
        "nothing is recommended: {frontier:?}"
    );
}

fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".svg") || n.ends_with(".png") || n.starts_with("report.")
        })
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn plot_from_the_csvs_alone_gives_the_same_bytes_as_render() {
    let dir = write_fixture(&one_dim(), "t7");
    render(&dir).unwrap();
    let first = outputs(&dir);
    assert!(first.len() >= 2 * 10 + 2, "{:?}", first.keys());

    // A copy of the inputs only, redrawn by the command line.
    let copy = fixture_dir("one-dim-plot");
    for f in [
        "manifest.json",
        "summary.csv",
        "incidents.csv",
        "timeline.csv",
        "graph_nodes.csv",
        "graph_edges.csv",
    ] {
        std::fs::copy(dir.join(f), copy.join(f)).unwrap();
    }
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .arg("plot")
        .arg(&copy)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let second = outputs(&copy);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &first {
        // The report names its own folder in the `blastsim plot DIR` line; nothing else differs.
        let other = if name.starts_with("report.") {
            String::from_utf8(second[name].clone())
                .unwrap()
                .replace(&copy.display().to_string(), &dir.display().to_string())
                .into_bytes()
        } else {
            second[name].clone()
        };
        assert!(*bytes == other, "{name} differs between render and plot");
    }
    // And drawing again in place changes nothing.
    render(&dir).unwrap();
    assert_eq!(first, outputs(&dir));
}

#[test]
fn plot_on_a_folder_without_results_exits_2_with_a_clear_message() {
    let dir = fixture_dir("empty");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_blastsim"))
        .arg("plot")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a results folder: missing manifest.json and summary.csv"),
        "{err}"
    );
}

#[test]
fn a_malformed_summary_is_an_error_with_file_line_and_column() {
    let dir = write_fixture(&no_sweep(420.0), "t8");
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let cols: Vec<&str> = lines[0].split(',').collect();
    let mean = cols.iter().position(|c| *c == "mean").unwrap();
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    cells[mean] = "lots".into();
    lines[2] = cells.join(",");
    std::fs::write(dir.join("summary.csv"), lines.join("\n") + "\n").unwrap();
    let err = format!("{:#}", render(&dir).unwrap_err());
    assert!(
        err.contains(&format!(
            "summary.csv:3:{}: column `mean`: `lots` is not a number",
            mean + 1
        )),
        "{err}"
    );
}

#[test]
fn html_report_is_self_contained_with_inline_svg() {
    let dir = write_fixture(&one_dim(), "t9");
    render(&dir).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for banned in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(
            !html.contains(banned),
            "report.html should need no other file, but has {banned:?}"
        );
    }
    let svgs: Vec<&str> = html
        .split("<svg")
        .skip(1)
        .map(|s| s.split("</svg>").next().unwrap())
        .collect();
    assert!(
        svgs.len() >= 10,
        "expected every chart inline, found {}",
        svgs.len()
    );
    for s in svgs {
        let xml = format!("<svg{s}</svg>");
        roxmltree::Document::parse(&xml).expect("an inline SVG parses as XML");
    }
}

#[test]
fn numbers_are_shown_with_about_three_significant_digits() {
    let cases = [
        (0.0, "0"),
        (-0.0, "0"),
        (0.012345, "0.0123"),
        (0.5, "0.500"),
        (2.0, "2"),
        (44.0, "44"),
        (4.126, "4.13"),
        (41.26, "41.3"),
        (-41.26, "-41.3"),
        (412.6, "413"),
        (41_260.0, "41,260"),
        (-1_234_567.0, "-1,234,567"),
        (f64::NAN, "n/a"),
    ];
    for (v, want) in cases {
        assert_eq!(fmt_num(v), want, "fmt_num({v})");
    }
}

/// Rewrites `manifest.json` in `dir` through `edit`.
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let path = dir.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(v.as_object_mut().unwrap());
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn no_recommendation_still_states_the_trade_off_safest_and_fastest() {
    let dir = write_fixture(&no_sweep(0.5), "t7");
    render(&dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let answer = md
        .split("## The decision in detail")
        .nth(1)
        .unwrap()
        .split("## What was simulated")
        .next()
        .unwrap();
    let by = |metric: &str| -> Vec<f64> {
        (0..ARMS.len())
            .map(|a| model(a, 1.0, 8.0)[metric])
            .collect()
    };
    let (impact, deploys) = (by("user_impact_min_total"), by("deploys_per_day"));
    let safest = (0..ARMS.len())
        .min_by(|&a, &b| impact[a].total_cmp(&impact[b]))
        .unwrap();
    let fastest = (0..ARMS.len())
        .max_by(|&a, &b| deploys[a].total_cmp(&deploys[b]))
        .unwrap();
    assert!(answer.contains("**The trade-off.**"), "{answer}");
    assert!(
        answer.contains(&format!("Safest: **{}**", ARMS[safest].0)),
        "{answer}"
    );
    assert!(
        answer.contains(&format!("Fastest: **{}**", ARMS[fastest].0)),
        "{answer}"
    );
    assert!(answer.contains("| Price of safety |"), "{answer}");
    // Every arm but the baseline has a row against it, and the baseline none.
    for (a, (name, _)) in ARMS.iter().enumerate() {
        let row = format!("\n| {name} |");
        assert_eq!(answer.contains(&row), a != BASELINE, "{name}: {answer}");
    }
}

#[test]
fn manifest_baseline_arm_key_and_week_horizons_are_read() {
    let dir = write_fixture(&no_sweep(1e9), "t8");
    // What `blastsim run` writes: `baseline_arm`, and humantime's "25w 5d" for 180 days.
    edit_manifest(&dir, |m| {
        let b = m.remove("baseline").unwrap();
        m.insert("baseline_arm".into(), b);
        m.insert("horizon".into(), "25w 5d".into());
    });
    render(&dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains(&format!("The baseline, **{}**,", ARMS[BASELINE].0)),
        "{md}"
    );
    assert!(md.contains("one run = 180 days"), "{md}");
    assert!(!md.contains("25w"), "{md}");
}

#[test]
fn arms_a_sweep_does_not_touch_are_references_not_results() {
    let dir = write_fixture(&two_dim(), "t9");
    // Make `peer-review` the same at every point, as an arm without the swept breaker is.
    let path = dir.join("summary.csv");
    let mut rd = csv::Reader::from_path(&path).unwrap();
    let head = rd.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (arm, point, metric) = (col("arm"), col("point"), col("metric"));
    let at_zero: BTreeMap<String, csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[arm] == "peer-review" && &r[point] == "0")
        .map(|r| (r[metric].to_string(), r.clone()))
        .collect();
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(&head).unwrap();
    for r in &rows {
        if &r[arm] == "peer-review" {
            // Copy every statistic from point 0, keeping this row's identity and axes.
            let src = &at_zero[&r[metric]];
            let keep = |i: usize| {
                let h = &head[i];
                h == "arm" || h == "point" || h == "point_label" || h == "metric" || h.contains('.')
            };
            let rec: Vec<&str> = (0..r.len())
                .map(|i| if keep(i) { &r[i] } else { &src[i] })
                .collect();
            w.write_record(rec).unwrap();
        } else {
            w.write_record(r).unwrap();
        }
    }
    w.flush().unwrap();
    render(&dir).unwrap();

    let heat = svg_texts(&dir.join("heatmap_deploys_per_day.svg"));
    assert!(!heat.iter().any(|t| t.trim() == "peer-review"), "{heat:?}");
    assert!(
        heat.iter().any(|t| t.contains("Not shown"))
            && heat.iter().any(|t| t.contains("peer-review")),
        "the left-out arm is named in the note: {heat:?}"
    );
    let sweep = svg_texts(&dir.join("sweep_deploys_per_day.svg"));
    assert!(
        sweep.iter().any(|t| t.contains("Not affected")),
        "{sweep:?}"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("thin flat lines (peer-review)"), "{md}");
    // Arms that do depend on the sweep are still drawn as results.
    assert!(heat.iter().any(|t| t.trim() == "autonomous"), "{heat:?}");
}

#[test]
fn a_long_run_timeline_is_drawn_week_by_week() {
    let dir = write_fixture(&no_sweep(1e9), "t10");
    // Stretch timeline.csv to 180 days by repeating its 60.
    let path = dir.join("timeline.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().to_string();
    let day = head.split(',').position(|h| h == "day").unwrap();
    let body: Vec<&str> = lines.collect();
    let mut out = head.clone() + "\n";
    for k in 0..3 {
        for l in &body {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            let d: usize = cells[day].parse().unwrap();
            cells[day] = (d + k * DAYS).to_string();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    std::fs::write(&path, out).unwrap();
    render(&dir).unwrap();
    check_chart(
        &dir,
        &the_timeline(&dir),
        &["of 180 days, week by week", "Deploys per day, weekly"],
    );
}

/// The one `timeline_<arm>` chart of a rendered folder (the report's appendix).
fn the_timeline(dir: &Path) -> String {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("timeline_") && n.ends_with(".svg"))
        .map(|n| n.trim_end_matches(".svg").to_string())
        .collect();
    assert_eq!(names.len(), 1, "one single-run timeline: {names:?}");
    names[0].clone()
}

/// A fresh `run` of scenarios/smoke.toml (tables only), once per test binary.
fn smoke_results() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = fixture_dir("smoke-run");
        let s = blastsim::scenario::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smoke.toml"),
        )
        .unwrap();
        simulate_into(&s, &blastsim::pipeline::RunOptions::new(&dir, 1, "test"));
        dir
    })
    .clone()
}

/// Runs scenario `s` with the real model as `opts` say.
fn simulate_into(s: &blastsim::scenario::Scenario, opts: &blastsim::pipeline::RunOptions) {
    blastsim::pipeline::run_experiment(
        s,
        opts,
        blastsim::metrics::simulate,
        &blastsim::pipeline::Silent,
    )
    .unwrap();
}

/// Reads `file` of a fresh smoke run as `T` rows and writes them back.
fn round_trip_table<T: serde::Serialize + serde::de::DeserializeOwned>(
    file: &str,
    columns: &[&str],
) {
    use blastsim::report::schema::{TableReader, to_fields};
    let path = smoke_results().join(file);
    let rows: Vec<T> = TableReader::open(&path)
        .unwrap()
        .typed()
        .collect::<anyhow::Result<_>>()
        .unwrap();
    assert!(!rows.is_empty(), "{file} has rows");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns).unwrap();
    for r in &rows {
        w.write_record(to_fields(r)).unwrap();
    }
    let again = w.into_inner().unwrap();
    assert!(
        again == std::fs::read(&path).unwrap(),
        "{file}: the typed rows read back do not write the same bytes"
    );
}

#[test]
fn the_reader_round_trips_every_table_and_the_manifest_the_writer_wrote() {
    use blastsim::report::schema::*;
    round_trip_table::<IncidentRow>("incidents.csv", INCIDENT_COLUMNS);
    round_trip_table::<TimelineRow>("timeline.csv", TIMELINE_COLUMNS);
    round_trip_table::<NodeRow>("graph_nodes.csv", NODE_COLUMNS);
    round_trip_table::<EdgeRow>("graph_edges.csv", EDGE_COLUMNS);

    round_trip_table::<TailRow>("tail.csv", TAIL_COLUMNS);
    round_trip_table::<ImpactRow>("impact_over_time.csv", IMPACT_COLUMNS);

    // The tables with dynamic columns, through their header-name helpers.
    let dir = smoke_results();
    let manifest = blastsim::report::manifest::read_manifest(&dir).unwrap();
    let mut text = serde_json::to_string_pretty(&manifest).unwrap();
    text.push('\n');
    assert_eq!(
        text,
        std::fs::read_to_string(dir.join("manifest.json")).unwrap()
    );
    let axes: Vec<String> = manifest.meta.axes.iter().map(|a| a.path.clone()).collect();
    let metrics: Vec<&str> = blastsim::metrics::METRICS.iter().map(|m| m.name).collect();

    let mut t = TableReader::open(&dir.join("runs.csv")).unwrap();
    let (axis_cols, metric_cols) = (t.named(&axes).unwrap(), t.named(&metrics).unwrap());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(RunRow::header(&axes)).unwrap();
    for row in t.rows() {
        let row = row.unwrap();
        let run = RunRow {
            key: row.get().unwrap(),
            axes: row.strings(&axis_cols),
            metrics: row.numbers(&metric_cols).unwrap(),
            tail: row.get().unwrap(),
        };
        w.write_record(run.fields()).unwrap();
    }
    assert!(w.into_inner().unwrap() == std::fs::read(dir.join("runs.csv")).unwrap());

    let mut t = TableReader::open(&dir.join("summary.csv")).unwrap();
    let axis_cols = t.named(&axes).unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(SummaryRow::header(&axes)).unwrap();
    for row in t.rows() {
        let row = row.unwrap();
        let s = SummaryRow {
            key: row.get().unwrap(),
            axes: row.strings(&axis_cols),
            stat: row.get().unwrap(),
        };
        w.write_record(s.fields()).unwrap();
    }
    assert!(w.into_inner().unwrap() == std::fs::read(dir.join("summary.csv")).unwrap());
}

#[test]
fn a_malformed_incident_row_is_an_error_naming_file_line_and_column() {
    let dir = write_fixture(&no_sweep(420.0), "t11");
    let path = dir.join("incidents.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let col = lines[0]
        .split(',')
        .position(|c| c == "services_hit")
        .unwrap();
    let mut cells: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    cells[col] = "many".into();
    lines[3] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = format!("{:#}", render(&dir).unwrap_err());
    assert!(
        err.contains(&format!(
            "incidents.csv:4:{}: column `services_hit`: `many` is not a whole number",
            col + 1
        )),
        "{err}"
    );

    // A row with a cell too few names its line too.
    lines[3] = lines[2].rsplit_once(',').unwrap().0.to_string();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = format!("{:#}", render(&dir).unwrap_err());
    assert!(err.contains("incidents.csv:4:"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Robustness: interrupts, and results folders `plot` did not write.

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blastsim-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A `Progress` that asks to stop after `after` runs.
struct StopAfter {
    after: u64,
    done: std::sync::atomic::AtomicU64,
}

impl blastsim::pipeline::Progress for StopAfter {
    fn start(&self, _total: u64, _done: u64) {}
    fn advance(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn finish(&self) {}
    fn interrupted(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::SeqCst) >= self.after
    }
}

/// An interrupted run stops between runs with what it journaled and how to resume, and
/// the same command then finishes from the journal.
#[test]
fn an_interrupted_run_says_how_to_resume_and_resumes() {
    use blastsim::experiment::fixture::{demo_scenario, synthetic_simulate};
    use blastsim::pipeline::{Interrupted, RunOptions, Silent, run_experiment};
    let dir = scratch("interrupt");
    let s = demo_scenario(2, 1, 4, 3);
    let opts = RunOptions::new(&dir, 1, "test");
    let stop = StopAfter {
        after: 3,
        done: Default::default(),
    };
    let err = run_experiment(&s, &opts, synthetic_simulate, &stop).unwrap_err();
    let stopped = err
        .downcast_ref::<Interrupted>()
        .expect("an Interrupted error");
    assert_eq!((stopped.done, stopped.total), (3, 8));
    let text = stopped.to_string();
    assert!(
        text.starts_with("interrupted: 3 of 8 runs are journaled in ")
            && text.ends_with("; run the same command again to resume"),
        "{text}"
    );
    assert!(
        !dir.join("runs.csv").exists(),
        "no table is written by a stopped run"
    );
    let outcome = run_experiment(&s, &opts, synthetic_simulate, &Silent).unwrap();
    assert_eq!((outcome.runs_total, outcome.runs_new), (8, 5));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A copy of the shipped smoke folder with one CSV cell replaced.
fn smoke_with(name: &str, file: &str, line: usize, column: &str, value: &str) -> PathBuf {
    let dir = scratch(name);
    for f in [
        "manifest.json",
        "summary.csv",
        "incidents.csv",
        "timeline.csv",
    ]
    .into_iter()
    .chain(["graph_nodes.csv", "graph_edges.csv"])
    {
        std::fs::copy(Path::new("results/smoke").join(f), dir.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let col = lines[0].split(',').position(|h| h == column).unwrap();
    let mut cells: Vec<String> = lines[line - 1].split(',').map(str::to_string).collect();
    cells[col] = value.to_string();
    lines[line - 1] = cells.join(",");
    std::fs::write(dir.join(file), lines.join("\n") + "\n").unwrap();
    dir
}

fn plot_error(dir: &Path) -> String {
    let err = render(dir).expect_err("the folder is refused");
    format!("{err:#}")
}

/// Crafted values that once hung or aborted `plot` are refused with file, line and column.
#[test]
fn plot_refuses_values_no_run_writes() {
    let d = smoke_with("huge-ci", "summary.csv", 5, "ci95_low", "-1e308");
    let err = plot_error(&d);
    assert!(
        err.contains("summary.csv:5: column `ci95_low`") && err.contains("outside"),
        "{err}"
    );
    let d2 = smoke_with("inf", "summary.csv", 7, "mean", "inf");
    assert!(plot_error(&d2).contains("summary.csv:7: column `mean`"));
    let d3 = smoke_with("depth", "graph_nodes.csv", 3, "depth", "1000000000000");
    let err = plot_error(&d3);
    assert!(err.contains("graph_nodes.csv:3: column `depth`"), "{err}");
    let d4 = smoke_with("impact", "incidents.csv", 2, "user_impact_min", "NaN");
    assert!(plot_error(&d4).contains("incidents.csv:2: column `user_impact_min`"));
    let d5 = smoke_with("backwards", "summary.csv", 4, "ci95_low", "1e14");
    assert!(plot_error(&d5).contains("is above ci95_high"));
    for d in [d, d2, d3, d4, d5] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A CRLF file's errors name the same line as the LF file's.
#[test]
fn crlf_files_give_the_right_line() {
    let d = smoke_with("crlf", "summary.csv", 40, "mean", "abc");
    let lf = plot_error(&d);
    let text = std::fs::read_to_string(d.join("summary.csv")).unwrap();
    std::fs::write(d.join("summary.csv"), text.replace('\n', "\r\n")).unwrap();
    let crlf = plot_error(&d);
    assert!(lf.contains("summary.csv:40:"), "{lf}");
    assert_eq!(crlf, lf);
    let _ = std::fs::remove_dir_all(d);
}

/// Scenario strings reach report.md escaped: a question with markup reads as typed.
#[test]
fn report_md_escapes_scenario_strings() {
    let d = smoke_with("markdown", "summary.csv", 2, "mean", "");
    // Restore the cell: only the manifest changes here.
    std::fs::copy("results/smoke/summary.csv", d.join("summary.csv")).unwrap();
    let path = d.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    m["question"] = "Does *this* [link](x) <b>bold</b> | pipe hold?".into();
    std::fs::write(&path, m.to_string()).unwrap();
    render(&d).unwrap();
    let md = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(
        md.starts_with(r"# Does \*this\* \[link\](x) \<b>bold\</b> \| pipe hold?"),
        "{}",
        md.lines().next().unwrap()
    );
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    assert!(!html.contains("<b>bold</b>") && !html.contains("<em>this</em>"));
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn the_first_screen_says_what_to_do_and_prices_the_options_per_year() {
    let dir = write_fixture(&no_sweep(420.0), "first-screen");
    render(&dir).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let first = md.find("## What to do").expect("a What to do section");
    let detail = md.find("## The decision in detail").unwrap();
    assert!(first < detail, "the decision comes first");
    let screen = &md[first..detail];
    // The pick (risk-tiered: the only arm within the p95 bound), and the forest plot.
    assert!(screen.contains("Pick **risk-tiered**."), "{screen}");
    assert!(
        screen.contains("![") && screen.contains("(forest.svg)"),
        "{screen}"
    );
    assert!(dir.join("forest.svg").is_file() && dir.join("forest.png").is_file());
    assert!(screen.contains("scaled by 365 / 60 days"), "{screen}");
    // Business units; the baseline's user impact (1,500 user-min per 60-day run, CI 1,416
    // to 1,584) is 150 (140 to 160) user-hours per year at two significant figures.
    assert!(screen.contains("| User-hours lost per year |"), "{screen}");
    assert!(screen.contains("Deploys per week given up"), "{screen}");
    assert!(
        screen.contains("| senior-signoff (baseline) | 150 (140 to 160) |"),
        "{screen}"
    );
    assert!(screen.contains("| **risk-tiered** (pick) |"), "{screen}");
    // Marks against the baseline from the paired CIs.
    assert!(
        screen.contains(" better |") && screen.contains(" worse |"),
        "{screen}"
    );
}

/// `plot` reads `incidents.csv` only when the per-run summaries are absent, so a huge or
/// broken one costs nothing; a line longer than any table writes is refused with its file
/// and line before it is held in memory.
#[test]
fn plot_does_not_read_incidents_csv_and_bounds_every_line() {
    let src = smoke_results();
    let dir = scratch("streamed");
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
    render(&dir).unwrap();
    let before = std::fs::read(dir.join("report.md")).unwrap();
    // A broken incidents.csv with one 2 MiB line: not read, the same report.
    let mut junk = String::from("not,a,results,table\n");
    junk.push_str(&"x".repeat(2 << 20));
    junk.push('\n');
    std::fs::write(dir.join("incidents.csv"), &junk).unwrap();
    render(&dir).unwrap();
    assert!(std::fs::read(dir.join("report.md")).unwrap() == before);
    // Without tail.csv it is read (row by row), and its long line is refused, located.
    std::fs::remove_file(dir.join("tail.csv")).unwrap();
    let err = plot_error(&dir);
    assert!(
        err.contains("incidents.csv:2:1: the line is longer than 1048576 bytes"),
        "{err}"
    );
    // The same for every table, e.g. timeline.csv.
    std::fs::copy(src.join("tail.csv"), dir.join("tail.csv")).unwrap();
    let mut tl = std::fs::read_to_string(src.join("timeline.csv")).unwrap();
    let n = tl.lines().count();
    tl.push_str(&"9".repeat(2 << 20));
    std::fs::write(dir.join("timeline.csv"), tl).unwrap();
    let err = plot_error(&dir);
    assert!(
        err.contains(&format!("timeline.csv:{}:1: the line is longer", n + 1)),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A horizon past `TIMELINE_ROWS_PER_RUN` days writes its timeline in buckets of whole
/// days, so a run's timeline stays bounded, and the counts add up to the days'.
#[test]
fn a_long_horizon_writes_a_bounded_timeline_in_day_buckets() {
    use blastsim::report::tables::TIMELINE_ROWS_PER_RUN;
    let dir = fixture_dir("long-horizon");
    let s = blastsim::scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/smoke.toml"),
    )
    .unwrap()
    .with_overrides(
        None,
        Some(1),
        Some(blastsim::engine::SimDuration::from_secs(1000 * 86_400)),
    )
    .unwrap();
    let opts = blastsim::pipeline::RunOptions::new(&dir, 1, "test");
    let out = blastsim::pipeline::run_experiment(
        &s,
        &opts,
        blastsim::metrics::simulate,
        &blastsim::pipeline::Silent,
    )
    .unwrap();
    let rows: Vec<blastsim::report::schema::TimelineRow> =
        blastsim::report::schema::TableReader::open(&dir.join("timeline.csv"))
            .unwrap()
            .typed()
            .collect::<anyhow::Result<_>>()
            .unwrap();
    let arm0: Vec<_> = rows.iter().filter(|r| r.arm == rows[0].arm).collect();
    assert!(arm0.len() <= TIMELINE_ROWS_PER_RUN, "{} rows", arm0.len());
    assert_eq!(arm0[0].days, 3, "1000 days in buckets of 3");
    assert_eq!(arm0.iter().map(|r| r.days).sum::<u32>(), 1000);
    let incidents: u32 = arm0.iter().map(|r| r.incidents).sum();
    let m = blastsim::metrics::METRICS
        .iter()
        .position(|m| m.name == "incidents")
        .unwrap();
    assert_eq!(
        f64::from(incidents),
        out.assembled.settings[0].stats[m].mean,
        "the buckets hold every incident of replication 0"
    );
}

/// The kill-switch strip is as long as the time the switch was on: half of every day on
/// draws half the strip of every day on (it once filled each day the switch touched).
#[test]
fn the_kill_switch_strip_is_as_long_as_the_switch_was_on() {
    let strip = |hours: &str, tag: &str| -> f64 {
        let dir = write_fixture(&no_sweep(1e9), tag);
        let path = dir.join("timeline.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let head = lines.next().unwrap().to_string();
        let col = head.split(',').position(|h| h == "kill_switch_h").unwrap();
        let mut out = head.clone() + "\n";
        for l in lines {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells[col] = hours;
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        std::fs::write(&path, out).unwrap();
        render(&dir).unwrap();
        let svg = std::fs::read_to_string(dir.join(format!("{}.svg", the_timeline(&dir)))).unwrap();
        svg.split("<rect")
            .skip(1)
            .filter(|r| r.contains("fill=\"#E69F00\""))
            .map(|r| {
                let w = r.split("width=\"").nth(1).unwrap();
                w[..w.find('"').unwrap()].parse::<f64>().unwrap()
            })
            .sum()
    };
    let (half, full) = (strip("12", "kill-half"), strip("24", "kill-full"));
    assert!(full > 0.0);
    let ratio = half / full;
    assert!(
        (0.4..0.6).contains(&ratio),
        "half a day on draws {ratio} of a full day"
    );
}

/// The graph legend says entry services are on the left: the deepest column (the entry
/// services, with the longest chain below them) is drawn left of depth 0.
#[test]
fn the_graph_draws_entry_services_on_the_left_as_its_legend_says() {
    let dir = write_fixture(&two_dim(), "graph-side");
    render(&dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("graph.svg")).unwrap();
    let x_of = |label: &str| -> f64 {
        let at = svg
            .find(&format!(">\n{label}\n<"))
            .or_else(|| svg.find(&format!(">{label}<")));
        let before = &svg[..at.unwrap_or_else(|| panic!("no {label}"))];
        let tag = &before[before.rfind("<text").unwrap()..];
        let x = tag.split(" x=\"").nth(1).unwrap();
        x[..x.find('"').unwrap()].parse().unwrap()
    };
    assert!(x_of("depth 3") < x_of("depth 0"));
    assert!(svg.contains("entry services on the left"));
}

/// When every setting breaks an invariant, the warning names the invariant and how often
/// the pick breaks it per year against the baseline, from the per-invariant counts of
/// `runs.csv`; a bare count of violations would not tell a reader which limit, or whether
/// the pick is any better than doing nothing.
#[test]
fn the_invariant_warning_names_the_limit_broken_and_how_often_per_year() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("scenarios/smoke.toml");
    // Every incident lasts longer than a minute, so every arm breaks `max_outage`, and no
    // run of the tiny organisation ships 1,000 changes a day.
    let text = std::fs::read_to_string(&path).unwrap()
        + "\n[invariants]\nmax_outage = \"1m\"\nmin_deploys_per_day = 1000.0\n";
    let s = blastsim::scenario::parse(&text, &path, |p: &Path| std::fs::read_to_string(p)).unwrap();
    let dir = fixture_dir("every-arm-breaks");
    let mut opts = blastsim::pipeline::RunOptions::new(&dir, 2, "test");
    opts.charts = true;
    simulate_into(&s, &opts);

    // The per-invariant columns add up to the total, run by run.
    let mut runs = csv::Reader::from_path(dir.join("runs.csv")).unwrap();
    let header = runs.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (total, outage) = (col("invariant_violations"), col("violations_max_outage"));
    let floor = col("violations_min_deploys_per_day");
    let others = [
        col("violations_max_users_hit_by_one_change"),
        col("violations_max_user_impact_minutes"),
    ];
    let mut broken = 0.0;
    for row in runs.records() {
        let row = row.unwrap();
        let v = |i: usize| row[i].parse::<f64>().unwrap();
        assert_eq!(v(floor), 1.0, "{row:?}");
        assert_eq!(v(outage) + v(floor), v(total), "{row:?}");
        assert!(others.iter().all(|&i| v(i) == 0.0), "{row:?}");
        broken += v(outage);
    }
    assert!(broken > 0.0, "the smoke runs had no incident at all");

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let want = "**Warning: it breaks an invariant**, as every setting that meets the constraints \
                does: incidents that lasted longer than `max_outage`: ";
    let at = md
        .find(want)
        .unwrap_or_else(|| panic!("no warning {want:?} in\n{md}"));
    let rest = &md[at + want.len()..];
    let sentence = &rest[..rest.find(". ").unwrap_or(rest.len())];
    assert!(sentence.contains(" per year ("), "{sentence}");
    assert!(
        sentence.contains("it is the baseline)") || sentence.contains("the baseline, autonomous, "),
        "{sentence}"
    );
    // The floor is judged once per run: a share of runs, not a count per year.
    assert!(
        sentence.contains("; deploys per day below `min_deploys_per_day`: 100% of runs ("),
        "{sentence}"
    );
}
