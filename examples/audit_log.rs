//! Writes an audit log to stdout, deterministic from a fixed seed.
//!
//! - `cargo run --example audit_log > examples/audit/claude-code-hooks.jsonl`: the shipped
//!   example, Claude Code hook events of a small team's week on DeathStarBench
//!   socialNetwork.
//! - `cargo run --release --example audit_log -- --scale 10000000 > big.jsonl`: a large
//!   generic-schema log (one action per line, 50 agents) for speed and memory measurements
//!   with `scenarios/audit/scale.toml`.

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.as_slice() {
        [] => {
            blastsim::audit::synth::claude_code_example(2026, 20, &mut out)?;
        }
        [flag, n] if flag == "--scale" => {
            let n: u64 = n
                .parse()
                .map_err(|_| std::io::Error::other(format!("--scale takes a count, got {n:?}")))?;
            blastsim::audit::synth::generic_scale(n, 50, &mut out)?;
        }
        _ => {
            eprintln!("usage: audit_log [--scale N]");
            std::process::exit(2);
        }
    }
    Ok(())
}
