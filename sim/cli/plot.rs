//! `blastsim plot DIR`: redraw the charts and the report of a results folder from its CSV
//! files and manifest alone.

/// Runs the subcommand. A folder that is not a results folder is bad input (exit 2, via
/// the error path of `dispatch`).
pub fn execute(args: super::PlotArgs) -> anyhow::Result<u8> {
    crate::report::render(&args.dir)?;
    Ok(super::EXIT_OK)
}
