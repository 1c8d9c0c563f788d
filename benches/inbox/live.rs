//! Live updates under load: `clients` Server-Sent Event streams held open by a signed-in agent,
//! then signed webhooks posted one at a time (each a new customer's message); for each, how long
//! after its 200 every stream received the change. Also the server's memory with the streams open.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use reqwest::{Client, StatusCode, header};
use tokio::{sync::mpsc, task::JoinSet};

use crate::payload::Event;

/// A stream received a change event.
struct Received {
    stream: usize,
    at: Instant,
}

/// The open streams.
pub struct Streams {
    client: Client,
    base_url: String,
    cookie: String,
    tasks: JoinSet<()>,
    tx: mpsc::UnboundedSender<Received>,
    received: mpsc::UnboundedReceiver<Received>,
    pub count: usize,
}

impl Streams {
    pub fn new(base_url: &str, cookie: &str) -> anyhow::Result<Self> {
        let client = Client::builder()
            .no_proxy()
            .build()
            .context("build an HTTP client")?;
        let (tx, received) = mpsc::unbounded_channel();
        Ok(Self {
            client,
            base_url: base_url.to_owned(),
            cookie: cookie.to_owned(),
            tasks: JoinSet::new(),
            tx,
            received,
            count: 0,
        })
    }

    /// Opens streams until there are `total`.
    pub async fn grow_to(&mut self, total: usize) -> anyhow::Result<()> {
        while self.count < total {
            let mut response = self
                .client
                .get(format!("{}/inbox/events", self.base_url))
                .header(header::COOKIE, &self.cookie)
                .header(header::ACCEPT, "text/event-stream")
                .send()
                .await
                .context("open an event stream")?;
            ensure!(
                response.status() == StatusCode::OK,
                "/inbox/events answered {}",
                response.status()
            );
            let (tx, stream) = (self.tx.clone(), self.count);
            self.tasks.spawn(async move {
                while let Ok(Some(chunk)) = response.chunk().await {
                    let at = Instant::now();
                    let text = String::from_utf8_lossy(&chunk);
                    for _ in text.matches("event: change") {
                        if tx.send(Received { stream, at }).is_err() {
                            return;
                        }
                    }
                }
            });
            self.count += 1;
        }
        Ok(())
    }

    /// Posts each webhook, `pause` apart, and waits until every stream has received a change
    /// after it; returns every stream's delay after each webhook's 200 (0 when the change came
    /// first), sorted.
    pub async fn deliver(
        &mut self,
        webhook_url: &str,
        events: &[Event],
        pause: Duration,
    ) -> anyhow::Result<Vec<Duration>> {
        let mut delays = Vec::with_capacity(events.len() * self.count);
        for event in events {
            tokio::time::sleep(pause).await;
            // Anything received before this webhook belongs to an earlier one.
            while self.received.try_recv().is_ok() {}
            let answer = self
                .client
                .post(webhook_url)
                .header(header::CONTENT_TYPE, "application/json")
                .header("X-Hub-Signature-256", &event.signature)
                .body(event.body.clone())
                .send()
                .await
                .context("post a webhook")?;
            let accepted = Instant::now();
            ensure!(
                answer.status() == StatusCode::OK,
                "the webhook answered {}",
                answer.status()
            );
            // A message may announce several changes: each stream's first counts.
            let deadline = accepted + Duration::from_secs(10);
            let mut firsts: Vec<Option<Duration>> = vec![None; self.count];
            let mut heard = 0;
            while heard < self.count {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, self.received.recv()).await {
                    Ok(Some(received)) => {
                        if let Some(first @ None) = firsts.get_mut(received.stream) {
                            *first = Some(received.at.saturating_duration_since(accepted));
                            heard += 1;
                        }
                    }
                    Ok(None) => bail!("the event streams ended"),
                    Err(_) => bail!(
                        "only {heard} of {} streams heard of the webhook within 10 s",
                        self.count
                    ),
                }
            }
            delays.extend(firsts.into_iter().flatten());
        }
        delays.sort_unstable();
        Ok(delays)
    }

    pub fn close(mut self) {
        self.tasks.abort_all();
    }
}
