//! A secondary index: documents (by position) under string keys, several per key.
//!
//! Persistent (`imbl`), as every part of the store is: a session made from the fixtures, a
//! reset and a reader's snapshot share the index with the original, and a write copies only
//! the path it changes.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};

/// Entries are ordered by the key's hash first: the index only answers exact keys, and
/// comparing two hashes costs nothing where comparing two keys reads both from memory (a
/// million e-mail addresses sort in a fraction of the time).
#[derive(Debug, Clone, Default)]
pub(crate) struct MultiIndex {
    entries: OrdSet<(u64, Arc<str>, u64)>,
}

/// A fixed hash (SipHash with zero keys): the same in every run, so that a store built by
/// one thread is read by another.
fn hash(key: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

impl MultiIndex {
    /// The index of `documents` at positions `0..` under their `keys`, built sorted:
    /// filling a B-tree in key order touches one path at a time.
    pub(crate) fn of<T>(documents: &[T], keys: impl Fn(&T) -> &[Arc<str>]) -> Self {
        let mut entries: Vec<(u64, Arc<str>, u64)> = (0..)
            .zip(documents)
            .flat_map(|(position, d)| keys(d).iter().map(move |k| (hash(k), k.clone(), position)))
            .collect();
        entries.sort_unstable();
        Self {
            entries: entries.into_iter().collect(),
        }
    }

    pub(crate) fn insert(&mut self, key: Arc<str>, position: u64) {
        self.entries.insert((hash(&key), key, position));
    }

    pub(crate) fn remove(&mut self, key: &Arc<str>, position: u64) {
        self.entries.remove(&(hash(key), key.clone(), position));
    }

    /// The positions filed under `key`, in ascending order, each once.
    pub(crate) fn positions(&self, key: &str) -> impl Iterator<Item = u64> + '_ {
        let (hash, key): (u64, Arc<str>) = (hash(key), Arc::from(key));
        self.entries
            .range((hash, key.clone(), 0)..=(hash, key, u64::MAX))
            .map(|(_, _, position)| *position)
    }
}

/// A unique index: one position per key, ordered by the key's hash first as
/// [`MultiIndex`] is, so that a million of them are sorted and filled in a blink.
#[derive(Debug, Clone, Default)]
pub(crate) struct UniqueIndex {
    entries: OrdMap<(u64, Arc<str>), u64>,
}

impl UniqueIndex {
    /// The index of `keys` at positions `0..`; `None` if a key repeats.
    pub(crate) fn of<'a>(keys: impl IntoIterator<Item = &'a Arc<str>>) -> Option<Self> {
        let mut entries: Vec<((u64, Arc<str>), u64)> = keys
            .into_iter()
            .zip(0..)
            .map(|(key, position)| ((hash(key), key.clone()), position))
            .collect();
        entries.sort_unstable();
        if entries.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return None;
        }
        Some(Self {
            entries: entries.into_iter().collect(),
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, key: &str) -> Option<u64> {
        self.entries.get(&(hash(key), Arc::from(key))).copied()
    }

    pub(crate) fn insert(&mut self, key: Arc<str>, position: u64) {
        self.entries.insert((hash(&key), key), position);
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.entries.remove(&(hash(key), Arc::from(key)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_those_filed_under_exactly_that_key() {
        let keys: Vec<Vec<Arc<str>>> = vec![
            vec!["a@x".into(), "b@x".into()],
            vec!["a@x".into()],
            vec![],
            vec!["A@x".into(), "a@x".into()],
        ];
        let mut index = MultiIndex::of(&keys, |k| k);
        let found = |index: &MultiIndex, key| index.positions(key).collect::<Vec<_>>();
        assert_eq!(found(&index, "a@x"), [0, 1, 3]);
        assert_eq!(found(&index, "A@x"), [3]);
        assert_eq!(found(&index, "a@"), Vec::<u64>::new());
        index.remove(&"a@x".into(), 1);
        index.insert("b@x".into(), 7);
        assert_eq!(found(&index, "a@x"), [0, 3]);
        assert_eq!(found(&index, "b@x"), [0, 7]);
    }

    #[test]
    fn a_unique_index_refuses_a_repeated_key_and_finds_each_one() {
        let keys: Vec<Arc<str>> = vec!["b".into(), "a".into(), "c".into()];
        let mut index = UniqueIndex::of(&keys).unwrap();
        assert_eq!(
            (index.get("a"), index.get("b"), index.get("z")),
            (Some(1), Some(0), None)
        );
        index.insert("z".into(), 9);
        assert_eq!((index.len(), index.get("z")), (4, Some(9)));
        let repeated: Vec<Arc<str>> = vec!["a".into(), "b".into(), "a".into()];
        assert!(UniqueIndex::of(&repeated).is_none());
    }
}
