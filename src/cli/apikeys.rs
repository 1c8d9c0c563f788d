//! `switchboard apikey`: the keys programs call the Meta-compatible endpoint with. A new key is
//! printed once; afterwards only its first characters are shown.

use anyhow::{Context, bail};
use clap::Subcommand;
use sqlx::PgPool;

use crate::domain::{
    api_keys::{self, DEFAULT_RATE},
    ids::ApiKeyId,
    tenants,
};

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (once).
    Create {
        #[arg(long)]
        tenant: String,
        /// What the key is for; the inbox shows it as the sender of its messages.
        #[arg(long)]
        name: String,
        /// Limit the key to this number (Meta's phone_number_id); repeat for several. All of the
        /// tenant's numbers when left out.
        #[arg(long = "number")]
        numbers: Vec<String>,
        /// Requests a second the key may make.
        #[arg(long, default_value_t = DEFAULT_RATE)]
        rate: i32,
    },
    /// List the tenant's keys.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key at once.
    Revoke {
        #[arg(long)]
        tenant: String,
        /// The key's id, as `list` shows it.
        id: i64,
    },
}

impl ApiKeyCommand {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let mut conn = pool.acquire().await.context("acquire connection")?;
        match self {
            Self::Create {
                tenant,
                name,
                numbers,
                rate,
            } => {
                let tenant = tenants::get_by_slug(&mut conn, &tenant).await?;
                let key = match api_keys::create(&mut conn, tenant.id, None, &name, &numbers, rate)
                    .await?
                {
                    Ok(key) => key,
                    Err(refused) => bail!("{refused}"),
                };
                println!("Created API key {} ({name}) for {}.", key.id, tenant.slug);
                println!(
                    "Keep it now; it is not shown again:\n\n    {}\n",
                    key.secret
                );
            }
            Self::List { tenant } => {
                let tenant = tenants::get_by_slug(&mut conn, &tenant).await?;
                for key in api_keys::list(&mut conn, tenant.id).await? {
                    let numbers = if key.numbers.is_empty() {
                        "all numbers".to_owned()
                    } else {
                        key.numbers.join(", ")
                    };
                    let state = match (key.revoked_at, key.last_used_at) {
                        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                        (None, Some(at)) => format!("last used {}", at.format("%Y-%m-%d %H:%M")),
                        (None, None) => "never used".to_owned(),
                    };
                    println!(
                        "{}\t{}…\t{}\t{numbers}\t{}/s\t{state}",
                        key.id, key.prefix, key.name, key.rate_per_second
                    );
                }
            }
            Self::Revoke { tenant, id } => {
                let tenant = tenants::get_by_slug(&mut conn, &tenant).await?;
                if !api_keys::revoke(&mut conn, tenant.id, None, ApiKeyId::new(id)).await? {
                    bail!("{} has no live API key {id}", tenant.slug);
                }
                println!("Revoked API key {id}.");
            }
        }
        Ok(())
    }
}
