//! `GET /_mock/state`, written a chunk at a time from a snapshot of the store, so that a
//! million contacts are sent without a second copy of them in memory.

use std::sync::Arc;

use actix_web::web::Bytes;
use serde::Serialize;

use super::Store;
use super::fixtures::Collection;
use super::table::{Keys, Table};

/// About how much each chunk holds.
const CHUNK: usize = 64 << 10;

/// Where the writer is: a collection, the position of its next document, and whether one
/// was written already (the comma before the next).
#[derive(Debug, Clone, Copy)]
enum Cursor {
    Start,
    Documents(Collection, u64, bool),
    Done,
}

/// Writes `{"users": [...], "permissions": [...], "contacts": [...], "customFields":
/// [...], "visitors": [...], "rooms": [...], "messages": [...], "settings": [...]}`, each
/// collection in loaded order, as compact JSON: byte for byte what serializing
/// the whole state at once would give.
pub(crate) struct StateWriter {
    store: Arc<Store>,
    cursor: Cursor,
}

impl StateWriter {
    pub(crate) fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            cursor: Cursor::Start,
        }
    }

    /// The next chunk; `None` once the object is closed.
    pub(crate) fn next_chunk(&mut self) -> Option<Bytes> {
        let mut out = Vec::with_capacity(CHUNK + 4096);
        while out.len() < CHUNK {
            self.cursor = match self.cursor {
                Cursor::Done => break,
                Cursor::Start => {
                    out.push(b'{');
                    open(&mut out, Collection::ALL[0])
                }
                Cursor::Documents(collection, position, written) => {
                    match self.write_from(&mut out, collection, position, written) {
                        Some(next) => Cursor::Documents(collection, next, true),
                        None => {
                            out.push(b']');
                            match Collection::ALL.iter().position(|c| *c == collection) {
                                Some(i) if i + 1 < Collection::ALL.len() => {
                                    out.push(b',');
                                    open(&mut out, Collection::ALL[i + 1])
                                }
                                _ => {
                                    out.push(b'}');
                                    Cursor::Done
                                }
                            }
                        }
                    }
                }
            };
        }
        (!out.is_empty()).then(|| Bytes::from(out))
    }

    /// Writes the collection's documents from `position` on until the chunk is full; the
    /// position to go on from, or `None` when the collection is done.
    fn write_from(
        &self,
        out: &mut Vec<u8>,
        collection: Collection,
        position: u64,
        mut written: bool,
    ) -> Option<u64> {
        let store = &self.store;
        let documents: Documents<'_> = match collection {
            Collection::Users => Box::new(
                store
                    .users
                    .starting_at(position)
                    .map(|(p, slot)| (p, slot.document() as &dyn ErasedJson)),
            ),
            Collection::Contacts => Box::new(
                store
                    .contacts
                    .starting_at(position)
                    .map(|(p, contact)| (p, contact as &dyn ErasedJson)),
            ),
            // Small collections: written whole, whatever the chunk size.
            Collection::Permissions => Box::new(
                store
                    .definitions
                    .permissions
                    .iter()
                    .map(|(document, _)| (0, document as &dyn ErasedJson)),
            ),
            Collection::CustomFields => Box::new(
                store
                    .definitions
                    .custom_fields
                    .iter()
                    .map(|(document, _)| (0, document as &dyn ErasedJson)),
            ),
            Collection::Visitors => resumed(&store.visitors, position),
            Collection::Rooms => resumed(&store.rooms, position),
            Collection::Messages => resumed(&store.messages, position),
            Collection::Settings => Box::new(
                store
                    .settings
                    .documents()
                    .iter()
                    .map(|document| (0, document as &dyn ErasedJson)),
            ),
        };
        let resumable = !matches!(
            collection,
            Collection::Permissions | Collection::CustomFields | Collection::Settings
        );
        for (p, document) in documents {
            if written {
                out.push(b',');
            }
            written = true;
            document.write(out);
            if resumable && out.len() >= CHUNK {
                return Some(p + 1);
            }
        }
        None
    }
}

/// A collection's documents with their positions, whatever their type.
type Documents<'a> = Box<dyn Iterator<Item = (u64, &'a dyn ErasedJson)> + 'a>;

/// A Livechat table's documents from `position` on.
fn resumed<K: Keys>(table: &Table<K>, position: u64) -> Documents<'_> {
    Box::new(
        table
            .starting_at(position)
            .map(|(p, d)| (p, d as &dyn ErasedJson)),
    )
}

fn open(out: &mut Vec<u8>, collection: Collection) -> Cursor {
    write_json(out, collection.state_key());
    out.extend_from_slice(b":[");
    Cursor::Documents(collection, 0, false)
}

/// Something that writes itself as compact JSON.
trait ErasedJson {
    fn write(&self, out: &mut Vec<u8>);
}

impl<T: Serialize + ?Sized> ErasedJson for T {
    fn write(&self, out: &mut Vec<u8>) {
        write_json(out, self);
    }
}

fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing JSON into memory fails only for maps with non-string keys, which no
    // document has.
    serde_json::to_writer(&mut *out, value).expect("documents serialize");
}
