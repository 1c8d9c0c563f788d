//! `switchboard tenant|number|user|templates …`: setting up a tenant.

use anyhow::{Context, bail};
use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;

use super::secret;
use crate::{
    config::Config,
    domain::{
        apps::AppSecrets,
        audit,
        numbers::{self, Registration},
        templates, tenants,
        users::{self, NewUser, Role},
    },
    whatsapp::graph::GraphClient,
};

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its slug.
    Create {
        #[arg(long)]
        name: String,
    },
    /// Set the words that opt a customer out of (or back into) marketing messages.
    Keywords {
        #[arg(long)]
        tenant: String,
        /// Comma-separated, e.g. STOP,UNSUBSCRIBE,BAJA.
        #[arg(long, value_delimiter = ',')]
        opt_out: Vec<String>,
        /// Comma-separated, e.g. START,ALTA.
        #[arg(long, value_delimiter = ',')]
        opt_in: Vec<String>,
    },
    /// Set the template language offered first when a customer's language is unknown (`en` by
    /// default).
    Language {
        #[arg(long)]
        tenant: String,
        /// A template language code: `en`, `es`, `pt_BR`, …
        #[arg(long)]
        language: String,
    },
}

#[derive(Subcommand)]
pub enum NumberCommand {
    /// Register a phone number (META_ACCESS_TOKEN; META_APP_SECRET and META_VERIFY_TOKEN for a new app).
    Add(AddNumber),
    /// Set how many messages per second the number may send (80 by default; more on upgraded tiers).
    Limit {
        #[arg(long)]
        phone_number_id: String,
        #[arg(long)]
        per_second: i32,
    },
    /// Mark customers' messages read at Meta (blue ticks) when an agent opens their conversation
    /// (off by default).
    ReadReceipts {
        #[arg(long)]
        phone_number_id: String,
        #[arg(value_enum)]
        state: Switch,
    },
}

/// On or off.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(clap::Args)]
pub struct AddNumber {
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
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user (password from SWITCHBOARD_PASSWORD, or asked for).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// The name the team sees (defaults to the e-mail address's local part).
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
    },
}

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// Fetch the templates of each of the tenant's WABAs from Meta and store them.
    Sync {
        #[arg(long)]
        tenant: String,
    },
}

impl TenantCommand {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let mut tx = pool.begin().await.context("begin")?;
        match self {
            Self::Create { name } => {
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
            Self::Keywords {
                tenant,
                opt_out,
                opt_in,
            } => {
                let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
                let (opt_out, opt_in) =
                    tenants::set_keywords(&mut tx, tenant.id, None, &opt_out, &opt_in)
                        .await?
                        .map_err(|refused| anyhow::anyhow!("{refused} (--opt-out, --opt-in)"))?;
                println!(
                    "Opt-out: {}; opt-in: {}",
                    opt_out.join(", "),
                    opt_in.join(", ")
                );
            }
            Self::Language { tenant, language } => {
                let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
                tenants::set_default_language(&mut tx, tenant.id, None, &language)
                    .await?
                    .map_err(anyhow::Error::from)?;
                println!("Templates in {} are offered first.", language.trim());
            }
        }
        tx.commit().await.context("commit")
    }
}

impl NumberCommand {
    pub async fn run(self, pool: &PgPool, config: &Config) -> anyhow::Result<()> {
        match self {
            Self::Add(number) => number.run(pool, config).await,
            Self::Limit {
                phone_number_id,
                per_second,
            } => {
                if !(1..=10_000).contains(&per_second) {
                    bail!("--per-second must be between 1 and 10000");
                }
                let mut tx = pool.begin().await.context("begin")?;
                let route = numbers::route_by_phone_number_id(&mut tx, &phone_number_id)
                    .await?
                    .with_context(|| format!("unknown phone number id {phone_number_id}"))?;
                let tenant_id = route.tenant_id;
                numbers::set_rate_limit(&mut tx, tenant_id, None, route.number_id, per_second)
                    .await?;
                tx.commit().await.context("commit")?;
                println!("{phone_number_id} may now send {per_second} messages per second.");
                Ok(())
            }
            Self::ReadReceipts {
                phone_number_id,
                state,
            } => {
                let on = matches!(state, Switch::On);
                let mut tx = pool.begin().await.context("begin")?;
                let route = numbers::route_by_phone_number_id(&mut tx, &phone_number_id)
                    .await?
                    .with_context(|| format!("unknown phone number id {phone_number_id}"))?;
                let tenant_id = route.tenant_id;
                numbers::set_read_receipts(&mut tx, tenant_id, None, route.number_id, on).await?;
                tx.commit().await.context("commit")?;
                if on {
                    println!(
                        "Opening a conversation on {phone_number_id} now marks the customer's messages read at Meta."
                    );
                } else {
                    println!("{phone_number_id} no longer marks customers' messages read at Meta.");
                }
                Ok(())
            }
        }
    }
}

impl AddNumber {
    async fn run(self, pool: &PgPool, config: &Config) -> anyhow::Result<()> {
        let Self {
            tenant,
            app_id,
            phone_number_id,
            waba_id,
            display_phone,
        } = self;
        let mut tx = pool.begin().await.context("begin")?;
        let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
        let access_token = secret("META_ACCESS_TOKEN", "Access token: ")?
            .context("META_ACCESS_TOKEN is not set")?;
        let app_secret = secret("META_APP_SECRET", "App secret: ")?;
        let verify_token = secret("META_VERIFY_TOKEN", "Webhook verify token: ")?;
        let app_secrets = match (app_secret, verify_token.clone()) {
            (Some(app_secret), Some(verify_token)) => Some(AppSecrets {
                app_secret,
                verify_token,
            }),
            (None, None) => None,
            _ => bail!(
                "set both META_APP_SECRET and META_VERIFY_TOKEN (or neither, to reuse the app's)"
            ),
        };
        let registration = Registration {
            tenant_id: tenant.id,
            meta_app_id: &app_id,
            app_secrets,
            phone_number_id: &phone_number_id,
            waba_id: &waba_id,
            display_phone_number: display_phone.as_deref(),
            access_token,
            by: None,
        };
        numbers::register(&mut tx, &config.cipher(), registration).await?;
        tx.commit().await.context("commit")?;
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
            None => println!("Verify token: unchanged (the one given when app {app_id} was added)"),
        }
        Ok(())
    }
}

impl UserCommand {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let Self::Create {
            tenant,
            email,
            name,
            role,
        } = self;
        let mut tx = pool.begin().await.context("begin")?;
        let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
        let password = secret("SWITCHBOARD_PASSWORD", "Password: ")?
            .context("SWITCHBOARD_PASSWORD is not set")?;
        let user = NewUser {
            email: &email,
            name: &name,
            role,
            password: &password,
        };
        let user_id = users::create(&mut tx, tenant.id, &user).await?;
        let details = json!({ "user_id": user_id, "email": email, "role": role.as_str() });
        audit::record(&mut tx, tenant.id, None, "user.create", details).await?;
        tx.commit().await.context("commit")?;
        println!("Created {} {email} in {}.", role.as_str(), tenant.slug);
        Ok(())
    }
}

impl TemplatesCommand {
    pub async fn run(self, pool: &PgPool, config: &Config) -> anyhow::Result<()> {
        let Self::Sync { tenant } = self;
        let graph = GraphClient::new(&config.meta_api_version)?;
        let mut conn = pool.acquire().await.context("acquire connection")?;
        let tenant = tenants::get_by_slug(&mut conn, &tenant).await?;
        drop(conn);
        let synced = templates::sync(
            pool,
            &config.cipher(),
            &graph,
            &config.graph_urls(),
            tenant.id,
            |stored| async move {
                eprint!("\r{stored} template(s) stored");
                Ok(())
            },
        )
        .await?;
        eprintln!();
        for waba in synced {
            println!("WABA {}: {} template(s)", waba.waba_id, waba.templates);
        }
        Ok(())
    }
}
