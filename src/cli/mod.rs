//! The operator command line. Secrets never come as arguments: they are read from environment
//! variables, or asked for (without echo) when a terminal is attached.

mod admin;
mod apikeys;
mod contacts;
mod dev;
mod sandbox;
mod secrets;
mod send;
mod webhooks;

use std::io::IsTerminal;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::{config::Config, db, server};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Shared WhatsApp inbox for support teams"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP and run the background workers (the default).
    Serve,
    /// Create the database if needed, apply migrations, and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(admin::TenantCommand),
    /// Manage WhatsApp business phone numbers.
    #[command(subcommand)]
    Number(admin::NumberCommand),
    /// Look up customers.
    #[command(subcommand)]
    Contact(contacts::ContactCommand),
    /// Manage users.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Manage the API keys programs call the Meta-compatible endpoint with.
    #[command(subcommand)]
    Apikey(apikeys::ApiKeyCommand),
    /// Manage message templates.
    #[command(subcommand)]
    Templates(admin::TemplatesCommand),
    /// Inspect and replay stored webhook events.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Try Switchboard without Meta: sandbox numbers and their pretend customers.
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
    /// Manage the keys that seal stored secrets.
    #[command(subcommand)]
    Secrets(secrets::SecretsCommand),
    /// Send a message through the send path, as an agent would (needs `switchboard serve` running).
    Send(send::SendArgs),
    /// Send a failed or unconfirmed message again (needs `switchboard serve` running).
    Retry(send::RetryArgs),
    /// Development tools: seeding a tenant with realistic data at scale.
    #[command(subcommand)]
    Dev(dev::DevCommand),
}

impl Cli {
    /// Runs the chosen command.
    pub async fn run(self, config: Config) -> anyhow::Result<()> {
        let command = self.command.unwrap_or(Command::Serve);
        if let Command::Serve = command {
            return server::serve(config).await;
        }
        let pool = db::connect(&config.database_url).await?;
        db::migrate(&pool).await?;
        match command {
            Command::Serve | Command::Migrate => Ok(()),
            Command::Tenant(command) => command.run(&pool).await,
            Command::Number(command) => command.run(&pool, &config).await,
            Command::Contact(command) => command.run(&pool).await,
            Command::User(command) => command.run(&pool).await,
            Command::Apikey(command) => command.run(&pool).await,
            Command::Templates(command) => command.run(&pool, &config).await,
            Command::Webhooks(command) => command.run(&pool).await,
            Command::Sandbox(command) => command.run(&pool, &config).await,
            Command::Secrets(command) => command.run(&pool, &config).await,
            Command::Send(args) => args.run(&pool).await,
            Command::Retry(args) => args.run(&pool).await,
            Command::Dev(command) => command.run(&pool, &config).await,
        }
    }
}

/// A secret from the environment, or asked for on a terminal; `None` when neither is available.
fn secret(var: &str, prompt: &str) -> anyhow::Result<Option<SecretString>> {
    if let Some(value) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
        return Ok(Some(value.into()));
    }
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let value = rpassword::prompt_password(prompt).with_context(|| format!("read {var}"))?;
    Ok((!value.is_empty()).then(|| value.into()))
}
