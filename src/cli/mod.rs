//! The operator command line. Secrets never come as arguments: they are read from environment
//! variables, or asked for (without echo) when a terminal is attached.

use std::io::IsTerminal;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::{
    config::Config,
    db,
    domain::{
        apps::{self, AppSecrets},
        audit,
        numbers::{self, NewNumber},
        tenants,
        users::{self, Role},
    },
    ingest::replay,
    server,
};

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
    Tenant(TenantCommand),
    /// Manage WhatsApp business phone numbers.
    #[command(subcommand)]
    Number(NumberCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect and replay stored webhook events.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant and print its slug.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum NumberCommand {
    /// Register a phone number (META_ACCESS_TOKEN; META_APP_SECRET and META_VERIFY_TOKEN for a new app).
    Add {
        #[arg(long)]
        tenant: String,
        /// Meta App ID; the app is created on first use and reused after.
        #[arg(long)]
        app_id: String,
        #[arg(long)]
        phone_number_id: String,
        #[arg(long)]
        waba_id: String,
        /// The number as people see it, e.g. "+1 555 078 3881".
        #[arg(long)]
        display_phone: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (password from SWITCHBOARD_PASSWORD, or asked for).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: Role,
    },
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Re-apply stored events (idempotently).
    Replay {
        /// Only the events that failed.
        #[arg(long)]
        failed: bool,
    },
    /// List the newest stored events with their state.
    List {
        /// Only the events that failed.
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
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
        let cipher = config.secret_key.cipher();
        let mut tx = pool.begin().await.context("begin")?;
        match command {
            Command::Serve | Command::Migrate => {}
            Command::Tenant(TenantCommand::Create { name }) => {
                let tenant = tenants::create(&mut tx, &name).await?;
                audit::record(
                    &mut tx,
                    tenant.id,
                    None,
                    "tenant.create",
                    json!({ "name": tenant.name }),
                )
                .await?;
                println!("{}", tenant.slug);
            }
            Command::Number(NumberCommand::Add {
                tenant,
                app_id,
                phone_number_id,
                waba_id,
                display_phone,
            }) => {
                let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
                let access_token = secret("META_ACCESS_TOKEN", "Access token: ")?
                    .context("META_ACCESS_TOKEN is not set")?;
                let app_secret = secret("META_APP_SECRET", "App secret: ")?;
                let verify_token = secret("META_VERIFY_TOKEN", "Webhook verify token: ")?;
                let secrets = match (app_secret, verify_token.clone()) {
                    (Some(app_secret), Some(verify_token)) => Some(AppSecrets {
                        app_secret,
                        verify_token,
                    }),
                    (None, None) => None,
                    _ => bail!(
                        "set both META_APP_SECRET and META_VERIFY_TOKEN (or neither, to reuse the app's)"
                    ),
                };
                let app = apps::ensure(&mut tx, &cipher, tenant.id, &app_id, secrets).await?;
                let number = NewNumber {
                    tenant_id: tenant.id,
                    app_id: app,
                    phone_number_id: &phone_number_id,
                    waba_id: &waba_id,
                    display_phone_number: display_phone.as_deref(),
                    access_token,
                };
                numbers::add(&mut tx, &cipher, number).await?;
                let details = json!({ "phone_number_id": phone_number_id, "waba_id": waba_id, "app_id": app_id });
                audit::record(&mut tx, tenant.id, None, "number.add", details).await?;
                println!(
                    "Registered phone number {phone_number_id} for {}.",
                    tenant.slug
                );
                println!(
                    "Webhook callback URL: {}/webhooks/whatsapp/{app_id}",
                    config.public_url
                );
                match verify_token {
                    Some(token) => println!("Verify token: {}", token.expose_secret()),
                    None => println!(
                        "Verify token: unchanged (the one given when app {app_id} was added)"
                    ),
                }
            }
            Command::User(UserCommand::Create {
                tenant,
                email,
                role,
            }) => {
                let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
                let password = secret("SWITCHBOARD_PASSWORD", "Password: ")?
                    .context("SWITCHBOARD_PASSWORD is not set")?;
                let user_id = users::create(&mut tx, tenant.id, &email, role, &password).await?;
                let details = json!({ "user_id": user_id, "email": email, "role": role.as_str() });
                audit::record(&mut tx, tenant.id, None, "user.create", details).await?;
                println!("Created {} {email} in {}.", role.as_str(), tenant.slug);
            }
            Command::Webhooks(WebhooksCommand::Replay { failed }) => {
                let (count, states) = replay::replay(&pool, failed).await?;
                let summary: Vec<String> = states
                    .iter()
                    .map(|(state, n)| format!("{n} {state}"))
                    .collect();
                println!("Replayed {count} event(s): {}", summary.join(", "));
            }
            Command::Webhooks(WebhooksCommand::List { failed, limit }) => {
                for event in replay::list(&pool, failed, limit).await? {
                    println!("{event}");
                }
            }
        }
        tx.commit().await.context("commit")?;
        Ok(())
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
