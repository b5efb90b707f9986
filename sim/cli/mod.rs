//! The command line: one file per subcommand. Only this layer prints or exits.
//!
//! Exit codes (the contract CI and other tools rely on): 0 success; 1 the run worked and
//! found invariant violations; 2 bad input, bad usage or a failed write.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub mod audit;
pub mod chaos;
pub mod merge;
pub mod plot;
pub mod replay;
pub mod run;
pub mod schema;
pub mod validate;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the run worked and found invariant violations.
pub const EXIT_VIOLATIONS: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

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
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications per arm and grid point, overriding the scenario's.
    #[arg(long)]
    pub replications: Option<u32>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Simulated horizon, overriding the scenario's (e.g. "30d").
    #[arg(long)]
    pub horizon: Option<String>,
    /// Run only shard I of N (1-based, e.g. 2/4); join shards with `blastsim merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// No progress bar and no summary table.
    #[arg(long)]
    pub quiet: bool,
    /// Skip charts and the report (tables and manifest only).
    #[arg(long)]
    pub no_charts: bool,
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
    #[arg(long)]
    pub campaigns: Option<u32>,
    /// Master seed, overriding the scenario's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
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
    #[arg(long)]
    pub run: u64,
    /// Master seed, overriding the scenario's (as given to `run --seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the full event trace here as JSON lines.
    #[arg(long)]
    pub trace: Option<PathBuf>,
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
