//! The one schema of a results folder's CSV tables: a typed serde row per table, written
//! by `report::tables` and read back by `report::charts::input`, and the streaming reader
//! that gives every malformed row an error naming the file, line and column. The types of
//! `manifest.json` live in `report::manifest`, likewise shared by writer and reader.
//!
//! Fixed columns are struct fields, (de)serialized by name. The dynamic columns of
//! `runs.csv` and `summary.csv` (one per sweep axis, one per metric in `METRICS`) are found
//! by header name through `Named`, never by position.
//!
//! Floats are written with Rust's shortest round-trip `{}` formatting (`fmt_f64`), so the
//! bytes are a pure function of the values and reading a value back gives the same bits.

use std::fs::File;
use std::path::Path;

use csv::{DeserializeErrorKind, StringRecord};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A float as written to every table: shortest round-trip formatting.
pub fn fmt_f64(v: f64) -> String {
    format!("{v}")
}

/// Serializes a float as `fmt_f64` prints it (csv's own float format differs).
fn ser_f64<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Serializes an optional float as `fmt_f64` prints it, `None` as an empty cell.
fn ser_opt_f64<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// `hit_in_worst` is written `1`/`0`.
fn ser_flag<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *v { "1" } else { "0" })
}

/// `hit_in_worst` as written (`1`/`0`) or as a person writes it (`true`, `yes`, ...).
fn de_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let raw = String::deserialize(d)?;
    match raw.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "column `hit_in_worst`: `{other}` is not 1 or 0"
        ))),
    }
}

/// Columns of `runs.csv` before the axis columns.
pub const RUN_KEY_COLUMNS: &[&str] = &["run_id", "arm", "point", "replication", "seed"];

/// Columns of `runs.csv` after the metric columns.
pub const RUN_TAIL_COLUMNS: &[&str] = &["stop_reason", "fingerprint"];

/// Columns of `summary.csv` before the axis columns.
pub const SUMMARY_KEY_COLUMNS: &[&str] = &["arm", "point", "point_label"];

/// Columns of `summary.csv` after `arm,point,point_label,<axis paths>`: the fields of `Stat`.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "metric",
    "n",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "p50",
    "p95",
    "max",
    "paired_diff_mean",
    "paired_diff_ci95_low",
    "paired_diff_ci95_high",
    "pairing_variance_ratio",
    "on_frontier",
    "recommended",
];

/// Columns of `incidents.csv`: the fields of `IncidentRow`.
pub const INCIDENT_COLUMNS: &[&str] = &[
    "run_id",
    "arm",
    "point",
    "replication",
    "incident",
    "change_id",
    "author_group",
    "author_kind",
    "class",
    "severity",
    "origin",
    "started_h",
    "detected_h",
    "restored_h",
    "duration_h",
    "services_hit",
    "users_hit_peak",
    "user_impact_min",
    "recovery",
];

/// Columns of `timeline.csv`: the fields of `TimelineRow`.
pub const TIMELINE_COLUMNS: &[&str] = &[
    "run_id",
    "arm",
    "point",
    "replication",
    "day",
    "deploys",
    "incidents",
    "users_hit_max",
    "user_impact_min",
    "breaker_trips",
    "freeze_h",
    "kill_switch_h",
    "days",
];

/// Columns of `tail.csv`: the fields of `TailRow`.
pub const TAIL_COLUMNS: &[&str] = &[
    "arm",
    "point",
    "measure",
    "threshold",
    "runs",
    "incidents",
    "per_year",
];

/// Columns of `impact_over_time.csv`: the fields of `ImpactRow`.
pub const IMPACT_COLUMNS: &[&str] = &[
    "arm",
    "point",
    "bucket",
    "day_end",
    "runs",
    "mean",
    "ci95_low",
    "ci95_high",
];

/// The longest line a results table may have: far above any row `run` writes (a
/// `runs.csv` row of 58 metrics and a few axes is under 2 KiB), so a longer one is a file
/// `run` did not write, refused before it is held in memory.
pub const TABLE_LINE_BYTES_MAX: usize = 1 << 20;

/// Columns of `graph_nodes.csv`: the fields of `NodeRow`.
pub const NODE_COLUMNS: &[&str] = &["id", "name", "weight", "tier", "depth", "hit_in_worst"];

/// Columns of `graph_edges.csv`: the fields of `EdgeRow`.
pub const EDGE_COLUMNS: &[&str] = &["from", "to", "kind", "fallback"];

/// The fixed columns of a `runs.csv` row before the axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunKey {
    /// Run id (the run's place in the experiment).
    pub run_id: u64,
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// Replication.
    pub replication: u32,
    /// The run's master seed.
    pub seed: u64,
}

/// The fixed columns of a `runs.csv` row after the metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunTail {
    /// Why the run stopped.
    pub stop_reason: String,
    /// The run's trace fingerprint, 16 hex digits.
    pub fingerprint: String,
}

/// One row of `runs.csv`: `RunKey`, one value per axis, one per metric, `RunTail`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRow {
    /// Identity and seed.
    pub key: RunKey,
    /// The value of each sweep axis, as written in the scenario, in axis order.
    pub axes: Vec<String>,
    /// The value of each metric, in `METRICS` order.
    pub metrics: Vec<f64>,
    /// Stop reason and fingerprint.
    pub tail: RunTail,
}

impl RunRow {
    /// The header of `runs.csv` for these axis paths.
    pub fn header(axes: &[String]) -> Vec<String> {
        let mut h: Vec<String> = RUN_KEY_COLUMNS.iter().map(|s| s.to_string()).collect();
        h.extend(axes.iter().cloned());
        h.extend(crate::metrics::METRICS.iter().map(|m| m.name.to_string()));
        h.extend(RUN_TAIL_COLUMNS.iter().map(|s| s.to_string()));
        h
    }

    /// The row's cells, in `header` order.
    pub fn fields(&self) -> Vec<String> {
        let mut f = to_fields(&self.key);
        f.extend(self.axes.iter().cloned());
        f.extend(self.metrics.iter().copied().map(fmt_f64));
        f.extend(to_fields(&self.tail));
        f
    }
}

/// The key columns of a `summary.csv` row before the axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryKey {
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// "path=value, ..." or "base".
    pub point_label: String,
}

/// The statistics of one metric of one arm at one point: the `SUMMARY_COLUMNS` of a row
/// of `summary.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Metric name.
    pub metric: String,
    /// Replications.
    pub n: usize,
    /// Mean over replications.
    #[serde(serialize_with = "ser_f64")]
    pub mean: f64,
    /// Standard deviation over replications.
    #[serde(serialize_with = "ser_f64")]
    pub sd: f64,
    /// 95% CI of the mean, lower end.
    #[serde(rename = "ci95_low", serialize_with = "ser_f64")]
    pub ci_low: f64,
    /// 95% CI of the mean, upper end.
    #[serde(rename = "ci95_high", serialize_with = "ser_f64")]
    pub ci_high: f64,
    /// Median over replications.
    #[serde(serialize_with = "ser_f64")]
    pub p50: f64,
    /// 95th percentile over replications.
    #[serde(serialize_with = "ser_f64")]
    pub p95: f64,
    /// Largest value over replications.
    #[serde(serialize_with = "ser_f64")]
    pub max: f64,
    /// Mean paired difference against the baseline arm (`None` for the baseline).
    #[serde(rename = "paired_diff_mean", default, serialize_with = "ser_opt_f64")]
    pub diff_mean: Option<f64>,
    /// 95% CI of the paired difference, lower end.
    #[serde(
        rename = "paired_diff_ci95_low",
        default,
        serialize_with = "ser_opt_f64"
    )]
    pub diff_low: Option<f64>,
    /// 95% CI of the paired difference, upper end.
    #[serde(
        rename = "paired_diff_ci95_high",
        default,
        serialize_with = "ser_opt_f64"
    )]
    pub diff_high: Option<f64>,
    /// Variance of the paired difference over the variance with independent seeds.
    #[serde(default, serialize_with = "ser_opt_f64")]
    pub pairing_variance_ratio: Option<f64>,
    /// On the Pareto frontier.
    #[serde(default)]
    pub on_frontier: bool,
    /// The recommended setting.
    #[serde(default)]
    pub recommended: bool,
}

/// One row of `summary.csv`: `SummaryKey`, one value per axis, `Stat`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SummaryRow {
    /// Arm, point and label.
    pub key: SummaryKey,
    /// The value of each sweep axis, in axis order.
    pub axes: Vec<String>,
    /// The statistics.
    pub stat: Stat,
}

impl SummaryRow {
    /// The header of `summary.csv` for these axis paths.
    pub fn header(axes: &[String]) -> Vec<String> {
        let mut h: Vec<String> = SUMMARY_KEY_COLUMNS.iter().map(|s| s.to_string()).collect();
        h.extend(axes.iter().cloned());
        h.extend(SUMMARY_COLUMNS.iter().map(|s| s.to_string()));
        h
    }

    /// The row's cells, in `header` order.
    pub fn fields(&self) -> Vec<String> {
        let mut f = to_fields(&self.key);
        f.extend(self.axes.iter().cloned());
        f.extend(to_fields(&self.stat));
        f
    }
}

/// One row of `incidents.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IncidentRow {
    /// Run id.
    pub run_id: u64,
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// Replication.
    pub replication: u32,
    /// Incident number within the run.
    pub incident: usize,
    /// The change that caused it.
    pub change_id: String,
    /// Author group name.
    pub author_group: String,
    /// "agent" or "human".
    pub author_kind: String,
    /// Action class of the change.
    pub class: String,
    /// How bad the latent defect was.
    pub severity: String,
    /// Service the fault started at.
    pub origin: String,
    /// Hours from the start of the run to the fault.
    #[serde(serialize_with = "ser_f64")]
    pub started_h: f64,
    /// Hours to detection.
    #[serde(serialize_with = "ser_f64")]
    pub detected_h: f64,
    /// Hours to full recovery.
    #[serde(serialize_with = "ser_f64")]
    pub restored_h: f64,
    /// Hours from fault to recovery.
    #[serde(serialize_with = "ser_f64")]
    pub duration_h: f64,
    /// Services down.
    pub services_hit: u32,
    /// Peak share of users affected (0..1).
    #[serde(serialize_with = "ser_f64")]
    pub users_hit_peak: f64,
    /// User-impact minutes.
    #[serde(serialize_with = "ser_f64")]
    pub user_impact_min: f64,
    /// How it recovered: "rollback" or "rebuild".
    pub recovery: String,
}

/// One row of `timeline.csv`: one bucket of `days` simulated days (one day, for horizons
/// up to `report::tables::TIMELINE_ROWS_PER_RUN` days) of replication 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Run id.
    pub run_id: u64,
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// Replication (always 0).
    pub replication: u32,
    /// First day of the bucket (0-based).
    pub day: u32,
    /// Changes deployed that day.
    pub deploys: u32,
    /// Incidents started that day.
    pub incidents: u32,
    /// Largest peak share of users hit by an incident that day.
    #[serde(serialize_with = "ser_f64")]
    pub users_hit_max: f64,
    /// User-impact minutes of incidents started that day.
    #[serde(serialize_with = "ser_f64")]
    pub user_impact_min: f64,
    /// Per-agent breaker trips that day.
    pub breaker_trips: u32,
    /// Hours under error-budget freeze that day.
    #[serde(serialize_with = "ser_f64")]
    pub freeze_h: f64,
    /// Hours agents were halted by the kill switch that day.
    #[serde(serialize_with = "ser_f64")]
    pub kill_switch_h: f64,
    /// Days in the bucket (every count above is over them; a file without the column
    /// has one day per row).
    #[serde(default = "one_day")]
    pub days: u32,
}

fn one_day() -> u32 {
    1
}

/// One row of `tail.csv`: of the runs of one arm at one point, how many incidents were at
/// least `threshold` bad on `measure`, in all and per simulated year per run. Counted
/// from every run's own summary (never from `incidents.csv`), so it does not depend on
/// `--incidents`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TailRow {
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// `user_impact_min` (per incident) or `services_hit`.
    pub measure: String,
    /// Incidents counted are at least this bad.
    #[serde(serialize_with = "ser_f64")]
    pub threshold: f64,
    /// Runs counted.
    pub runs: u64,
    /// Incidents at least this bad over those runs.
    pub incidents: u64,
    /// Expected incidents at least this bad per simulated year of one run.
    #[serde(serialize_with = "ser_f64")]
    pub per_year: f64,
}

/// One row of `impact_over_time.csv`: the cumulative user-impact minutes of one arm at one
/// point from day 0 to `day_end`, mean and 95% CI of the mean over the runs (fixed
/// buckets of the horizon, every run's own).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImpactRow {
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// Bucket index (0-based).
    pub bucket: usize,
    /// Simulated day at the end of the bucket.
    #[serde(serialize_with = "ser_f64")]
    pub day_end: f64,
    /// Runs.
    pub runs: u64,
    /// Mean cumulative user-impact minutes.
    #[serde(serialize_with = "ser_f64")]
    pub mean: f64,
    /// 95% CI of the mean, lower end.
    #[serde(rename = "ci95_low", serialize_with = "ser_f64")]
    pub ci_low: f64,
    /// 95% CI of the mean, upper end.
    #[serde(rename = "ci95_high", serialize_with = "ser_f64")]
    pub ci_high: f64,
}

/// One row of `sensitivity.csv`: one assumption at one end of its `[sensitivity]` range,
/// everything else at its base value, on the base runs' seeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SensitivityRow {
    /// The dotted scenario path varied.
    pub parameter: String,
    /// Its plain-language name.
    pub label: String,
    /// Where its base value comes from: "ASSUMPTION", "NOT FOUND",
    /// "docs/calibration.md §x.y" or "as written".
    pub source: String,
    /// The value written in the scenario.
    pub base: String,
    /// "low" or "high": which end of the range this row is.
    pub side: String,
    /// The value at that end.
    pub value: String,
    /// The metric the advantage is measured in (the objective of `[objectives]`).
    pub objective: String,
    /// The setting recommended at the base values ("arm", or "arm at point"; "none").
    pub base_recommended: String,
    /// At the base values: the recommended setting's objective minus the runner-up's.
    #[serde(serialize_with = "ser_opt_f64")]
    pub base_advantage: Option<f64>,
    /// The setting recommended at this end ("none" when nothing meets the constraints).
    pub recommended: String,
    /// At this end: the base recommendation's objective minus the runner-up's.
    #[serde(serialize_with = "ser_opt_f64")]
    pub advantage: Option<f64>,
    /// Whether the base recommendation still meets every constraint at this end.
    pub pick_feasible: bool,
    /// Whether the recommendation at this end differs from the base one.
    pub flips: bool,
    /// When it flips: the value nearest the flip (after bisection) where the base
    /// recommendation still holds.
    pub holds_at: String,
    /// When it flips: the value nearest the base (after bisection) where it has changed.
    pub flips_at: String,
    /// When it flips: the setting recommended at `flips_at`.
    pub flips_to: String,
    /// Runs this row took (its end and any bisection steps), simulated or read back from
    /// the journal.
    pub runs: u64,
}

/// One service of the dependency graph: a row of `graph_nodes.csv`. The journal keeps it
/// without `hit_in_worst` (known only once every run is in), which then reads as `false`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    /// Id (dense, 0-based).
    pub id: usize,
    /// Name.
    pub name: String,
    /// User-traffic weight.
    #[serde(serialize_with = "ser_f64")]
    pub weight: f64,
    /// Criticality tier.
    pub tier: u8,
    /// Layer in the layered layout.
    pub depth: usize,
    /// Whether the worst incident took it down.
    #[serde(default, serialize_with = "ser_flag", deserialize_with = "de_flag")]
    pub hit_in_worst: bool,
}

/// One dependency edge, a row of `graph_edges.csv`: `from` depends on `to`, both service
/// ids (`graph_nodes.id`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EdgeRow {
    /// Dependent service id.
    pub from: usize,
    /// Dependency service id.
    pub to: usize,
    /// "hard" or "soft".
    pub kind: String,
    /// Whether the dependent has a fallback when `to` is down.
    #[serde(default)]
    pub fallback: bool,
}

/// The cells of one row as csv writes them (fixed-column structs only).
pub fn to_fields<T: Serialize>(row: &T) -> Vec<String> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.serialize(row)
        .expect("a row of scalar fields serializes to csv");
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut rec = StringRecord::new();
    r.read_record(&mut rec)
        .expect("csv reads back what it wrote");
    rec.iter().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------
// Reading

/// A CSV table opened for streaming, with its header.
pub struct TableReader {
    file: String,
    inner: csv::Reader<LineLimited<File>>,
    headers: StringRecord,
    /// Lines to add to the csv crate's line numbers: 1 in a CRLF file, whose records it
    /// places on the line before (it counts a line at the `\n` after the `\r` that ended
    /// the previous record).
    shift: u64,
}

/// One row of a table, with what is needed to locate an error in it.
pub struct Row<'a> {
    file: &'a str,
    headers: &'a StringRecord,
    record: StringRecord,
}

/// Dynamic columns (sweep axes, metrics) found by header name.
#[derive(Clone, Debug)]
pub struct Named {
    at: Vec<usize>,
}

impl TableReader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> anyhow::Result<TableReader> {
        let file = path.display().to_string();
        let f = File::open(path).map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
        let mut inner = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(LineLimited::new(f, TABLE_LINE_BYTES_MAX));
        let headers = inner
            .headers()
            .map_err(|e| located(&file, &StringRecord::new(), None, e, 0))?
            .clone();
        let shift = u64::from(crlf(path));
        Ok(TableReader {
            file,
            inner,
            headers,
            shift,
        })
    }

    /// The file name, as errors show it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The columns called `names`, or an error naming the first missing one.
    pub fn named<S: AsRef<str>>(&self, names: &[S]) -> anyhow::Result<Named> {
        Named::find(&self.file, &self.headers, names)
    }

    /// The rows, one at a time.
    pub fn rows(&mut self) -> impl Iterator<Item = anyhow::Result<Row<'_>>> {
        let TableReader {
            file,
            inner,
            headers,
            shift,
        } = self;
        let (file, headers, shift) = (&*file, &*headers, *shift);
        inner.records().map(move |r| {
            let mut record = r.map_err(|e| located(file, headers, None, e, shift))?;
            if shift > 0
                && let Some(p) = record.position()
            {
                let mut p = p.clone();
                p.set_line(p.line() + shift);
                record.set_position(Some(p));
            }
            Ok(Row {
                file,
                headers,
                record,
            })
        })
    }

    /// The rows, each deserialized by header name into `T`.
    pub fn typed<T: DeserializeOwned>(&mut self) -> impl Iterator<Item = anyhow::Result<T>> {
        self.rows().map(|r| r?.get())
    }
}

impl<'a> Row<'a> {
    /// A row of cells already split (a journal record's), under `headers`.
    pub fn from_fields(file: &'a str, headers: &'a StringRecord, fields: &[String]) -> Row<'a> {
        Row {
            file,
            headers,
            record: StringRecord::from(fields.to_vec()),
        }
    }

    /// The row's line in its file (0 when it did not come from a file).
    pub fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// The fixed columns, deserialized by header name (other columns are ignored).
    pub fn get<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        self.record
            .deserialize(Some(self.headers))
            .map_err(|e| located(self.file, self.headers, Some(&self.record), e, 0))
    }

    /// The text of the named columns.
    pub fn strings(&self, cols: &Named) -> Vec<String> {
        cols.at
            .iter()
            .map(|&i| self.record.get(i).unwrap_or("").to_string())
            .collect()
    }

    /// The named columns as numbers.
    pub fn numbers(&self, cols: &Named) -> anyhow::Result<Vec<f64>> {
        cols.at
            .iter()
            .map(|&i| {
                let raw = self.record.get(i).unwrap_or("");
                raw.trim().parse::<f64>().map_err(|_| {
                    anyhow::anyhow!(
                        "{}: column `{}`: `{raw}` is not a number",
                        location(self.file, Some(&self.record), Some(i)),
                        &self.headers[i]
                    )
                })
            })
            .collect()
    }
}

impl Named {
    /// The columns of `headers` called `names`.
    pub fn find<S: AsRef<str>>(
        file: &str,
        headers: &StringRecord,
        names: &[S],
    ) -> anyhow::Result<Named> {
        let at = names
            .iter()
            .map(|n| {
                let n = n.as_ref();
                headers.iter().position(|h| h == n).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{file}:1:1: missing column `{n}` (columns: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Named { at })
    }
}

/// A reader that fails on a line longer than `max` bytes, naming the line: the csv reader
/// would otherwise hold a whole line (a field of any length) in memory.
pub struct LineLimited<R> {
    inner: R,
    max: usize,
    /// 1-based number of the line being read, and its bytes so far.
    line: u64,
    len: usize,
}

impl<R> LineLimited<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, max: usize) -> LineLimited<R> {
        LineLimited {
            inner,
            max,
            line: 1,
            len: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for LineLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.len = 0;
            } else {
                self.len += 1;
                if self.len > self.max {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        LineTooLong {
                            line: self.line,
                            max: self.max,
                        },
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// The error of `LineLimited`.
#[derive(Debug)]
struct LineTooLong {
    line: u64,
    max: usize,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:1: the line is longer than {} bytes, the most a results table's line may \
             have (not a file blastsim wrote)",
            self.line, self.max
        )
    }
}

impl std::error::Error for LineTooLong {}

/// Whether the file's first line ends with CRLF (read from its first 64 KiB; a file that
/// cannot be read is reported by the reader itself).
fn crlf(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let Ok(f) = File::open(path) else {
        return false;
    };
    if f.take(64 * 1024).read_to_end(&mut head).is_err() {
        return false;
    }
    head.iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && head[i - 1] == b'\r')
}

/// "file:line:column" (1-based), as far as it is known.
fn location(file: &str, record: Option<&StringRecord>, field: Option<usize>) -> String {
    let line = record.and_then(|r| r.position()).map(|p| p.line());
    match (line, field) {
        (Some(l), Some(f)) => format!("{file}:{l}:{}", f + 1),
        (Some(l), None) => format!("{file}:{l}"),
        (None, Some(f)) => format!("{file}: field {}", f + 1),
        (None, None) => file.to_string(),
    }
}

/// A csv error as "file:line:column: column `name`: what is wrong".
fn located(
    file: &str,
    headers: &StringRecord,
    record: Option<&StringRecord>,
    e: csv::Error,
    shift: u64,
) -> anyhow::Error {
    if let csv::ErrorKind::Io(io) = e.kind()
        && let Some(long) = io.get_ref().and_then(|e| e.downcast_ref::<LineTooLong>())
    {
        return anyhow::anyhow!("{file}:{long}");
    }
    let csv::ErrorKind::Deserialize { pos, err } = e.kind() else {
        let line = e.position().map(|p| p.line() + shift).unwrap_or(0);
        return anyhow::anyhow!("{file}:{line}:1: {e}");
    };
    let with_line = |rec: Option<&StringRecord>| match (rec.and_then(|r| r.position()), pos) {
        (Some(_), _) => rec.cloned(),
        (None, Some(p)) => {
            let mut r = rec.cloned().unwrap_or_default();
            r.set_position(Some(p.clone()));
            Some(r)
        }
        (None, None) => rec.cloned(),
    };
    let record = with_line(record);
    let Some(field) = err.field().map(|f| f as usize) else {
        let msg = match err.kind() {
            DeserializeErrorKind::Message(m) if m.starts_with("missing field") => format!(
                "{m} (columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
            _ => err.kind().to_string(),
        };
        return anyhow::anyhow!("{}: {msg}", location(file, record.as_ref(), None));
    };
    let raw = record.as_ref().and_then(|r| r.get(field)).unwrap_or("");
    let what = match err.kind() {
        DeserializeErrorKind::ParseFloat(_) => format!("`{raw}` is not a number"),
        DeserializeErrorKind::ParseInt(_) => format!("`{raw}` is not a whole number"),
        DeserializeErrorKind::ParseBool(_) => format!("`{raw}` is not true or false"),
        other => other.to_string(),
    };
    anyhow::anyhow!(
        "{}: column `{}`: {what}",
        location(file, record.as_ref(), Some(field)),
        headers.get(field).unwrap_or("?")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header serde derives from a row type.
    fn derived_header<T: Serialize + Default>() -> Vec<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(T::default()).unwrap();
        let bytes = w.into_inner().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        text.lines()
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn column_lists_are_the_row_types_fields() {
        assert_eq!(derived_header::<IncidentRow>(), INCIDENT_COLUMNS);
        assert_eq!(derived_header::<TimelineRow>(), TIMELINE_COLUMNS);
        assert_eq!(derived_header::<TailRow>(), TAIL_COLUMNS);
        assert_eq!(derived_header::<ImpactRow>(), IMPACT_COLUMNS);
        assert_eq!(derived_header::<NodeRow>(), NODE_COLUMNS);
        assert_eq!(derived_header::<EdgeRow>(), EDGE_COLUMNS);
        assert_eq!(derived_header::<Stat>(), SUMMARY_COLUMNS);
        assert_eq!(derived_header::<SummaryKey>(), SUMMARY_KEY_COLUMNS);
        assert_eq!(derived_header::<RunKey>(), RUN_KEY_COLUMNS);
        assert_eq!(derived_header::<RunTail>(), RUN_TAIL_COLUMNS);
    }

    #[test]
    fn floats_are_written_in_shortest_round_trip_form() {
        let row = TimelineRow {
            users_hit_max: 1.0,
            freeze_h: 1e-7,
            kill_switch_h: 0.1 + 0.2,
            ..TimelineRow::default()
        };
        let f = to_fields(&row);
        assert_eq!(f[7], "1");
        assert_eq!(f[10], "0.0000001");
        assert_eq!(f[11], "0.30000000000000004");
    }
}
