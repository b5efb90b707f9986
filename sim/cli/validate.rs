//! `blastsim validate`.

/// Runs the subcommand.
pub fn execute(args: super::ValidateArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("'blastsim validate' is not built yet: it needs the model, which has not landed")
}
