//! A collection of documents in the shape the contacts take (docs/STORE.md): each document
//! its compact JSON plus the few keys the routes look it up by, by position in loaded
//! order, with a unique `_id` index and secondary indexes. Visitors, rooms and messages are
//! kept so.
//!
//! Persistent (`imbl`): a session's copy, a reset and a reader's snapshot share the table,
//! and a write copies only the path it changes.

use std::sync::Arc;

use imbl::OrdMap;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::index::{MultiIndex, UniqueIndex};

/// What a table reads out of a document to file it.
pub(crate) trait Keys: Clone + Send + Sync + Sized + 'static {
    /// How many secondary indexes the table keeps.
    const INDEXES: usize;

    /// The keys of a (checked) document.
    fn of(document: &Map<String, Value>) -> Self;

    fn id(&self) -> &Arc<str>;

    /// The keys the document is filed under in secondary index `index`.
    fn secondary(&self, index: usize) -> Vec<Arc<str>>;
}

/// One stored document: its compact JSON and its keys.
#[derive(Debug, Clone)]
pub(crate) struct Stored<K>(Arc<(Box<RawValue>, K)>);

impl<K: Keys> Stored<K> {
    /// The document, checked, as the table keeps it.
    pub(crate) fn new(document: &Map<String, Value>) -> Self {
        // Serializing a map of JSON values cannot fail.
        let text = serde_json::to_string(document).expect("a document serializes");
        let json = RawValue::from_string(text).expect("serde_json writes JSON");
        Self(Arc::new((json, K::of(document))))
    }

    pub(crate) fn keys(&self) -> &K {
        &self.0.1
    }

    /// The document as its ordered fields, to answer or to change.
    pub(crate) fn document(&self) -> Map<String, Value> {
        // The text was written from a map of JSON values.
        serde_json::from_str(self.0.0.get()).expect("a stored document is a JSON object")
    }
}

impl<K> Serialize for Stored<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.0.serialize(serializer)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Table<K: Keys> {
    slots: OrdMap<u64, Stored<K>>,
    by_id: UniqueIndex,
    indexes: Vec<MultiIndex>,
    next_position: u64,
}

impl<K: Keys> Default for Table<K> {
    fn default() -> Self {
        Self {
            slots: OrdMap::new(),
            by_id: UniqueIndex::default(),
            indexes: vec![MultiIndex::default(); K::INDEXES],
            next_position: 0,
        }
    }
}

impl<K: Keys> Table<K> {
    /// The documents in loaded order (their `_id`s were checked unique), built sorted.
    pub(crate) fn filled(documents: Vec<Stored<K>>) -> Self {
        let ids: Vec<Arc<str>> = documents.iter().map(|d| d.keys().id().clone()).collect();
        let by_id = UniqueIndex::of(&ids).unwrap_or_else(|| {
            // Not reached: the fixtures reader refuses repeated `_id`s. Should it be, the
            // later document wins, as an upsert would have it.
            let mut index = UniqueIndex::default();
            for (key, position) in ids.iter().zip(0..) {
                index.insert(key.clone(), position);
            }
            index
        });
        let indexes = (0..K::INDEXES)
            .map(|i| {
                let keys: Vec<Vec<Arc<str>>> =
                    documents.iter().map(|d| d.keys().secondary(i)).collect();
                MultiIndex::of(&keys, |k| k)
            })
            .collect();
        let next_position = documents.len() as u64;
        Self {
            slots: (0u64..).zip(documents).collect(),
            by_id,
            indexes,
            next_position,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Stored<K>> {
        self.slots.get(&self.by_id.get(id)?)
    }

    /// The documents filed under `key` in secondary index `index`, in loaded order.
    pub(crate) fn find<'a>(
        &'a self,
        index: usize,
        key: &str,
    ) -> impl DoubleEndedIterator<Item = &'a Stored<K>> + 'a {
        let positions: Vec<u64> = self.indexes[index].positions(key).collect();
        positions.into_iter().filter_map(|p| self.slots.get(&p))
    }

    /// Adds a document after the others, or replaces the one with its `_id` in its place.
    pub(crate) fn upsert(&mut self, stored: Stored<K>) {
        let id = stored.keys().id().clone();
        let position = match self.by_id.get(&id) {
            Some(position) => {
                if let Some(old) = self.slots.get(&position).cloned() {
                    self.file(old.keys(), position, false);
                }
                position
            }
            None => {
                let position = self.next_position;
                self.next_position += 1;
                self.by_id.insert(id, position);
                position
            }
        };
        self.file(stored.keys(), position, true);
        self.slots.insert(position, stored);
    }

    /// Removes the document with this `_id`; whether there was one.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        let Some(position) = self.by_id.get(id) else {
            return false;
        };
        if let Some(old) = self.slots.remove(&position) {
            self.file(old.keys(), position, false);
        }
        self.by_id.remove(id);
        true
    }

    fn file(&mut self, keys: &K, position: u64, insert: bool) {
        for (i, index) in self.indexes.iter_mut().enumerate() {
            for key in keys.secondary(i) {
                if insert {
                    index.insert(key, position);
                } else {
                    index.remove(&key, position);
                }
            }
        }
    }

    /// Every document in loaded order, from `position` on.
    pub(crate) fn starting_at(&self, position: u64) -> impl Iterator<Item = (u64, &Stored<K>)> {
        self.slots.range(position..).map(|(p, d)| (*p, d))
    }
}
