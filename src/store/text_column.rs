//! The text search's column: the folded searchable values of the listed contacts, packed
//! contiguously so that a `searchText` is one substring search over compact keys, never a
//! walk over documents.
//!
//! The column is cut into chunks of consecutive positions, each one buffer of text, held
//! in a persistent map: a write copies the one chunk it changes (a few kilobytes), and
//! sessions and snapshots share every other chunk with the fixtures.

use std::sync::Arc;

use imbl::OrdMap;

use super::fold::{FoldedValues, Needle};

/// Positions per chunk, as a shift: 512 contacts, some 30 KB of text in a generated
/// workspace; small enough that a write's copy is cheap, large enough that a search runs
/// long `memmem` passes.
const CHUNK_SHIFT: u32 = 9;

#[derive(Debug, Clone, Default)]
pub(crate) struct TextColumn {
    chunks: OrdMap<u64, Arc<Chunk>>,
}

/// The contacts of one range of positions, in position order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Chunk {
    /// Every value of every entry, folded, end to end.
    text: String,
    /// Each value's end in `text` and the entry it belongs to, in order.
    values: Vec<ValueEnd>,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ValueEnd {
    end: u32,
    entry: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    position: u64,
    /// Where the entry's text and its values end.
    text_end: u32,
    values_end: u32,
}

impl Chunk {
    fn push(&mut self, position: u64, text: &str, ends: impl IntoIterator<Item = u32>) {
        let base = self.text.len();
        self.text.push_str(text);
        let entry = u32::try_from(self.entries.len()).expect("a chunk holds few entries");
        self.values.extend(ends.into_iter().map(|end| ValueEnd {
            end: offset(base + end as usize),
            entry,
        }));
        self.entries.push(Entry {
            position,
            text_end: offset(self.text.len()),
            values_end: u32::try_from(self.values.len()).expect("a chunk holds few values"),
        });
    }

    fn push_folded(&mut self, position: u64, values: &FoldedValues) {
        self.push(position, values.text(), values.ends().iter().copied());
    }

    /// This chunk with `position`'s entry replaced by `values`, added, or (`None`) removed.
    fn with(&self, position: u64, values: Option<&FoldedValues>) -> Chunk {
        let mut chunk = Chunk::default();
        chunk
            .text
            .reserve(self.text.len() + values.map_or(0, |v| v.text().len()));
        let mut placed = values.is_none();
        let (mut text_start, mut values_start) = (0, 0);
        for entry in &self.entries {
            if !placed && entry.position >= position {
                chunk.push_folded(position, values.expect("not placed yet"));
                placed = true;
            }
            if entry.position != position {
                let text = &self.text[text_start..entry.text_end as usize];
                let ends = self.values[values_start..entry.values_end as usize]
                    .iter()
                    .map(|v| v.end - text_start as u32);
                chunk.push(entry.position, text, ends);
            }
            text_start = entry.text_end as usize;
            values_start = entry.values_end as usize;
        }
        if !placed {
            chunk.push_folded(position, values.expect("not placed yet"));
        }
        chunk
    }

    /// The positions of the entries one of whose values contains the needle, in order.
    fn matching(&self, needle: &Needle, found: &mut Vec<u64>) {
        let text = self.text.as_bytes();
        let mut from = 0;
        let mut value = 0;
        while let Some(at) = needle.find(&text[from..]).map(|at| at + from) {
            while self.values[value].end as usize <= at {
                value += 1;
            }
            let ValueEnd { end, entry } = self.values[value];
            if at + needle.len() <= end as usize {
                let entry = &self.entries[entry as usize];
                found.push(entry.position);
                // One match is enough: go on with the next entry.
                from = entry.text_end as usize;
            } else {
                // Across two values: a later occurrence may still lie inside one.
                from = at + 1;
            }
        }
    }
}

fn offset(at: usize) -> u32 {
    u32::try_from(at).expect("a chunk's text is far below 4 GiB")
}

impl TextColumn {
    /// The column of `contacts` (`(position, values)`, positions ascending), built in one pass.
    pub(crate) fn of<'a>(contacts: impl IntoIterator<Item = (u64, &'a FoldedValues)>) -> Self {
        let mut chunks = Vec::new();
        let mut current: Option<(u64, Chunk)> = None;
        for (position, values) in contacts {
            let key = position >> CHUNK_SHIFT;
            match &mut current {
                Some((k, chunk)) if *k == key => chunk.push_folded(position, values),
                _ => {
                    if let Some((k, chunk)) = current.take() {
                        chunks.push((k, Arc::new(chunk)));
                    }
                    let mut chunk = Chunk::default();
                    chunk.push_folded(position, values);
                    current = Some((key, chunk));
                }
            }
        }
        chunks.extend(current.map(|(k, chunk)| (k, Arc::new(chunk))));
        Self {
            chunks: chunks.into_iter().collect(),
        }
    }

    /// Files `values` for the contact at `position`, replacing what was there; `None` takes
    /// the contact out.
    pub(crate) fn put(&mut self, position: u64, values: Option<&FoldedValues>) {
        let key = position >> CHUNK_SHIFT;
        let chunk = match self.chunks.get(&key) {
            Some(chunk) => {
                let present = chunk
                    .entries
                    .binary_search_by_key(&position, |e| e.position)
                    .is_ok();
                if values.is_none() && !present {
                    return;
                }
                chunk.with(position, values)
            }
            None => match values {
                Some(values) => Chunk::default().with(position, Some(values)),
                None => return,
            },
        };
        if chunk.entries.is_empty() {
            self.chunks.remove(&key);
        } else {
            self.chunks.insert(key, Arc::new(chunk));
        }
    }

    /// The positions of the contacts one of whose values contains the needle, ascending.
    pub(crate) fn matching(&self, needle: &Needle) -> Vec<u64> {
        let mut found = Vec::new();
        for chunk in self.chunks.values() {
            chunk.matching(needle, &mut found);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = String> {
        "[abK\u{212A}s ]{0,4}"
    }

    proptest! {
        /// Whatever the writes, the column finds exactly the contacts whose own values
        /// contain the text, as matching each contact on its own does.
        #[test]
        fn the_column_agrees_with_matching_each_contact(
            writes in proptest::collection::vec(
                (0u64..1500, proptest::option::of(proptest::collection::vec(value(), 0..3))),
                0..60,
            ),
            text in "[abK ]{1,3}",
            bulk in any::<bool>(),
        ) {
            let mut expected: std::collections::BTreeMap<u64, FoldedValues> = Default::default();
            let mut column = TextColumn::default();
            for (position, values) in &writes {
                let folded = values.as_ref().map(|v| FoldedValues::new(v.iter().map(String::as_str)));
                match &folded {
                    Some(f) => { expected.insert(*position, f.clone()); }
                    None => { expected.remove(position); }
                }
                if !bulk {
                    column.put(*position, folded.as_ref());
                }
            }
            if bulk {
                column = TextColumn::of(expected.iter().map(|(p, v)| (*p, v)));
            }
            let needle = Needle::new(&text);
            let wanted: Vec<u64> = expected
                .iter()
                .filter(|(_, v)| v.contains(&needle))
                .map(|(p, _)| *p)
                .collect();
            prop_assert_eq!(column.matching(&needle), wanted);
        }
    }

    #[test]
    fn a_match_across_two_contacts_or_two_values_is_no_match() {
        let a = FoldedValues::new(["ab", "cd"]);
        let b = FoldedValues::new(["ef"]);
        let column = TextColumn::of([(1, &a), (2, &b)]);
        assert_eq!(column.matching(&Needle::new("bc")), Vec::<u64>::new());
        assert_eq!(column.matching(&Needle::new("de")), Vec::<u64>::new());
        assert_eq!(column.matching(&Needle::new("CD")), vec![1]);
        assert_eq!(column.matching(&Needle::new("f")), vec![2]);
    }
}
