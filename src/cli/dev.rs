//! `switchboard dev …`: tools for development and benchmarks, never for a production tenant.

use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;

use crate::{
    config::{Config, Environment},
    domain::users::MIN_PASSWORD_LEN,
    seed::{self, SeedPlan},
};

#[derive(Subcommand)]
pub enum DevCommand {
    /// Fill a tenant (created when missing) with sandbox numbers, agents, labels, and
    /// conversations with their messages, for trying the inbox at scale. The agents' password is
    /// read from SEED_PASSWORD, or asked for.
    Seed {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..=10_000_000))]
        conversations: i64,
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(i64).range(1..=100_000_000))]
        messages: i64,
        /// Sandbox numbers to spread the conversations over.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=100))]
        numbers: u16,
        /// Agents (agent1@… is an admin).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
        agents: u16,
    },
}

impl DevCommand {
    pub async fn run(self, db: &PgPool, config: &Config) -> anyhow::Result<()> {
        if config.environment == Environment::Production {
            bail!("`switchboard dev` is for development; SWITCHBOARD_ENV is production");
        }
        if !config.sandbox {
            bail!("seeding creates sandbox numbers: turn the sandbox on (SANDBOX=on)");
        }
        match self {
            Self::Seed {
                tenant,
                conversations,
                messages,
                numbers,
                agents,
            } => {
                let Some(password) = super::secret("SEED_PASSWORD", "Agents' password: ")? else {
                    bail!(
                        "set SEED_PASSWORD to the agents' password (at least {MIN_PASSWORD_LEN} characters)"
                    );
                };
                let plan = SeedPlan {
                    tenant,
                    conversations,
                    messages,
                    numbers: numbers.into(),
                    agents: agents.into(),
                    password,
                };
                // The conversations are written first, then their messages.
                let bar = ProgressBar::new(
                    u64::try_from(plan.conversations.saturating_add(plan.messages)).unwrap_or(0),
                );
                bar.set_style(
                    ProgressStyle::with_template(
                        "{elapsed_precise} [{wide_bar}] {msg} ({eta} left)",
                    )?
                    .progress_chars("=> "),
                );
                bar.enable_steady_tick(Duration::from_millis(500));
                let started = Instant::now();
                let seeded = seed::seed(db, &config.cipher(), &plan, |done, written| {
                    bar.set_position(u64::try_from(done.saturating_add(written)).unwrap_or(0));
                    bar.set_message(format!(
                        "{done}/{} conversations, {written}/~{} messages",
                        plan.conversations, plan.messages
                    ));
                })
                .await?;
                bar.finish_and_clear();
                println!(
                    "Seeded tenant {} with {} conversations and {} messages in {:.0?}.",
                    seeded.tenant_slug,
                    seeded.conversations,
                    seeded.messages,
                    started.elapsed()
                );
                println!(
                    "Sign in as {} (admin) or {} with the SEED_PASSWORD.",
                    seeded.agents.first().map_or("", String::as_str),
                    match seeded.agents.len() {
                        0 | 1 => "no other agent".to_owned(),
                        2 => seeded.agents[1].clone(),
                        n => format!("{} … {}", seeded.agents[1], seeded.agents[n - 1]),
                    }
                );
                Ok(())
            }
        }
    }
}
