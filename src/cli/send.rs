//! `switchboard send` and `switchboard retry`: the send path from a terminal, as an agent would use it — refusals explained,
//! templates offered when the window is closed, and the delivery ticks followed as they arrive.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use rand::Rng;
use sqlx::PgPool;

use crate::{
    domain::{
        ids::{MessageId, TenantId},
        messages::{self, MessageStatus, SentBy},
        numbers,
        templates::{self, TemplateCategory},
    },
    outbox::send::{SendError, SendRefused, SendRequest, SendService, SendTo},
    whatsapp::{customer_id::CustomerId, outbound::Outbound, template_values::TemplateValues},
    window::SystemClock,
};

#[derive(Args)]
#[command(group(ArgGroup::new("content").required(true).args(["text", "template"])))]
pub struct SendArgs {
    /// The sending number's phone number id.
    #[arg(long)]
    number: String,
    /// The customer's phone number (with its country code) or business-scoped user id.
    #[arg(long, value_parser = CustomerId::parse)]
    to: CustomerId,
    /// Free-form text (only inside the 24-hour window).
    #[arg(long)]
    text: Option<String>,
    /// An approved template's name.
    #[arg(long)]
    template: Option<String>,
    #[arg(long, default_value = "en_US", requires = "template")]
    language: String,
    /// A body variable, in order (`--var Ana --var "#1042"`), or `name=value` for named templates.
    #[arg(long = "var", requires = "template")]
    vars: Vec<String>,
    /// The header's text variable.
    #[arg(long, requires = "template")]
    header_text: Option<String>,
    /// The link of the header's image, video or document.
    #[arg(long, requires = "template")]
    header_media: Option<String>,
    /// The variable part of the template's URL button.
    #[arg(long, requires = "template")]
    url_suffix: Option<String>,
    /// Reusing a key returns the message sent with it instead of sending again.
    #[arg(long)]
    key: Option<String>,
    /// How long to follow the delivery status, in seconds.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

impl SendArgs {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let mut conn = pool.acquire().await.context("acquire connection")?;
        let route = numbers::route_by_phone_number_id(&mut conn, &self.number)
            .await?
            .with_context(|| format!("unknown phone number id {}", self.number))?;
        let tenant_id = route.tenant_id;
        let waba_id = numbers::waba_of(&mut conn, tenant_id, route.number_id).await?;
        let content = match (self.text, self.template) {
            (Some(body), _) => Outbound::Text {
                body,
                preview_url: false,
            },
            (None, Some(name)) => {
                let template =
                    templates::find(&mut conn, tenant_id, &waba_id, &name, &self.language)
                        .await?
                        .with_context(|| {
                            format!("no template {name:?} in {} for this number", self.language)
                        })?;
                let values = TemplateValues {
                    body: self.vars,
                    header_text: self.header_text,
                    header_media: self.header_media,
                    url_suffix: self.url_suffix,
                };
                Outbound::Template {
                    components: values.components(&template.definition()),
                    name,
                    language: self.language,
                }
            }
            (None, None) => bail!("give --text or --template"),
        };
        drop(conn);
        let key = self
            .key
            .unwrap_or_else(|| format!("cli-{:016x}", rand::thread_rng().r#gen::<u64>()));
        let request = SendRequest {
            to: SendTo::Customer {
                phone_number_id: self.number,
                customer: self.to,
                numbers: None,
            },
            content,
            reply_to: None,
            idempotency_key: key,
            sent_by: SentBy::Operator,
        };
        let queued = match service(pool).send(tenant_id, request).await {
            Ok(queued) => queued,
            Err(SendError::Refused(refused)) => bail!(explain_refusal(&refused)),
            Err(SendError::Internal(error)) => return Err(error),
        };
        if queued.duplicate {
            println!(
                "Already sent with this key as message {}.",
                queued.message_id
            );
        } else {
            println!("Queued message {}.", queued.message_id);
        }
        follow(
            pool,
            tenant_id,
            queued.message_id,
            Duration::from_secs(self.wait),
        )
        .await
    }
}

/// The send service as the operator uses it: on the real clock.
fn service(pool: &PgPool) -> SendService {
    SendService::new(pool.clone(), Arc::new(SystemClock))
}

/// `switchboard retry`: sends a failed or unconfirmed message again.
#[derive(Args)]
pub struct RetryArgs {
    /// The message's id, as `switchboard send` printed it.
    #[arg(long)]
    message: MessageId,
    /// How long to follow the delivery status, in seconds.
    #[arg(long, default_value_t = 10)]
    wait: u64,
}

impl RetryArgs {
    pub async fn run(self, pool: &PgPool) -> anyhow::Result<()> {
        let mut conn = pool.acquire().await.context("acquire connection")?;
        let tenant_id = messages::operator_tenant_of(&mut conn, self.message)
            .await?
            .with_context(|| format!("there is no message {}", self.message))?;
        drop(conn);
        let retried = service(pool)
            .retry(tenant_id, self.message, SentBy::Operator)
            .await;
        match retried {
            Ok(()) => println!("Queued message {} again.", self.message),
            Err(SendError::Refused(refused)) => bail!(explain_refusal(&refused)),
            Err(SendError::Internal(error)) => return Err(error),
        }
        follow(
            pool,
            tenant_id,
            self.message,
            Duration::from_secs(self.wait),
        )
        .await
    }
}

/// The refusal in an agent's words, with the templates to use instead.
fn explain_refusal(refused: &SendRefused) -> String {
    let mut text = refused.to_string();
    let templates = refused.templates();
    if !templates.is_empty() {
        text.push_str("\nApproved templates you can send instead:");
        for template in templates {
            let variables: Vec<String> =
                template.variables.iter().map(ToString::to_string).collect();
            let category = template
                .category
                .map_or("uncategorized", TemplateCategory::as_str);
            text.push_str(&format!(
                "\n  --template {} --language {}  ({category})",
                template.name, template.language
            ));
            if !variables.is_empty() {
                text.push_str(&format!("  variables: {}", variables.join(", ")));
            }
        }
    }
    text
}

/// Prints each status the message reaches until it is read or failed, or `wait` is over.
async fn follow(
    pool: &PgPool,
    tenant_id: TenantId,
    message_id: MessageId,
    wait: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut last = None;
    loop {
        let row = sqlx::query!(
            r#"select status as "status: MessageStatus", error_title, error_message from messages
               where tenant_id = $1 and id = $2"#,
            tenant_id as TenantId,
            message_id as MessageId
        )
        .fetch_one(pool)
        .await
        .context("read message status")?;
        if last != Some(row.status) {
            if !say(row.status.as_str()) {
                return Ok(());
            }
            last = Some(row.status);
        }
        match row.status {
            MessageStatus::Read | MessageStatus::Played => return Ok(()),
            MessageStatus::Failed | MessageStatus::Unknown => bail!(
                "{}: {}",
                row.error_title.unwrap_or_default(),
                row.error_message.unwrap_or_default()
            ),
            _ if tokio::time::Instant::now() >= deadline => {
                if last == Some(MessageStatus::Queued) {
                    say("(still queued: is `switchboard serve` running?)");
                }
                return Ok(());
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Prints `line`; `false` once nothing reads the output any more (`| head -2`), where `println!`
/// would panic: following the message then stops.
fn say(line: &str) -> bool {
    use std::io::Write;
    writeln!(std::io::stdout(), "{line}").is_ok()
}
