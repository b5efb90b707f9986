//! `blastsim run`.

/// Runs the subcommand.
pub fn execute(args: super::RunArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("'blastsim run' is not built yet: it needs the model, which has not landed")
}
