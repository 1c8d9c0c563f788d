//! The requests measured: each scenario is one kind of page an agent loads (or a reply they send),
//! asked for `requests` times by `concurrency` signed-in agents, timed from the request to the
//! last byte of the answer.

use std::time::Duration;

use anyhow::{Context, ensure};
use futures::future::try_join_all;
use reqwest::StatusCode;

use crate::{agent::Agent, fixture::Fixture};

/// One kind of request and the goal for its p99.
pub struct Scenario {
    pub name: &'static str,
    pub goal_ms: u64,
    request: fn(&Fixture, usize) -> Request,
}

pub enum Request {
    Get(String),
    /// A reply: POST the composer's form to the conversation.
    Reply(i64),
}

/// Everything the benchmark measures, in the order it runs them.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "list: All (open)",
            goal_ms: 20,
            request: |_, _| Request::Get("/inbox".into()),
        },
        Scenario {
            name: "list: Mine",
            goal_ms: 20,
            request: |_, _| Request::Get("/inbox?view=mine".into()),
        },
        Scenario {
            name: "list: Unassigned",
            goal_ms: 20,
            request: |_, _| Request::Get("/inbox?view=unassigned".into()),
        },
        Scenario {
            name: "list: Closing soon",
            goal_ms: 20,
            request: |_, _| Request::Get("/inbox?view=closing".into()),
        },
        Scenario {
            name: "list: All, resolved",
            goal_ms: 20,
            request: |_, _| Request::Get("/inbox?status=resolved".into()),
        },
        Scenario {
            name: "list: All, one number",
            goal_ms: 20,
            request: |f, _| Request::Get(format!("/inbox?number={}", f.number)),
        },
        Scenario {
            name: "list: All, one label",
            goal_ms: 20,
            request: |f, _| Request::Get(format!("/inbox?label={}", f.label)),
        },
        Scenario {
            name: "list: Mine, pending, one number",
            goal_ms: 20,
            request: |f, _| {
                Request::Get(format!(
                    "/inbox?view=mine&status=pending&number={}",
                    f.number
                ))
            },
        },
        Scenario {
            name: "list: All, 20th page",
            goal_ms: 20,
            request: |f, _| Request::Get(format!("/inbox?after={}", f.deep_cursor)),
        },
        Scenario {
            name: "thread: a conversation",
            goal_ms: 20,
            request: |f, i| {
                Request::Get(format!(
                    "/inbox/conversations/{}",
                    f.conversations[i % f.conversations.len()]
                ))
            },
        },
        Scenario {
            name: "search: a common word (refund)",
            goal_ms: 50,
            request: |_, _| Request::Get("/inbox?q=refund".into()),
        },
        Scenario {
            name: "search: a rare word (an order code)",
            goal_ms: 50,
            // The seed mentions a conversation's order as `#` and 10,000,000 + its id.
            request: |f, i| {
                let conversation = f.conversations[(i * 7919) % f.conversations.len()];
                Request::Get(format!("/inbox?q=%23{}", 10_000_000 + conversation))
            },
        },
        Scenario {
            name: "search: no match",
            goal_ms: 50,
            request: |_, i| Request::Get(format!("/inbox?q=zebra{i}")),
        },
        Scenario {
            name: "search: a common name (Nadia)",
            goal_ms: 50,
            request: |_, _| Request::Get("/inbox?q=Nadia".into()),
        },
        Scenario {
            name: "search: a full name (Nadia Sato)",
            goal_ms: 50,
            request: |_, _| Request::Get("/inbox?q=Nadia+Sato".into()),
        },
        Scenario {
            name: "search: a customer's number",
            goal_ms: 50,
            request: |f, _| Request::Get(format!("/inbox?q=%2B{}", f.customer_number)),
        },
        Scenario {
            name: "send: a reply",
            goal_ms: 50,
            request: |f, i| Request::Reply(f.open_windows[i % f.open_windows.len()]),
        },
    ]
}

/// The admin's reports (issue 9, §4), over the days worked out before the server started: the
/// goal is a report over 10 M messages in at most a second.
pub fn reports() -> Vec<Scenario> {
    fn period(days: u64) -> String {
        let today = chrono::Utc::now().date_naive();
        let from = today - chrono::Days::new(days - 1);
        format!("from={from}&to={today}")
    }
    vec![
        Scenario {
            name: "report: last 30 days",
            goal_ms: 1000,
            request: |_, _| Request::Get(format!("/admin/reports?{}", period(30))),
        },
        Scenario {
            name: "report: last 30 days, one number",
            goal_ms: 1000,
            request: |f, _| {
                Request::Get(format!("/admin/reports?{}&number={}", period(30), f.number))
            },
        },
        Scenario {
            name: "report: last 365 days",
            goal_ms: 1000,
            request: |_, _| Request::Get(format!("/admin/reports?{}", period(365))),
        },
        Scenario {
            name: "report CSV: 365 days, by day",
            goal_ms: 1000,
            request: |_, _| {
                Request::Get(format!("/admin/reports/export?table=days&{}", period(365)))
            },
        },
    ]
}

/// The timings of one scenario.
pub struct Timings {
    pub name: &'static str,
    pub goal_ms: u64,
    /// Sorted.
    pub took: Vec<Duration>,
}

impl Timings {
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((self.took.len() as f64 * p).ceil() as usize).clamp(1, self.took.len());
        self.took[rank - 1]
    }
}

/// Which requests of a scenario a [`run`] makes.
#[derive(Clone, Copy)]
pub struct Span {
    /// Unmeasured requests first.
    pub warmup: usize,
    /// Measured requests.
    pub requests: usize,
    /// The number of the first request (a scenario run in several spans goes on where the last
    /// one stopped: other conversations, other replies).
    pub first: usize,
}

/// Runs `scenario`: `warmup` unmeasured requests, then `requests` measured ones, spread over the
/// agents (one request in flight per agent).
pub async fn run(
    scenario: &Scenario,
    agents: &mut [Agent],
    fixture: &Fixture,
    span: Span,
    run_tag: u64,
) -> anyhow::Result<Timings> {
    let Span {
        warmup,
        requests,
        first,
    } = span;
    let concurrency = agents.len();
    let per_agent = (warmup + requests).div_ceil(concurrency);
    let results = try_join_all(agents.iter_mut().enumerate().map(|(a, agent)| async move {
        let mut took = Vec::with_capacity(per_agent);
        for n in 0..per_agent {
            let i = first + n * concurrency + a;
            let answer = match (scenario.request)(fixture, i) {
                Request::Get(path) => {
                    let answer = agent.get(&path).await?;
                    ensure!(
                        answer.status == StatusCode::OK,
                        "GET {path}: {}",
                        answer.status
                    );
                    answer
                }
                Request::Reply(conversation) => {
                    let key = format!("bench-{run_tag}-{i}");
                    let csrf = agent.csrf.clone();
                    let path = format!("/inbox/conversations/{conversation}/messages");
                    let text = format!("Reply {i} from the benchmark");
                    let form = [
                        ("text", text.as_str()),
                        ("idempotency_key", &key),
                        ("csrf", &csrf),
                    ];
                    let answer = agent.post(&path, &form).await?;
                    ensure!(
                        answer.status == StatusCode::SEE_OTHER,
                        "POST {path}: {} {}",
                        answer.status,
                        answer.body
                    );
                    answer
                }
            };
            if i >= first + warmup {
                took.push(answer.took);
            }
        }
        anyhow::Ok(took)
    }))
    .await
    .with_context(|| format!("scenario {}", scenario.name))?;
    let mut took: Vec<Duration> = results.into_iter().flatten().collect();
    took.sort_unstable();
    ensure!(
        !took.is_empty(),
        "scenario {} measured nothing",
        scenario.name
    );
    Ok(Timings {
        name: scenario.name,
        goal_ms: scenario.goal_ms,
        took,
    })
}
