//! `switchboard webhooks …`: what Meta sent, and applying it again.

use clap::Subcommand;
use sqlx::PgPool;

use crate::ingest::replay;

#[derive(Subcommand)]
pub enum WebhooksCommand {
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

impl WebhooksCommand {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        match self {
            Self::Replay { failed } => {
                let (count, states) = replay::replay(pool, failed).await?;
                let summary: Vec<String> = states
                    .iter()
                    .map(|(state, n)| format!("{n} {state}"))
                    .collect();
                println!("Replayed {count} event(s): {}", summary.join(", "));
            }
            Self::List { failed, limit } => {
                for event in replay::list(pool, failed, limit).await? {
                    println!("{event}");
                }
            }
        }
        Ok(())
    }
}
