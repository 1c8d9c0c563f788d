//! The one retry policy for in-process retries: a database write that a deadlock or a dropped
//! connection refused is tried again a moment later, a few times, before its caller falls back.
//! Retries that outlive the process (a failed send re-queued, a sandbox webhook due again) store
//! their next time in the database instead; see `outbox::record` and `sandbox::dispatcher`.

use std::time::Duration;

use backon::ExponentialBuilder;

/// Quick retries for a short database step: 3 attempts in all, waiting 100–200 ms, then
/// 200–400 ms (doubling, with jitter so that steps refused together do not retry together).
/// Use it as `(|| step(db)).retry(retry::quick()).notify(retry::warn("the step")).await`.
pub fn quick() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(100))
        .with_factor(2.0)
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(2)
        .with_jitter()
}

/// A `notify` hook that logs each failed attempt that will be retried, with what failed.
pub fn warn(what: &'static str) -> impl FnMut(&anyhow::Error, Duration) {
    move |error, wait| tracing::warn!(error = ?error, ?wait, "{what} failed; retrying")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use backon::Retryable;

    use super::*;

    #[tokio::test]
    async fn a_step_that_keeps_failing_is_tried_three_times() {
        let calls = AtomicU32::new(0);
        let result = (|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            anyhow::Result::<()>::Err(anyhow::anyhow!("deadlock detected"))
        })
        .retry(quick())
        .notify(warn("test step"))
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn waits_double_from_100_ms_with_jitter() {
        use backon::BackoffBuilder;
        let waits: Vec<Duration> = quick().build().collect();
        assert_eq!(waits.len(), 2);
        for (wait, base) in waits.iter().zip([100, 200]) {
            let base = Duration::from_millis(base);
            assert!(*wait >= base && *wait < base * 2, "{wait:?}");
        }
    }
}
