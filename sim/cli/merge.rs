//! `blastsim merge DIR... --out DIR`: hand the shard folders to `pipeline::merge` and say
//! what was merged.

use crate::pipeline::{count, merge_dirs};

/// Runs the subcommand.
pub fn execute(args: super::MergeArgs) -> anyhow::Result<u8> {
    let a = merge_dirs(
        &args.dirs,
        &args.out,
        &super::command_line(),
        !args.no_charts,
    )?;
    println!(
        "merged {} from {} into {}",
        count(a.runs_done, "run"),
        count(args.dirs.len() as u64, "folder"),
        args.out.display()
    );
    Ok(super::EXIT_OK)
}
