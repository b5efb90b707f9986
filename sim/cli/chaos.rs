//! `blastsim chaos`.

/// Runs the subcommand.
pub fn execute(args: super::ChaosArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("'blastsim chaos' is not built yet: it needs the model, which has not landed")
}
