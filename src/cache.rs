//! A read-through cache whose entries are trusted for a fixed time, then read again: so that a
//! change (a rotated secret, a new token) reaches every instance within that time without any
//! shared in-memory state. Concurrent misses for one key share one load (`moka`'s
//! `try_get_with`), so a burst of webhooks for a cold app reads the database once, not once each.
//! A cache of large values (media) is bounded by their total weight instead of their number, and
//! a value too heavy to keep is still shared by the callers that waited for it.

use std::{
    borrow::Borrow, error::Error, fmt, future::Future, hash::Hash, sync::Arc, time::Duration,
};

use moka::future::Cache;

/// Values by key, each fresh for a time to live after it was loaded.
pub struct ReadThrough<K, V> {
    entries: Cache<K, Arc<V>>,
    /// For a cache bounded by weight: how heavy a value is and the heaviest that is kept.
    weight: Option<Weight<V>>,
}

struct Weight<V> {
    weigh: fn(&V) -> u32,
    max_entry: u32,
}

impl<K, V> ReadThrough<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// At most `capacity` entries (the least used go first), each trusted for `ttl`.
    pub fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(capacity)
                .build(),
            weight: None,
        }
    }

    /// At most `max_total` of weight in all (each value weighs `weigh(value)`, e.g. its bytes; the
    /// least used go first), each trusted for `ttl`. A value heavier than `max_entry` is not kept:
    /// the callers that waited for its load get it, the next one loads it again.
    pub fn weighed(ttl: Duration, max_total: u64, max_entry: u32, weigh: fn(&V) -> u32) -> Self {
        Self {
            entries: Cache::builder()
                .time_to_live(ttl)
                .max_capacity(max_total)
                .weigher(move |_, value: &Arc<V>| weigh(value))
                .build(),
            weight: Some(Weight { weigh, max_entry }),
        }
    }

    /// The value for `key`: from the cache while fresh, else from `load`, which concurrent callers
    /// for the same key share. What `load` does not find (`Ok(None)`) is not cached, so it is found
    /// as soon as it exists; nor is a failure, which every waiting caller gets.
    pub async fn get_or_load<Q>(
        &self,
        key: &Q,
        load: impl Future<Output = anyhow::Result<Option<V>>>,
    ) -> anyhow::Result<Option<Arc<V>>>
    where
        K: Borrow<Q>,
        Q: ToOwned<Owned = K> + Hash + Eq + ?Sized,
    {
        let loaded = self
            .entries
            .try_get_with_by_ref(key, async {
                match load.await {
                    Ok(Some(value)) if self.too_heavy(&value) => {
                        Err(Miss::Uncached(Arc::new(value)))
                    }
                    Ok(Some(value)) => Ok(Arc::new(value)),
                    Ok(None) => Err(Miss::Absent),
                    Err(error) => Err(Miss::Failed(error)),
                }
            })
            .await;
        match loaded {
            Ok(value) => Ok(Some(value)),
            Err(miss) => match &*miss {
                Miss::Absent => Ok(None),
                Miss::Uncached(value) => Ok(Some(value.clone())),
                Miss::Failed(_) => Err(SharedFailure(miss).into()),
            },
        }
    }

    fn too_heavy(&self, value: &V) -> bool {
        self.weight
            .as_ref()
            .is_some_and(|weight| (weight.weigh)(value) > weight.max_entry)
    }
}

/// Why a load gave no value to cache.
enum Miss<V> {
    Absent,
    /// Loaded, but too heavy to keep.
    Uncached(Arc<V>),
    Failed(anyhow::Error),
}

/// A failed load, shared by every caller that waited for it, with its cause chain.
struct SharedFailure<V>(Arc<Miss<V>>);

impl<V> SharedFailure<V> {
    fn error(&self) -> Option<&anyhow::Error> {
        match &*self.0 {
            Miss::Failed(error) => Some(error),
            Miss::Absent | Miss::Uncached(_) => None,
        }
    }
}

impl<V> fmt::Display for SharedFailure<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error() {
            Some(error) => fmt::Display::fmt(error, f),
            None => f.write_str("not found"),
        }
    }
}

impl<V> fmt::Debug for SharedFailure<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.error() {
            Some(error) => fmt::Debug::fmt(error, f),
            None => f.write_str("not found"),
        }
    }
}

impl<V> Error for SharedFailure<V> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error().and_then(|error| error.source())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_misses_for_one_key_load_it_once() {
        let cache = Arc::new(ReadThrough::new(Duration::from_secs(30), 100));
        let loads = Arc::new(AtomicU32::new(0));
        let callers: Vec<_> = (0..32)
            .map(|_| {
                let (cache, loads) = (cache.clone(), loads.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_load("app", async {
                            loads.fetch_add(1, Ordering::SeqCst);
                            // Long enough for every caller to arrive while the load is under way.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(Some(7))
                        })
                        .await
                })
            })
            .collect();
        for caller in callers {
            let value = caller.await.unwrap().unwrap();
            assert_eq!(value.as_deref(), Some(&7));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn what_was_not_found_is_looked_up_again() {
        let cache = ReadThrough::<String, u32>::new(Duration::from_secs(30), 100);
        let none = cache.get_or_load("app", async { Ok(None) }).await.unwrap();
        assert_eq!(none, None);
        let found = cache
            .get_or_load("app", async { Ok(Some(1)) })
            .await
            .unwrap();
        assert_eq!(found.as_deref(), Some(&1));
        let cached = cache
            .get_or_load("app", async { Ok(Some(2)) })
            .await
            .unwrap();
        assert_eq!(cached.as_deref(), Some(&1));
    }

    #[tokio::test]
    async fn a_failed_load_is_reported_with_its_cause_and_not_cached() {
        let cache = ReadThrough::<String, u32>::new(Duration::from_secs(30), 100);
        let failed = cache
            .get_or_load("app", async {
                Err(anyhow::anyhow!("connection refused").context("read the app"))
            })
            .await
            .unwrap_err();
        assert_eq!(format!("{failed:#}"), "read the app: connection refused");
        let found = cache
            .get_or_load("app", async { Ok(Some(1)) })
            .await
            .unwrap();
        assert_eq!(found.as_deref(), Some(&1));
    }

    #[tokio::test]
    async fn a_value_too_heavy_to_keep_is_shared_by_its_waiters_and_loaded_again_after() {
        let cache = Arc::new(ReadThrough::<String, Vec<u8>>::weighed(
            Duration::from_secs(30),
            100,
            10,
            |bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX),
        ));
        let loads = Arc::new(AtomicU32::new(0));
        let load = |size: usize| {
            let loads = loads.clone();
            async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(Some(vec![0; size]))
            }
        };
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let (cache, load) = (cache.clone(), load(11));
                tokio::spawn(async move { cache.get_or_load("heavy", load).await })
            })
            .collect();
        for caller in callers {
            let value = caller.await.unwrap().unwrap();
            assert_eq!(value.map(|bytes| bytes.len()), Some(11));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        cache.get_or_load("heavy", load(11)).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 2);

        cache.get_or_load("light", load(10)).await.unwrap();
        cache.get_or_load("light", load(10)).await.unwrap();
        assert_eq!(loads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn entries_are_read_again_after_their_time_to_live() {
        let cache = ReadThrough::<String, u32>::new(Duration::from_millis(50), 100);
        cache
            .get_or_load("app", async { Ok(Some(1)) })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        let reread = cache
            .get_or_load("app", async { Ok(Some(2)) })
            .await
            .unwrap();
        assert_eq!(reread.as_deref(), Some(&2));
    }
}
