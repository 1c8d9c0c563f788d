//! One statement for the requests that arrive together. A statement's fixed cost in PostgreSQL
//! (the round trip, executor start-up, triggers, the commit) is most of what a small one costs, so
//! at an API's rate, one statement per request is most of the database's time
//! (docs/benchmarks.md, "Integrators"). A [`Batcher`] hands whatever requests are waiting, up to a
//! limit, to one call of its handler, and each caller gets its own answer back. One batch runs at
//! a time: while it runs, the next one gathers. A lone request waits for nothing; while requests
//! keep coming, each batch waits a moment for more ([`gather`]).

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::anyhow;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

/// Takes the next batch from `received` into `batch`: what is waiting, up to `max`; when the
/// batch before was taken less than `window` ago (requests keep coming), after waiting `window`
/// for more. Fewer, larger statements then leave the database's time to the requests themselves.
/// Returns 0 once every sender is gone and nothing is left.
pub async fn gather<T>(
    received: &mut mpsc::Receiver<T>,
    batch: &mut Vec<T>,
    max: usize,
    window: Duration,
    last: &mut Option<Instant>,
) -> usize {
    if received.recv_many(batch, max).await == 0 {
        return 0;
    }
    if last.is_some_and(|at| at.elapsed() < window) && batch.len() < max {
        tokio::time::sleep(window).await;
        while batch.len() < max {
            match received.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
    }
    *last = Some(Instant::now());
    batch.len()
}

/// Hands inputs to the batching task; cheap to clone. The task stops when every clone is gone.
pub struct Batcher<In, Out> {
    requests: mpsc::Sender<(In, oneshot::Sender<Out>)>,
}

impl<In, Out> Clone for Batcher<In, Out> {
    fn clone(&self) -> Self {
        Self {
            requests: self.requests.clone(),
        }
    }
}

impl<In: Send + 'static, Out: Send + 'static> Batcher<In, Out> {
    /// Starts the task (on the current Tokio runtime) that calls `handle` with up to `max` inputs
    /// at a time, gathered as [`gather`] does with `window`; `handle` answers each input, in order.
    pub fn start<H, F>(max: usize, window: Duration, handle: H) -> Self
    where
        H: Fn(Vec<In>) -> F + Send + 'static,
        F: Future<Output = Vec<Out>> + Send,
    {
        let (requests, mut received) = mpsc::channel::<(In, oneshot::Sender<Out>)>(4 * max);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max);
            let mut last = None;
            while gather(&mut received, &mut batch, max, window, &mut last).await > 0 {
                let (inputs, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                for (reply, output) in replies.into_iter().zip(handle(inputs).await) {
                    // The caller may have gone (a closed request); nothing is lost for it.
                    let _ = reply.send(output);
                }
            }
        });
        Self { requests }
    }

    /// The answer to `input`, from the batch it joins.
    pub async fn call(&self, input: In) -> anyhow::Result<Out> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send((input, reply))
            .await
            .map_err(|_| anyhow!("the batching task has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow!("the batching task stopped before answering"))
    }
}

/// An answer, or the error of the batch it was in (every caller of a failed batch gets it).
pub type Shared<T> = Result<T, Arc<anyhow::Error>>;

impl<In: Send + 'static, Out: Send + 'static> Batcher<In, Shared<Out>> {
    /// [`Batcher::start`] for a handler that answers a whole batch or fails it: each caller of a
    /// failed batch gets the batch's error.
    pub fn start_fallible<H, F>(max: usize, window: Duration, handle: H) -> Self
    where
        H: Fn(Vec<In>) -> F + Send + 'static,
        F: Future<Output = anyhow::Result<Vec<Out>>> + Send,
    {
        Self::start(max, window, move |inputs: Vec<In>| {
            let count = inputs.len();
            let answered = handle(inputs);
            async move {
                match answered.await {
                    Ok(outputs) => outputs.into_iter().map(Ok).collect(),
                    Err(error) => {
                        let error = Arc::new(error);
                        (0..count).map(|_| Err(Arc::clone(&error))).collect()
                    }
                }
            }
        })
    }

    /// The answer to `input`, or the error of its batch.
    pub async fn try_call(&self, input: In) -> anyhow::Result<Out> {
        self.call(input)
            .await?
            .map_err(|error| anyhow!("{error:#}"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn each_caller_gets_its_own_answer_from_batches_of_what_waited() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&sizes);
        let batcher = Batcher::start(4, Duration::ZERO, move |inputs: Vec<u32>| {
            seen.lock().map(|mut s| s.push(inputs.len())).ok();
            async move {
                tokio::task::yield_now().await;
                inputs.into_iter().map(|i| i * 10).collect::<Vec<_>>()
            }
        });
        let calls: Vec<_> = (0..10)
            .map(|i| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.call(i).await })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.expect("joined").expect("answered"));
        }
        assert_eq!(answers, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        let sizes = sizes.lock().expect("sizes").clone();
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|&size| size <= 4), "{sizes:?}");
        assert!(
            sizes.len() < 10,
            "the waiting calls were batched: {sizes:?}"
        );
    }

    #[tokio::test]
    async fn while_requests_keep_coming_a_batch_waits_for_more() {
        let window = Duration::from_millis(200);
        let (sender, mut received) = mpsc::channel(16);
        let (mut batch, mut last) = (Vec::new(), None);
        sender.send(1).await.expect("sent");
        assert_eq!(
            gather(&mut received, &mut batch, 8, window, &mut last).await,
            1
        );
        batch.clear();
        sender.send(2).await.expect("sent");
        let later = sender.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            later.send(3).await.expect("sent");
        });
        assert_eq!(
            gather(&mut received, &mut batch, 8, window, &mut last).await,
            2
        );
        assert_eq!(batch, [2, 3]);
        batch.clear();
        tokio::time::sleep(window).await;
        sender.send(4).await.expect("sent");
        let started = Instant::now();
        assert_eq!(
            gather(&mut received, &mut batch, 8, window, &mut last).await,
            1
        );
        assert!(
            started.elapsed() < window / 2,
            "a request after a quiet spell waits for nothing"
        );
    }

    #[tokio::test]
    async fn every_caller_of_a_failed_batch_gets_its_error() {
        let batcher = Batcher::start_fallible(8, Duration::ZERO, |inputs: Vec<u32>| async move {
            if inputs.contains(&0) {
                anyhow::bail!("no zero here");
            }
            Ok(inputs)
        });
        assert_eq!(batcher.try_call(7).await.expect("answered"), 7);
        let error = batcher.try_call(0).await.expect_err("failed");
        assert!(error.to_string().contains("no zero here"), "{error:#}");
    }

    #[tokio::test]
    async fn a_batch_answered_short_fails_the_callers_left_over() {
        let batcher = Batcher::start(8, Duration::ZERO, |_: Vec<u32>| async { Vec::<u32>::new() });
        assert!(batcher.call(1).await.is_err());
    }
}
