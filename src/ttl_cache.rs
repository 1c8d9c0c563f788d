//! A small in-process cache whose entries are trusted for a fixed time, then read again: so that a
//! change (a rotated secret, a new token) reaches every instance within that time without any
//! shared in-memory state. Its lock is never held across the read that fills it.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

/// Values by key, each fresh for `ttl` after it was stored.
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: RwLock<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash, V> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::default(),
        }
    }

    /// The value stored for `key`, while it is fresh.
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(stored, _)| stored.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    pub fn insert(&self, key: K, value: Arc<V>) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, (Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_served_until_they_expire() {
        let cache = TtlCache::new(Duration::from_millis(50));
        cache.insert("app".to_owned(), Arc::new(1));
        assert_eq!(cache.get("app").as_deref(), Some(&1));
        assert_eq!(cache.get("other"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("app"), None);
    }
}
