//! A secondary index: documents (by position) under string keys, several per key.
//!
//! Persistent (`imbl`), as every part of the store is: a session made from the fixtures, a
//! reset and a reader's snapshot share the index with the original, and a write copies only
//! the path it changes.

use std::sync::Arc;

use imbl::OrdSet;

#[derive(Debug, Clone, Default)]
pub(crate) struct MultiIndex {
    entries: OrdSet<(Arc<str>, u64)>,
}

impl MultiIndex {
    pub(crate) fn insert(&mut self, key: &str, position: u64) {
        self.entries.insert((Arc::from(key), position));
    }

    pub(crate) fn remove(&mut self, key: &str, position: u64) {
        self.entries.remove(&(Arc::from(key), position));
    }

    /// The positions filed under `key`, in ascending order, each once.
    pub(crate) fn positions(&self, key: &str) -> impl Iterator<Item = u64> + '_ {
        let key: Arc<str> = Arc::from(key);
        self.entries
            .range((key.clone(), 0)..=(key, u64::MAX))
            .map(|(_, position)| *position)
    }
}
