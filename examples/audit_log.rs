//! Writes the shipped example audit log to stdout: Claude Code hook events of a small
//! team's week on DeathStarBench socialNetwork, deterministic from a fixed seed.
//!
//! `cargo run --example audit_log > examples/audit/claude-code-hooks.jsonl`

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    blastsim::audit::synth::claude_code_example(2026, 20, &mut out)?;
    Ok(())
}
