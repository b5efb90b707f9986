//! The resume journal: one small file per finished run under `<out>/.journal/`, written
//! atomically the moment the run finishes.
//!
//! Layout of `<out>/.journal/`:
//! - `meta.json`: the `ExperimentMeta` (with the experiment key) the folder belongs to;
//! - `graph_nodes.csv`, `graph_edges.csv`: the graph of (baseline arm, point 0), without
//!   the `hit_in_worst` column (absent for graphs over 2000 services);
//! - `run-<id>.csv`: one run, as CSV records whose first field says what they are:
//!   `K,<experiment key>,<run_id>,<arm>,<point>,<replication>` (first), `R,<runs.csv row>`,
//!   `I,<incidents.csv row>`…, `T,<timeline.csv row>`…,
//!   `W,<worst user_impact_min>,<service ids separated by ;>` (if any), `E` (last).
//!
//! A killed process leaves at worst a `.tmp-*` file (removed by the next run) and loses
//! only the runs in flight. A record without its `E` line cannot appear (writes are
//! atomic), but one would be rejected rather than trusted.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::report::atomic::{self, AtomicFile};
use crate::report::manifest::{self, ExperimentMeta};

/// The journal folder's name inside a results folder.
pub const JOURNAL_DIR: &str = ".journal";

/// One run as persisted in the journal.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalRecord {
    /// Experiment key the run belongs to.
    pub key: String,
    /// Run id.
    pub run_id: u64,
    /// Arm index.
    pub arm: usize,
    /// Point index.
    pub point: usize,
    /// Replication index.
    pub replication: u32,
    /// The `runs.csv` row.
    pub run_row: Vec<String>,
    /// The `incidents.csv` rows.
    pub incidents: Vec<Vec<String>>,
    /// The `timeline.csv` rows (replication 0 only).
    pub timeline: Vec<Vec<String>>,
    /// The worst incident's user-impact minutes and the service ids it hit.
    pub worst: Option<(f64, Vec<u32>)>,
}

/// The journal folder of a results folder.
pub fn journal_dir(out: &Path) -> PathBuf {
    out.join(JOURNAL_DIR)
}

/// The file of run `run_id`.
pub fn record_path(journal: &Path, run_id: u64) -> PathBuf {
    journal.join(format!("run-{run_id:09}.csv"))
}

/// Prepares `out` for the experiment `meta`: creates it and its journal, removes
/// temporary leftovers, and refuses a folder that holds another experiment's results.
/// Returns the journal folder.
pub fn open(out: &Path, meta: &ExperimentMeta) -> anyhow::Result<PathBuf> {
    let dir = journal_dir(out);
    let meta_path = dir.join("meta.json");
    if meta_path.exists() {
        let existing = read_meta(&dir)?;
        refuse_if_different(out, &existing.experiment_key, &existing.hash, meta)?;
    } else if out.join("manifest.json").exists() {
        // Results without a journal (copied or hand-made): still never mix them.
        if let Ok(m) = manifest::read_manifest(out) {
            refuse_if_different(out, &m.meta.experiment_key, &m.meta.hash, meta)?;
        }
    }
    fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    atomic::clean_temps(out)?;
    atomic::clean_temps(&dir)?;
    if !meta_path.exists() {
        let mut text = serde_json::to_string_pretty(meta)?;
        text.push('\n');
        atomic::write_atomic(&meta_path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", meta_path.display()))?;
    }
    Ok(dir)
}

fn refuse_if_different(
    out: &Path,
    key: &str,
    hash: &str,
    meta: &ExperimentMeta,
) -> anyhow::Result<()> {
    if key == meta.experiment_key {
        return Ok(());
    }
    let what = if hash != meta.hash {
        format!("scenario hash {hash}, this scenario has {}", meta.hash)
    } else {
        "the same scenario with another seed, replications or horizon".to_string()
    };
    anyhow::bail!(
        "results folder {} holds results of another experiment ({what}); \
         choose another --out, or delete the folder to start over",
        out.display()
    )
}

/// Reads `meta.json` of a journal folder.
pub fn read_meta(journal: &Path) -> anyhow::Result<ExperimentMeta> {
    let path = journal.join("meta.json");
    let text = fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The runs journaled in `journal`, by run id.
pub fn done(journal: &Path) -> anyhow::Result<BTreeMap<u64, PathBuf>> {
    let mut out = BTreeMap::new();
    let entries = fs::read_dir(journal)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", journal.display()))?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(id) = name
            .strip_prefix("run-")
            .and_then(|r| r.strip_suffix(".csv"))
            .and_then(|r| r.parse::<u64>().ok())
        {
            out.insert(id, entry.path());
        }
    }
    Ok(out)
}

/// Persists one finished run, atomically.
pub fn write_record(journal: &Path, rec: &JournalRecord) -> anyhow::Result<()> {
    let path = record_path(journal, rec.run_id);
    let file = AtomicFile::create(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(file);
    w.write_record([
        "K",
        &rec.key,
        &rec.run_id.to_string(),
        &rec.arm.to_string(),
        &rec.point.to_string(),
        &rec.replication.to_string(),
    ])?;
    let tagged = |tag: &'static str, row: &[String]| {
        std::iter::once(tag.to_string())
            .chain(row.iter().cloned())
            .collect::<Vec<_>>()
    };
    w.write_record(tagged("R", &rec.run_row))?;
    for r in &rec.incidents {
        w.write_record(tagged("I", r))?;
    }
    for r in &rec.timeline {
        w.write_record(tagged("T", r))?;
    }
    if let Some((impact, hit)) = &rec.worst {
        let ids: Vec<String> = hit.iter().map(|s| s.to_string()).collect();
        w.write_record(["W", &format!("{impact}"), &ids.join(";")])?;
    }
    w.write_record(["E"])?;
    let mut file = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    file.flush()?;
    // One folder fsync per run would dominate short runs; a killed process loses no
    // completed rename either way, and a power cut loses at most the last few runs.
    file.commit_no_dir_sync()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Reads one journal record.
pub fn read_record(path: &Path) -> anyhow::Result<JournalRecord> {
    let bad = |what: &str| anyhow::anyhow!("{}: corrupt journal record: {what}", path.display());
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut rec: Option<JournalRecord> = None;
    let mut ended = false;
    for (i, row) in r.records().enumerate() {
        let row = row.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let fields: Vec<String> = row.iter().map(|s| s.to_string()).collect();
        let tag = fields.first().map(String::as_str).unwrap_or("");
        if i == 0 {
            if tag != "K" || fields.len() != 6 {
                return Err(bad("first line is not K"));
            }
            let num = |k: usize| fields[k].parse::<u64>().map_err(|_| bad("bad number in K"));
            rec = Some(JournalRecord {
                key: fields[1].clone(),
                run_id: num(2)?,
                arm: num(3)? as usize,
                point: num(4)? as usize,
                replication: num(5)? as u32,
                run_row: Vec::new(),
                incidents: Vec::new(),
                timeline: Vec::new(),
                worst: None,
            });
            continue;
        }
        let rec = rec.as_mut().expect("set on the first line");
        if ended {
            return Err(bad("lines after E"));
        }
        let rest = fields[1..].to_vec();
        match tag {
            "R" => rec.run_row = rest,
            "I" => rec.incidents.push(rest),
            "T" => rec.timeline.push(rest),
            "W" if rest.len() == 2 => {
                let impact = rest[0].parse().map_err(|_| bad("bad W impact"))?;
                let ids = if rest[1].is_empty() {
                    Vec::new()
                } else {
                    rest[1]
                        .split(';')
                        .map(|s| s.parse::<u32>().map_err(|_| bad("bad W service id")))
                        .collect::<anyhow::Result<_>>()?
                };
                rec.worst = Some((impact, ids));
            }
            "E" => ended = true,
            _ => return Err(bad("unknown line tag")),
        }
    }
    match rec {
        Some(rec) if ended && !rec.run_row.is_empty() => Ok(rec),
        _ => Err(bad("incomplete")),
    }
}

/// Stores the graph tables (without `hit_in_worst`) in the journal.
pub fn write_graph(
    journal: &Path,
    nodes: &[Vec<String>],
    edges: &[Vec<String>],
) -> anyhow::Result<()> {
    for (name, rows) in [("graph_nodes.csv", nodes), ("graph_edges.csv", edges)] {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        for r in rows {
            w.write_record(r)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
        let path = journal.join(name);
        atomic::write_atomic(&path, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The graph tables stored in the journal, if any.
#[allow(clippy::type_complexity)]
pub fn read_graph(journal: &Path) -> anyhow::Result<Option<(Vec<Vec<String>>, Vec<Vec<String>>)>> {
    let nodes_path = journal.join("graph_nodes.csv");
    let edges_path = journal.join("graph_edges.csv");
    if !nodes_path.exists() || !edges_path.exists() {
        return Ok(None);
    }
    let read = |p: &Path| -> anyhow::Result<Vec<Vec<String>>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(p)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
        r.records()
            .map(|row| {
                row.map(|row| row.iter().map(|s| s.to_string()).collect())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
            })
            .collect()
    };
    Ok(Some((read(&nodes_path)?, read(&edges_path)?)))
}
