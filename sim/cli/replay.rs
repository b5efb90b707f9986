//! `blastsim replay`.

/// Runs the subcommand.
pub fn execute(args: super::ReplayArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("'blastsim replay' is not built yet: it needs the model, which has not landed")
}
