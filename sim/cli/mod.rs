//! The command line: one file per subcommand, each parsing its flags, calling a
//! `pipeline` (or a library function) and printing the outcome. Only this layer prints,
//! reads the command line or exits.
//!
//! Exit codes (the contract CI and other tools rely on): 0 success; 1 the run worked and
//! found invariant violations; 2 bad input, bad usage or a failed write.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub mod audit;
pub mod chaos;
pub mod merge;
pub mod plot;
pub mod progress;
pub mod replay;
pub mod run;
pub mod schema;
pub mod shard_env;
pub mod validate;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run worked and found invariant violations.
pub const EXIT_VIOLATIONS: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code of a `run` stopped by Ctrl-C (128 + SIGINT, the shell's convention).
pub const EXIT_INTERRUPTED: u8 = 130;

/// blastsim: simulate approval policies and circuit breakers for autonomous coding agents,
/// and measure velocity against blast radius.
#[derive(Debug, Parser)]
#[command(name = "blastsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate every arm x grid point x replication of a scenario; write runs.csv,
    /// summary.csv, incidents.csv, charts and report.md (default folder:
    /// results/<scenario name>/). Rerunning the same command resumes an interrupted sweep.
    Run(RunArgs),
    /// Parse and check scenario files only; exit 2 with file:line:column on the first error.
    Validate(ValidateArgs),
    /// Print the JSON schema of the scenario format (for editor autocomplete).
    Schema,
    /// Redraw the charts and the report of a results folder from its CSV files alone.
    Plot(PlotArgs),
    /// Join the outputs of `run --shard I/N` into exactly what one unsharded run writes.
    Merge(MergeArgs),
    /// Run random fault campaigns against the scenario's invariants; exit 1 if any broke.
    Chaos(ChaosArgs),
    /// Run one run again with its full event trace and the causal story of its worst incident.
    Replay(ReplayArgs),
    /// Replay logged agent actions (Claude Code hooks or generic JSONL) through every arm:
    /// decisions, summary, diff, coverage and a fitted [[authors]] block.
    Audit(AuditArgs),
}

/// Arguments of `blastsim audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The scenario file (TOML); its arms are the policies compared.
    pub scenario: PathBuf,
    /// Log files (JSONL), merged in time order.
    #[arg(long, required = true, num_args = 1..)]
    pub log: Vec<PathBuf>,
    /// Results folder (default: results/<scenario name>/audit/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stop with file:line at the first malformed line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Log format: auto (per file), claude-code or generic.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Longest accepted line in bytes; longer lines are malformed.
    #[arg(long, default_value_t = crate::audit::lines::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
    /// Do not write decisions.csv (one row per action and arm).
    #[arg(long)]
    pub no_decisions: bool,
    /// No summary on stdout.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `blastsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Results folder (default: results/<scenario name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Master seed, overriding the scenario's.
    #[arg(long, allow_negative_numbers = true, value_parser = seed)]
    pub seed: Option<u64>,
    /// Replications per arm and grid point, overriding the scenario's (1 to 100000).
    #[arg(long, allow_negative_numbers = true, value_parser = replications)]
    pub replications: Option<u32>,
    /// Worker threads, 1 to 1024 (default: one per core). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = threads)]
    pub threads: Option<usize>,
    /// Simulated horizon, overriding the scenario's (e.g. "30d").
    #[arg(long)]
    pub horizon: Option<String>,
    /// Run only shard I of N (1-based, e.g. 2/4); join shards with `blastsim merge`.
    /// `slurm/N` takes I from SLURM_ARRAY_TASK_ID (counted from SLURM_ARRAY_TASK_MIN, so
    /// --array=0-7 and 1-8 both work); `k8s/N` from JOB_COMPLETION_INDEX (0-based).
    #[arg(long)]
    pub shard: Option<String>,
    /// No progress bar and no summary table.
    #[arg(long)]
    pub quiet: bool,
    /// Skip charts and the report (tables and manifest only).
    #[arg(long)]
    pub no_charts: bool,
    /// Skip the `[sensitivity]` analysis (no sensitivity.csv; the report says it was not
    /// run). It is always skipped with --shard.
    #[arg(long)]
    pub no_sensitivity: bool,
    /// Remove journal records that fail their checks (edited, cut, copied under another
    /// run's name, of another experiment) and simulate those runs again, instead of
    /// refusing the folder.
    #[arg(long)]
    pub discard_damaged: bool,
    /// Which replications' incidents incidents.csv lists: `all`, `first:K` (replications
    /// 0 to K-1 of every arm and point) or `none`. Summaries, charts and the report do not
    /// change with it.
    #[arg(long, default_value = "all", value_parser = incidents_kept)]
    pub incidents: crate::report::tables::IncidentsKept,
}

/// `--incidents`: `all`, `first:K` or `none`.
fn incidents_kept(text: &str) -> Result<crate::report::tables::IncidentsKept, String> {
    crate::report::tables::IncidentsKept::parse(text)
}

/// Arguments of `blastsim validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files to check.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
}

/// Arguments of `blastsim plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A results folder written by `blastsim run`.
    pub dir: PathBuf,
}

/// Arguments of `blastsim merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard results folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged result.
    #[arg(long)]
    pub out: PathBuf,
    /// Skip charts and the report.
    #[arg(long)]
    pub no_charts: bool,
}

/// Arguments of `blastsim chaos`.
#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// The scenario file (TOML) with [chaos] fault ranges and [invariants].
    pub scenario: PathBuf,
    /// Number of random fault campaigns (default: the scenario's `[chaos] campaigns`,
    /// else 64).
    #[arg(long, allow_negative_numbers = true, value_parser = campaigns)]
    pub campaigns: Option<u32>,
    /// Master seed, overriding the scenario's.
    #[arg(long, allow_negative_numbers = true, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads, 1 to 1024 (default: one per core). Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = threads)]
    pub threads: Option<usize>,
    /// Results folder (default: results/<scenario name>/chaos/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `blastsim replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The run id (the `run_id` column of runs.csv).
    #[arg(long, allow_negative_numbers = true, value_parser = run_id)]
    pub run: u64,
    /// Master seed, overriding the scenario's and the results folder's (as given to
    /// `run --seed`).
    #[arg(long, allow_negative_numbers = true, value_parser = seed)]
    pub seed: Option<u64>,
    /// The results folder whose run to reproduce: its manifest's seed, replications and
    /// horizon apply (default: results/<scenario name>/ when it has a manifest).
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Write the full event trace here as JSON lines.
    #[arg(long)]
    pub trace: Option<PathBuf>,
}

/// A whole number from `min` to `max` (a plain message otherwise, also for negative
/// numbers, which clap would take for flags and answer with a "use '-- -1'" tip).
fn whole<T: TryFrom<u64>>(text: &str, min: u64, max: u64, what: &str) -> Result<T, String> {
    let out_of_range =
        || format!("expected {what}: a whole number from {min} to {max}, got `{text}`");
    let n: u64 = text.trim().parse().map_err(|_| out_of_range())?;
    if !(min..=max).contains(&n) {
        return Err(out_of_range());
    }
    T::try_from(n).map_err(|_| out_of_range())
}

fn seed(text: &str) -> Result<u64, String> {
    whole(text, 0, u64::MAX, "a seed")
}

fn run_id(text: &str) -> Result<u64, String> {
    whole(text, 0, u64::MAX, "a run id")
}

/// `--replications`: the scenario's limit `REPLICATIONS_MAX`.
fn replications(text: &str) -> Result<u32, String> {
    let max = u64::from(crate::scenario::limits::REPLICATIONS_MAX);
    whole(
        text,
        1,
        max,
        "a number of replications (limit REPLICATIONS_MAX)",
    )
}

/// `--campaigns`: the scenario's limit `CAMPAIGNS_MAX`, as for `[chaos] campaigns`.
fn campaigns(text: &str) -> Result<u32, String> {
    let max = u64::from(crate::scenario::limits::CAMPAIGNS_MAX);
    whole(text, 1, max, "a number of campaigns (limit CAMPAIGNS_MAX)")
}

/// `--threads`: 0 is passed on for the pipeline to refuse or explain.
fn threads(text: &str) -> Result<usize, String> {
    whole(text, 0, u64::MAX, "a number of worker threads")
}

/// The process's command line, for the manifest.
///
/// The program is named `blastsim` whatever path it was started by (`cargo run`,
/// `./target/release/blastsim`), so the report's reproduce line does not change with how
/// the binary was invoked.
pub fn command_line() -> String {
    std::iter::once("blastsim".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the parsed command and returns the process exit code.
pub fn dispatch(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Run(a) => run::execute(a),
        Command::Validate(a) => validate::execute(a),
        Command::Schema => schema::execute(),
        Command::Plot(a) => plot::execute(a),
        Command::Merge(a) => merge::execute(a),
        Command::Chaos(a) => chaos::execute(a),
        Command::Replay(a) => replay::execute(a),
        Command::Audit(a) => audit::execute(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_BAD_INPUT
        }
    }
}
