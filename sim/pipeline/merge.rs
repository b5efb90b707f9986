//! The `merge` pipeline: join the journals of shard folders into exactly what one
//! unsharded run writes.
//!
//! The shards must belong to one experiment (same key: scenario hash, seed, replications,
//! horizon) and together hold every run exactly once. The journal records are copied into
//! the output folder's journal, so the merged folder is an ordinary results folder (a
//! later `run` there resumes nothing and rewrites the same bytes). Every shard record is
//! checked (checksum, run id, experiment key) before it is copied.
//!
//! Scale-out on any batch scheduler (shards are numbered from 1):
//!
//! ```text
//! # Slurm array job: sbatch --array=1-8 sweep.sh
//! blastsim run scenario.toml --quiet --no-charts \
//!     --shard ${SLURM_ARRAY_TASK_ID}/8 --out shards/${SLURM_ARRAY_TASK_ID}
//!
//! # Kubernetes Indexed Job (completions: 8, completionMode: Indexed); the index is 0-based
//! blastsim run scenario.toml --quiet --no-charts \
//!     --shard $((JOB_COMPLETION_INDEX + 1))/8 --out /results/shard-$JOB_COMPLETION_INDEX
//!
//! # then, once every shard is done (a failed shard is resumed by rerunning its command)
//! blastsim merge shards/* --out results/scenario
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::run::{ManifestRun, write_manifest};
use crate::experiment::plan;
use crate::report::atomic;
use crate::report::journal;
use crate::report::tables::{self, Assembled};

/// Merges shard folders `dirs` into `out` (with `charts`, drawing the charts and the
/// report too); returns the assembled statistics. `command` goes into the manifest.
pub fn merge_dirs(
    dirs: &[PathBuf],
    out: &Path,
    command: &str,
    charts: bool,
) -> anyhow::Result<Assembled> {
    let started = Instant::now();
    anyhow::ensure!(!dirs.is_empty(), "merge needs at least one shard folder");
    let mut metas = Vec::new();
    for d in dirs {
        let jdir = journal::journal_dir(d);
        anyhow::ensure!(
            jdir.join("meta.json").exists(),
            "{} is not a blastsim results folder (no {}/meta.json)",
            d.display(),
            journal::JOURNAL_DIR
        );
        metas.push(journal::read_meta(&jdir)?);
    }
    let meta = metas[0].clone();
    for (d, m) in dirs.iter().zip(&metas).skip(1) {
        anyhow::ensure!(
            m.experiment_key == meta.experiment_key,
            "{} holds another experiment than {} (scenario hash {} vs {}, key {} vs {}); \
             only shards of one run set can be merged",
            d.display(),
            dirs[0].display(),
            m.hash,
            meta.hash,
            m.experiment_key,
            meta.experiment_key
        );
    }

    let mut runs: BTreeMap<u64, (PathBuf, usize)> = BTreeMap::new();
    for (k, d) in dirs.iter().enumerate() {
        for (id, path) in journal::done(&journal::journal_dir(d))? {
            if id >= meta.runs_in_experiment {
                anyhow::bail!("{}: run {id} is outside the experiment", path.display());
            }
            if let Some((_, first)) = runs.get(&id) {
                anyhow::bail!(
                    "run {id} is in both {} and {}: shards overlap",
                    dirs[*first].display(),
                    d.display()
                );
            }
            let spec = plan::decompose(id, meta.points.len(), meta.replications);
            if let Err(why) = journal::check_record(&path, &meta.experiment_key, id, spec) {
                anyhow::bail!(
                    "{why}\nrerun that shard's `blastsim run --shard` command with \
                     --discard-damaged to simulate the run again, then merge"
                );
            }
            runs.insert(id, (path, k));
        }
    }
    let missing: Vec<u64> = (0..meta.runs_in_experiment)
        .filter(|id| !runs.contains_key(id))
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "the shards lack {} of {} runs: run ids {}; finish those shards (rerun the same \
         `blastsim run --shard` command to resume) before merging",
        missing.len(),
        meta.runs_in_experiment,
        id_ranges(&missing)
    );

    let _lock = journal::lock(out)?;
    let out_journal = journal::open(out, &meta)?;
    for (id, (path, _)) in &runs {
        let target = journal::record_path(&out_journal, *id);
        if !same_file(path, &target) {
            let bytes = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            atomic::write_atomic(&target, &bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", target.display()))?;
        }
    }
    let first_journal = journal::journal_dir(&dirs[0]);
    if let Some((nodes, edges)) = journal::read_graph(&first_journal)?
        && !same_file(&first_journal, &out_journal)
    {
        journal::write_graph(&out_journal, &nodes, &edges)?;
    }
    let records: Vec<PathBuf> = runs
        .keys()
        .map(|id| journal::record_path(&out_journal, *id))
        .collect();
    let assembled = tables::assemble(out, &meta, &records, &out_journal)?;
    write_manifest(
        out,
        &meta,
        &assembled,
        ManifestRun {
            command: command.to_string(),
            threads: 1,
            runs_total: meta.runs_in_experiment,
            shard: None,
            merged_from: dirs.iter().map(|d| d.display().to_string()).collect(),
            wall_time_s: started.elapsed().as_secs_f64(),
        },
    )?;
    if charts {
        crate::report::render(out)?;
    }
    Ok(assembled)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// "3, 7-9, 12" (at most 20 ranges, then "…").
pub fn id_ranges(ids: &[u64]) -> String {
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for &id in ids {
        match ranges.last_mut() {
            Some((_, hi)) if *hi + 1 == id => *hi = id,
            _ => ranges.push((id, id)),
        }
    }
    let mut parts: Vec<String> = ranges
        .iter()
        .take(20)
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    if ranges.len() > 20 {
        parts.push("…".to_string());
    }
    parts.join(", ")
}
