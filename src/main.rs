//! The `switchboard` binary: load configuration, start tracing, run the command.

use clap::Parser;
use switchboard::{cli::Cli, config::Config, telemetry};

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
