//! The `switchboard` binary: load configuration, start tracing, run the command.

use clap::Parser;
use switchboard::{cli::Cli, config::Config, telemetry};

/// mimalloc rather than glibc's malloc: under load (2,000 Graph sends a second) glibc's
/// `_int_malloc`, `free` and their chunk consolidation took a third of the server's CPU
/// (docs/benchmarks.md, "Integrators").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dotenvy::dotenv().ok();
    telemetry::init();
    let cli = Cli::parse();
    let result = match Config::from_env() {
        Ok(config) => cli.run(config).await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
