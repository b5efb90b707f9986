//! The `blastsim` binary: parse the command line and hand over to `cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = blastsim::cli::Cli::parse();
    std::process::ExitCode::from(blastsim::cli::dispatch(cli))
}
