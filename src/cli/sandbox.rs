//! `switchboard sandbox …`: a number whose customer you play, so the whole loop works without Meta.
//! Only while the sandbox is on (`SANDBOX`); otherwise each command says so and does nothing.

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use sqlx::PgPool;

use crate::{
    config::{Config, Environment},
    domain::{numbers, tenants},
    sandbox::{
        customer::{self, CustomerMessage},
        provision, queue_fault,
    },
};

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Create a sandbox number (with sample approved templates) for a tenant.
    Create {
        #[arg(long)]
        tenant: String,
    },
    /// Write to a sandbox number as its customer (needs `switchboard serve` running).
    Say {
        /// The sandbox number's phone number id (printed by `sandbox create`).
        #[arg(long)]
        number: String,
        /// The customer's phone number.
        #[arg(long)]
        from: String,
        /// The customer's WhatsApp profile name.
        #[arg(long, default_value = "Sandbox Customer")]
        name: String,
        /// Date the message this many hours back (e.g. 25 to see a closed window).
        #[arg(long, default_value_t = 0)]
        hours_ago: i64,
        text: String,
    },
    /// Make the sandbox's next send from a number fail with a Meta error code (e.g. 131026).
    FailNext {
        #[arg(long)]
        number: String,
        #[arg(long)]
        code: i64,
    },
}

impl SandboxCommand {
    pub async fn run(self, pool: &PgPool, config: &Config) -> anyhow::Result<()> {
        if !config.sandbox {
            let default = match config.environment {
                Environment::Production => " (the default when SWITCHBOARD_ENV=production)",
                Environment::Development => "",
            };
            bail!(
                "the sandbox is off: SANDBOX=off{default}. Set SANDBOX=on for this command and \
                 for `switchboard serve` to use sandbox numbers."
            );
        }
        let cipher = config.cipher();
        let mut tx = pool.begin().await.context("begin")?;
        match self {
            Self::Create { tenant } => {
                let tenant = tenants::get_by_slug(&mut tx, &tenant).await?;
                let number = provision::create_number(&mut tx, &cipher, tenant.id, None).await?;
                println!(
                    "Sandbox number {} ({})",
                    number.phone_number_id, number.display_phone_number
                );
                println!(
                    "Play its customer:  switchboard sandbox say --number {} --from +15550001111 \"Hi!\"",
                    number.phone_number_id
                );
            }
            Self::Say {
                number,
                from,
                name,
                hours_ago,
                text,
            } => {
                let message = CustomerMessage {
                    phone_number_id: &number,
                    from: &from,
                    profile_name: &name,
                    text: &text,
                    sent_at: Utc::now() - chrono::Duration::hours(hours_ago),
                };
                let wamid =
                    customer::say(&mut tx, &cipher, &config.internal_url(), &message).await?;
                println!("{wamid}");
            }
            Self::FailNext { number, code } => {
                let route = numbers::route_by_phone_number_id(&mut tx, &number)
                    .await?
                    .with_context(|| format!("unknown phone number id {number}"))?;
                queue_fault(&mut tx, route.number_id, code).await?;
                println!("The next send from {number} will fail with error {code}.");
            }
        }
        tx.commit().await.context("commit")
    }
}
