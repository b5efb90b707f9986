//! `blastsim schema`.

/// Runs the subcommand.
pub fn execute() -> anyhow::Result<u8> {
    anyhow::bail!("'blastsim schema' is not built yet: it needs the model, which has not landed")
}
