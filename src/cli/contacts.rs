//! `switchboard contact show`: a customer as an agent sees them — name, marketing opt-out, and where
//! the 24-hour window stands. `switchboard contact erase`: erases a customer at their request
//! (see `domain::erasure`), as an admin can from the console.

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use sqlx::PgPool;

use crate::{
    domain::{conversations, erasure, numbers},
    whatsapp::customer_id::CustomerId,
    window::{Closure, Window},
};

#[derive(Subcommand)]
pub enum ContactCommand {
    /// Show a customer of a number.
    Show {
        /// The business number's phone number id.
        #[arg(long)]
        number: String,
        /// The customer's phone number (with its country code) or business-scoped user id.
        #[arg(long, visible_alias = "customer", value_parser = CustomerId::parse)]
        phone: CustomerId,
    },
    /// Erase a customer of a number's tenant at their request: their number, name and messages,
    /// in every conversation with the tenant's numbers. Cannot be undone.
    Erase {
        /// A business number of the tenant (its phone number id).
        #[arg(long)]
        number: String,
        /// The customer's phone number (with its country code) or business-scoped user id.
        #[arg(long, visible_alias = "customer", value_parser = CustomerId::parse)]
        phone: CustomerId,
        /// Confirms that the customer asked for it and that it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

impl ContactCommand {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        match self {
            Self::Show { number, phone } => show(pool, &number, &phone).await,
            Self::Erase { number, phone, yes } => erase(pool, &number, &phone, yes).await,
        }
    }
}

async fn erase(pool: &PgPool, number: &str, phone: &CustomerId, yes: bool) -> anyhow::Result<()> {
    if !yes {
        bail!("erasing {phone} cannot be undone: run again with --yes to confirm");
    }
    let mut tx = pool.begin().await.context("begin")?;
    let route = numbers::route_by_phone_number_id(&mut tx, number)
        .await?
        .with_context(|| format!("unknown phone number id {number}"))?;
    let contact = erasure::find(&mut tx, route.tenant_id, phone)
        .await?
        .with_context(|| format!("no customer {phone} in {number}'s workspace"))?;
    let erased = erasure::erase(&mut tx, route.tenant_id, None, contact)
        .await?
        .context("the customer vanished meanwhile")?;
    tx.commit().await.context("commit")?;
    println!(
        "Erased {phone}: {} conversation(s), {} message(s), {} raw webhook event(s).",
        erased.conversations, erased.messages, erased.webhook_events
    );
    Ok(())
}

async fn show(pool: &PgPool, number: &str, phone: &CustomerId) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await.context("acquire connection")?;
    let route = numbers::route_by_phone_number_id(&mut conn, number)
        .await?
        .with_context(|| format!("unknown phone number id {number}"))?;
    let contact =
        conversations::contact_view(&mut conn, route.tenant_id, route.number_id, phone).await?;
    let Some(contact) = contact else {
        println!("No conversation with {phone} on {number} yet.");
        return Ok(());
    };
    let name = contact
        .profile_name
        .as_deref()
        .unwrap_or("(no profile name)");
    let id = contact.wa_id.as_deref().or(contact.user_id.as_deref());
    println!("{name}, WhatsApp {}", id.unwrap_or("?"));
    match contact.opted_out_at {
        Some(at) => println!(
            "Marketing: opted out on {} (no marketing templates)",
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => println!("Marketing: subscribed"),
    }
    let window = Window::at(
        contact.last_customer_message_at,
        contact.window_closed_by_meta_at,
        Utc::now(),
    );
    match window {
        Window::Open { closes_at } => {
            println!(
                "Window: open until {} (free-form messages allowed)",
                closes_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        Window::Closed { since, reason } => {
            let why = match reason {
                Closure::Expired => "templates only",
                Closure::RefusedByMeta => "WhatsApp refused a message; templates only",
            };
            println!(
                "Window: closed since {} ({why})",
                since.format("%Y-%m-%d %H:%M UTC")
            );
        }
        Window::NeverOpened => {
            println!("Window: never opened, the customer has not written (templates only)")
        }
    }
    println!(
        "Conversation: {}, {} unread",
        contact.status, contact.unread_count
    );
    Ok(())
}
