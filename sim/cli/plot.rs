//! `blastsim plot`.

/// Runs the subcommand.
pub fn execute(args: super::PlotArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("'blastsim plot' is not built yet: it needs the model, which has not landed")
}
