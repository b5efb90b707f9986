//! `blastsim merge`.

/// Runs the subcommand.
pub fn execute(args: super::MergeArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("'blastsim merge' is not built yet: it needs the model, which has not landed")
}
