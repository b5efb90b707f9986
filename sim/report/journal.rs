//! The resume journal: one small file per finished run under `<out>/.journal/`, written
//! atomically the moment the run finishes.
//!
//! Layout of `<out>/.journal/`:
//! - `meta.json`: the `ExperimentMeta` (with the experiment key) the folder belongs to;
//! - `graph_nodes.csv`, `graph_edges.csv`: the graph of (baseline arm, point 0), without
//!   the `hit_in_worst` column (absent for graphs over 2000 services);
//! - `build.json`: the blastsim and model versions that wrote the folder, so a journal of
//!   an older build is refused with a reason rather than reused;
//! - `lock`: held (an OS advisory lock) by the one process writing the folder;
//! - `run-<id>.csv`: one run, as CSV records whose first field says what they are:
//!   `K,<experiment key>,<run_id>,<arm>,<point>,<replication>` (first), `R,<runs.csv row>`,
//!   `I,<incidents.csv row>`…, `T,<timeline.csv row>`…, `S,<per-run summary>`
//!   (`report::tables::RunTails`), `X,<the run's worst incident's incidents.csv row>` (if
//!   any), `W,<worst user_impact_min>,<service ids separated by ;>` (if any), and last
//!   `E,<checksum>`: 16 hex digits of a `Fingerprint` over every byte before the `E` line.
//!
//! A killed process leaves at worst a `.tmp-*` file (removed by the next run) and loses
//! only the runs in flight. A record whose checksum, run id (against its file name) or
//! experiment key does not match is refused by `read_record` and `check_record`, never
//! trusted: the caller names the file and says what to do (`--discard-damaged`). Records
//! are not fsynced (see `write_record`): a power cut may tear the last few, and the
//! checksum catches each of them.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Fingerprint;
use crate::experiment::plan::MODEL_VERSION;
use crate::report::atomic;
use crate::report::manifest::{self, ExperimentMeta};
use crate::report::tables::RunTails;

/// The journal folder's name inside a results folder.
pub const JOURNAL_DIR: &str = ".journal";

/// The lock file's name inside the journal folder.
pub const LOCK_FILE: &str = "lock";

/// The build file's name inside the journal folder.
const BUILD_FILE: &str = "build.json";

/// Which build wrote a journal (`build.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The crate version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// `experiment::plan::MODEL_VERSION`.
    pub model_version: u32,
}

impl Build {
    /// This build.
    pub fn current() -> Build {
        Build {
            version: env!("CARGO_PKG_VERSION").to_string(),
            model_version: MODEL_VERSION,
        }
    }
}

impl std::fmt::Display for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "blastsim {} (model version {})",
            self.version, self.model_version
        )
    }
}

/// The exclusive right to write one results folder, held until dropped.
///
/// An OS advisory lock (`File::try_lock`) on `<out>/.journal/lock`: the OS releases it when
/// the process ends however it ends, so a killed process never leaves a stale lock behind.
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

/// How long `lock` keeps retrying a held lock before it refuses the folder.
///
/// A lock file's descriptor is briefly duplicated into any child process another thread
/// spawns while it is open (between the spawn's fork and its exec, which closes it), so a
/// lock just released can still read as held for a few milliseconds. Half a second rides
/// that out and is still an immediate answer to a user who started a second process.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

/// Takes the lock of results folder `out` (creating the folder), or fails when another
/// process still holds it after `LOCK_PATIENCE`.
pub fn lock(out: &Path) -> anyhow::Result<FolderLock> {
    let dir = journal_dir(out);
    fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let give_up = std::time::Instant::now() + LOCK_PATIENCE;
    loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < give_up => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break held(other, file, out, &path),
        }
    }
}

/// The outcome of the last `try_lock` of `lock`.
fn held(
    tried: Result<(), TryLockError>,
    file: File,
    out: &Path,
    path: &Path,
) -> anyhow::Result<FolderLock> {
    match tried {
        Ok(()) => Ok(FolderLock { _file: file }),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "results folder {} is in use by another blastsim process (it holds {}); \
             wait for that process to finish, or choose another --out",
            out.display(),
            path.display()
        ),
        Err(TryLockError::Error(e)) => {
            anyhow::bail!("cannot lock {}: {e}", path.display())
        }
    }
}

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
    /// The per-run summary of the incidents (`None` only in a record of an older build).
    pub tails: Option<RunTails>,
    /// The `incidents.csv` row of the run's worst incident, whatever `--incidents` keeps.
    pub worst_row: Option<Vec<String>>,
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
    let build_path = dir.join(BUILD_FILE);
    if meta_path.exists() {
        let existing = read_meta(&dir)?;
        let build = read_build(&dir)?;
        refuse_if_different(out, &existing.experiment_key, &existing.hash, build, meta)?;
    } else if out.join("manifest.json").exists() {
        // Results without a journal (copied or hand-made): still never mix them.
        if let Ok(m) = manifest::read_manifest(out) {
            refuse_if_different(out, &m.meta.experiment_key, &m.meta.hash, None, meta)?;
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
    if !build_path.exists() {
        let mut text = serde_json::to_string_pretty(&Build::current())?;
        text.push('\n');
        atomic::write_atomic(&build_path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", build_path.display()))?;
    }
    Ok(dir)
}

/// The build that wrote `journal`: `None` when `build.json` is absent (a journal of a build
/// older than the file, or a hand-made one).
fn read_build(journal: &Path) -> anyhow::Result<Option<Build>> {
    let path = journal.join(BUILD_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Refuses a folder whose experiment key differs from `meta`'s, saying why: another
/// build's model, another scenario, or other run settings. `build` is the folder's build
/// (`None` when unknown).
fn refuse_if_different(
    out: &Path,
    key: &str,
    hash: &str,
    build: Option<Build>,
    meta: &ExperimentMeta,
) -> anyhow::Result<()> {
    if key == meta.experiment_key {
        return Ok(());
    }
    let current = Build::current();
    let what = match build {
        Some(b) if b != current => {
            format!("written by {b}, this is {current}; results of another model are not mixed")
        }
        _ if hash != meta.hash => {
            format!("scenario hash {hash}, this scenario has {}", meta.hash)
        }
        None => format!(
            "written by a build older than {current}, or with another seed, replications or \
             horizon"
        ),
        Some(_) => "the same scenario with another seed, replications or horizon".to_string(),
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

/// The checksum of a record's content: every byte before its `E` line.
fn checksum(content: &[u8]) -> String {
    let mut h = Fingerprint::default();
    h.write(b"blastsim-journal-record-v2");
    h.write(content);
    format!("{:016x}", h.finish())
}

/// `content` with its `E,<checksum>` line appended: a record `unseal` accepts.
pub fn seal(mut content: Vec<u8>) -> Vec<u8> {
    let sum = checksum(&content);
    content.extend_from_slice(format!("E,{sum}\n").as_bytes());
    content
}

/// The content of a sealed record (every byte before its `E` line), or why it is damaged.
pub fn unseal(bytes: &[u8]) -> Result<&[u8], &'static str> {
    // The E line is the last line: find where it starts.
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let e_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let (content, e_line) = bytes.split_at(e_start);
    let e_line = std::str::from_utf8(e_line).unwrap_or("").trim_end();
    let Some(sum) = e_line.strip_prefix("E") else {
        return Err("incomplete (no E line at the end)");
    };
    match sum.strip_prefix(',') {
        Some(sum) if sum == checksum(content) => Ok(content),
        Some(_) => Err("its checksum does not match its content (edited or cut)"),
        None => Err("no checksum (written by an older build)"),
    }
}

/// Persists one finished run, atomically.
pub fn write_record(journal: &Path, rec: &JournalRecord) -> anyhow::Result<()> {
    let path = record_path(journal, rec.run_id);
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
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
    if let Some(t) = &rec.tails {
        w.write_record(tagged("S", &t.fields()))?;
    }
    if let Some(r) = &rec.worst_row {
        w.write_record(tagged("X", r))?;
    }
    if let Some((impact, hit)) = &rec.worst {
        let ids: Vec<String> = hit.iter().map(|s| s.to_string()).collect();
        w.write_record(["W", &format!("{impact}"), &ids.join(";")])?;
    }
    let content = seal(
        w.into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?,
    );
    let write = || -> std::io::Result<()> {
        // Written to a temporary file and renamed, so a killed process leaves no torn
        // record under a record's name; not fsynced: an fsync per run made the sweep wait
        // on the disk (most of the difference between wall and CPU time at one thread),
        // and a record a power cut leaves torn or empty fails its checksum, is refused
        // as damaged and, with `--discard-damaged`, simulated again.
        let temp = journal.join(format!(
            "{}run-{}-{}",
            atomic::TEMP_PREFIX,
            rec.run_id,
            std::process::id()
        ));
        let mut file = File::create(&temp)?;
        file.write_all(&content)?;
        drop(file);
        fs::rename(&temp, &path)
    };
    write().map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// The run id a record's file name gives (`run-<id>.csv`), if it has that form.
fn id_from_name(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("run-")?
        .strip_suffix(".csv")?
        .parse()
        .ok()
}

/// Reads one journal record, refusing it (as damaged) when it is incomplete, when its
/// checksum does not match its content, or when its run id is not its file name's.
pub fn read_record(path: &Path) -> anyhow::Result<JournalRecord> {
    let bad = |what: &str| anyhow::anyhow!("{}: damaged journal record: {what}", path.display());
    let bytes =
        fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let content = unseal(&bytes).map_err(bad)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(content);
    let mut rec: Option<JournalRecord> = None;
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
                tails: None,
                worst_row: None,
                worst: None,
            });
            continue;
        }
        let rec = rec.as_mut().expect("set on the first line");
        let rest = fields[1..].to_vec();
        match tag {
            "R" => rec.run_row = rest,
            "I" => rec.incidents.push(rest),
            "T" => rec.timeline.push(rest),
            "S" => rec.tails = Some(RunTails::parse(&rest).ok_or_else(|| bad("bad S line"))?),
            "X" => rec.worst_row = Some(rest),
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
            "E" => return Err(bad("lines after E")),
            _ => return Err(bad("unknown line tag")),
        }
    }
    let rec = match rec {
        Some(rec) if !rec.run_row.is_empty() => rec,
        _ => return Err(bad("incomplete")),
    };
    if rec.tails.is_none() {
        return Err(bad(
            "no per-run summary (S line): written by an older build, whose records this \
             one does not read",
        ));
    }
    if let Some(id) = id_from_name(path)
        && id != rec.run_id
    {
        return Err(bad(&format!(
            "it holds run {} under the file name of run {id} (copied or renamed)",
            rec.run_id
        )));
    }
    Ok(rec)
}

/// Checks that the record at `path` is whole and is run `run_id` = (arm, point,
/// replication) of the experiment `key`; the reason it is damaged otherwise.
pub fn check_record(
    path: &Path,
    key: &str,
    run_id: u64,
    (arm, point, replication): (usize, usize, u32),
) -> Result<(), String> {
    let rec = read_record(path).map_err(|e| format!("{e:#}"))?;
    let shown = path.display();
    if rec.key != key {
        return Err(format!(
            "{shown}: journal record of another experiment (key {}, this folder's is {key})",
            rec.key
        ));
    }
    if rec.run_id != run_id || (rec.arm, rec.point, rec.replication) != (arm, point, replication) {
        return Err(format!(
            "{shown}: run {} is (arm {}, point {}, replication {}); run {run_id} of this \
             experiment is (arm {arm}, point {point}, replication {replication})",
            rec.run_id, rec.arm, rec.point, rec.replication
        ));
    }
    Ok(())
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
