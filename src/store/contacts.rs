//! The contacts collection: each contact kept as its serialized document plus the few keys
//! the routes read, with the secondary indexes every write keeps in step.
//!
//! A document is parsed only to change it (or to answer a search page with its manager);
//! `contacts.get` answers the stored bytes as they are. Everything is persistent (`imbl`), so
//! a session made from the fixtures, a reset and a reader's snapshot cost nothing and share
//! every unchanged contact with the fixtures.

use std::cmp::Ordering;
use std::sync::Arc;

use imbl::{OrdMap, OrdSet};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::fold::{FoldedValues, Needle};
use super::index::{MultiIndex, UniqueIndex};
use super::text_column::TextColumn;
use crate::domain::contact::{Contact, ContactDocument};
use crate::domain::request::CheckExistenceQuery;
use crate::domain::rules::ContactError;
use crate::domain::search::Search;

/// A stored contact: its document as compact JSON, in stored field order, and what the
/// search needs without parsing it. Shared, never copied: replies, sessions and snapshots
/// point at the same bytes.
#[derive(Debug, Clone)]
pub(crate) struct StoredContact(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    json: Box<RawValue>,
    name: Option<Arc<str>>,
    enabled: bool,
    /// `Some(unknown)` when `contacts.search` lists the contact (enabled, `unknown` a
    /// boolean, and a name, an e-mail address or a phone number to match).
    listed: Option<bool>,
    /// The e-mail addresses, the phone numbers, then the channels' visitor ids: the keys
    /// it is filed under, the same strings the indexes hold, kept so that a write unfiles
    /// it without parsing it.
    keys: Box<[Arc<str>]>,
    emails: usize,
    phones: usize,
}

impl Inner {
    fn emails(&self) -> &[Arc<str>] {
        &self.keys[..self.emails]
    }

    fn phones(&self) -> &[Arc<str>] {
        &self.keys[self.emails..self.emails + self.phones]
    }

    fn visitors(&self) -> &[Arc<str>] {
        &self.keys[self.emails + self.phones..]
    }
}

impl StoredContact {
    /// The document, parsed for a change or a search page.
    pub(crate) fn document(&self) -> Map<String, Value> {
        // The text was written by serde_json from a map: it parses back to one.
        serde_json::from_str(self.0.json.get()).unwrap_or_default()
    }

    /// The top-level fields `names` of the document, parsed; the others are not read.
    fn fields(&self, names: &[&str]) -> Map<String, Value> {
        let contact = Contact::from_stored(self.0.json.get());
        names
            .iter()
            .filter_map(|&name| Some((name.to_owned(), contact.get(name)?.clone())))
            .collect()
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.0.enabled
    }
}

impl Serialize for StoredContact {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.json.serialize(serializer)
    }
}

/// The keys a contact is indexed under, read from its document.
struct Keys<'a> {
    id: &'a str,
    name: Option<&'a str>,
    emails: Vec<&'a str>,
    phones: Vec<&'a str>,
    /// `channels[].visitor.visitorId`: the visitors the contact is reached through.
    visitors: Vec<&'a str>,
    enabled: bool,
    unknown: Option<bool>,
}

impl<'a> Keys<'a> {
    fn of(document: &'a Map<String, Value>) -> Self {
        Self::read(|field| document.get(field))
    }

    /// The keys, from a reader of top-level fields.
    fn read(get: impl Fn(&str) -> Option<&'a Value>) -> Self {
        // `emails[].address` and `phones[].phoneNumber`, as `countByContactInfo` and the
        // search's regex read them (the fixture check guarantees these shapes).
        let list = |field: &str, key: &str| -> Vec<&'a str> {
            get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|item| item.get(key).and_then(Value::as_str))
                .collect()
        };
        Self {
            id: get("_id").and_then(Value::as_str).unwrap_or_default(),
            name: get("name").and_then(Value::as_str),
            emails: list("emails", "address"),
            phones: list("phones", "phoneNumber"),
            visitors: get("channels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|channel| channel.pointer("/visitor/visitorId")?.as_str())
                .collect(),
            enabled: get("enabled") != Some(&Value::Bool(false)),
            unknown: get("unknown").and_then(Value::as_bool),
        }
    }

    fn listed(&self) -> Option<bool> {
        let searchable = self.name.is_some() || !self.emails.is_empty() || !self.phones.is_empty();
        self.unknown.filter(|_| self.enabled && searchable)
    }
}

/// A contact made ready to store: serialized and read for its keys, off the request path
/// (fixture loading, `PUT` and `PATCH` of the state do this on the blocking pool).
#[derive(Debug, Clone)]
pub(crate) struct PreparedContact {
    contact: StoredContact,
    id: Arc<str>,
    /// The name, e-mail addresses and phone numbers, case-folded for the text search.
    values: FoldedValues,
}

impl PreparedContact {
    pub(crate) fn new(document: &Map<String, Value>) -> Self {
        let json = serde_json::value::to_raw_value(document).expect("a JSON map always serializes");
        Self::stored(json, Keys::of(document))
    }

    /// A contact a rule changed: untouched fields keep their stored text (see [`Contact`]).
    pub(crate) fn from_contact(contact: &Contact<'_>) -> Self {
        let json = serde_json::value::to_raw_value(contact).expect("a contact always serializes");
        Self::stored(json, Keys::read(|field| contact.get(field)))
    }

    /// A contact whose text is already the compact JSON the store writes (see
    /// `canonical.rs`), stored as it is, with its keys read from its typed reading.
    pub(crate) fn from_canonical(json: Box<RawValue>, reading: &ContactDocument) -> Self {
        let keys = Keys {
            id: &reading.id,
            name: reading.name.as_deref(),
            emails: reading
                .emails
                .iter()
                .flatten()
                .map(|e| e.address.as_str())
                .collect(),
            phones: reading
                .phones
                .iter()
                .flatten()
                .map(|p| p.phone_number.as_str())
                .collect(),
            visitors: reading
                .channels
                .iter()
                .flatten()
                .map(|c| c.visitor.visitor_id.as_str())
                .collect(),
            enabled: reading.enabled != Some(false),
            unknown: reading.unknown,
        };
        Self::stored(json, keys)
    }

    fn stored(json: Box<RawValue>, keys: Keys<'_>) -> Self {
        let values = FoldedValues::new(
            keys.name
                .into_iter()
                .chain(keys.emails.iter().copied())
                .chain(keys.phones.iter().copied()),
        );
        Self {
            id: Arc::from(keys.id),
            contact: StoredContact(Arc::new(Inner {
                json,
                name: keys.name.map(Arc::from),
                enabled: keys.enabled,
                listed: keys.listed(),
                keys: keys
                    .emails
                    .iter()
                    .chain(&keys.phones)
                    .chain(&keys.visitors)
                    .map(|&k| Arc::from(k))
                    .collect(),
                emails: keys.emails.len(),
                phones: keys.phones.len(),
            })),
            values,
        }
    }
}

/// A page of `contacts.search`.
pub struct ContactsPage {
    pub contacts: Vec<Value>,
    pub total: usize,
}

/// Listed contacts in name order: `(name, position)`, a missing name first (as `null`
/// sorts first in MongoDB), names by code point, ties in natural order.
type NameIndex = OrdSet<(Option<Arc<str>>, u64)>;

#[derive(Debug, Clone, Default)]
pub(crate) struct Contacts {
    /// By position: loaded order, then creation order (MongoDB's natural order).
    slots: OrdMap<u64, StoredContact>,
    by_id: UniqueIndex,
    by_email: MultiIndex,
    by_phone: MultiIndex,
    /// By `channels[].visitor.visitorId`.
    by_visitor: MultiIndex,
    /// The listed contacts, `[unknown: false, unknown: true]`.
    by_name: [NameIndex; 2],
    /// The listed contacts' folded values, `[unknown: false, unknown: true]`.
    text: [TextColumn; 2],
    next_position: u64,
}

impl Contacts {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Adds every contact, in order, after the others (or in place of the one with its
    /// `_id`). Into an empty collection, as loading a workspace does, the indexes are built
    /// in bulk ([`Contacts::filled`]).
    pub(crate) fn extend(&mut self, prepared: Vec<PreparedContact>) {
        if self.slots.is_empty()
            && prepared.len() >= BULK_FROM
            && let Some(filled) = Self::filled(&prepared)
        {
            *self = filled;
            return;
        }
        // Repeated `_id`s too (the loaders refuse them): one by one, the later replacing.
        prepared.into_iter().for_each(|p| self.upsert(p));
    }

    /// The collection of `prepared` (at positions `0..`), every index built sorted and
    /// filled in order, on three threads; `None` if an `_id` repeats.
    fn filled(prepared: &[PreparedContact]) -> Option<Self> {
        // Three builders of about equal work: the slots and the id and text indexes, the
        // e-mail index, and the phone and name indexes.
        let ((slots, by_id, text), by_email, (by_phone, by_name, by_visitor)) =
            std::thread::scope(|scope| {
                let emails = scope.spawn(|| MultiIndex::of(prepared, |p| p.contact.0.emails()));
                let phones_and_names = scope.spawn(|| {
                    (
                        MultiIndex::of(prepared, |p| p.contact.0.phones()),
                        [false, true].map(|unknown| name_index(prepared, unknown)),
                        MultiIndex::of(prepared, |p| p.contact.0.visitors()),
                    )
                });
                let slots: OrdMap<u64, StoredContact> = (0u64..)
                    .zip(prepared.iter().map(|p| p.contact.clone()))
                    .collect();
                let by_id = UniqueIndex::of(prepared.iter().map(|p| &p.id));
                let text = [false, true].map(|unknown| {
                    TextColumn::of(
                        (0..)
                            .zip(prepared)
                            .filter(|(_, p)| p.contact.0.listed == Some(unknown))
                            .map(|(position, p)| (position, &p.values)),
                    )
                });
                let joined = "an index builder panicked";
                (
                    (slots, by_id, text),
                    emails.join().expect(joined),
                    phones_and_names.join().expect(joined),
                )
            });
        Some(Self {
            slots,
            by_id: by_id?,
            by_email,
            by_phone,
            by_visitor,
            by_name,
            text,
            next_position: prepared.len() as u64,
        })
    }

    /// Adds a contact after the others, or replaces the one with its `_id` in its place.
    pub(crate) fn upsert(&mut self, prepared: PreparedContact) {
        let (position, before) = match self.by_id.get(&prepared.id) {
            Some(position) => (position, self.unindex(position)),
            None => {
                let position = self.next_position;
                self.next_position += 1;
                self.by_id.insert(prepared.id.clone(), position);
                (position, None)
            }
        };
        self.index(position, &prepared);
        // One chunk copy when the contact stays in its column, not a removal and an insert.
        let after = prepared.contact.0.listed;
        for unknown in [false, true] {
            let now = (after == Some(unknown)).then_some(&prepared.values);
            if now.is_some() || before == Some(unknown) {
                self.text[usize::from(unknown)].put(position, now);
            }
        }
        self.slots.insert(position, prepared.contact);
    }

    /// Files the contact at `position` under its keys.
    fn index(&mut self, position: u64, prepared: &PreparedContact) {
        for email in prepared.contact.0.emails() {
            self.by_email.insert(email.clone(), position);
        }
        for phone in prepared.contact.0.phones() {
            self.by_phone.insert(phone.clone(), position);
        }
        for visitor in prepared.contact.0.visitors() {
            self.by_visitor.insert(visitor.clone(), position);
        }
        let inner = &prepared.contact.0;
        if let Some(unknown) = inner.listed {
            self.by_name[usize::from(unknown)].insert((inner.name.clone(), position));
        }
    }

    /// Takes the contact at `position` out of the secondary indexes (not out of `by_id`:
    /// its `_id` never changes, nor out of the text column: the caller replaces it there);
    /// returns where it was listed.
    fn unindex(&mut self, position: u64) -> Option<bool> {
        let stored = self.slots.get(&position).cloned()?;
        for email in stored.0.emails() {
            self.by_email.remove(email, position);
        }
        for phone in stored.0.phones() {
            self.by_phone.remove(phone, position);
        }
        for visitor in stored.0.visitors() {
            self.by_visitor.remove(visitor, position);
        }
        if let Some(unknown) = stored.0.listed {
            self.by_name[usize::from(unknown)].remove(&(stored.0.name.clone(), position));
        }
        stored.0.listed
    }

    /// The contact with this `_id`, deleted ones included.
    fn by_id(&self, id: &str) -> Option<&StoredContact> {
        let position = self.by_id.get(id)?;
        self.slots.get(&position)
    }

    /// `findAllByVisitorId`: the contacts (disabled ones too) with a channel of this visitor,
    /// in natural order.
    pub(crate) fn of_visitor(&self, visitor_id: &str) -> Vec<StoredContact> {
        self.by_visitor
            .positions(visitor_id)
            .filter_map(|p| self.slots.get(&p).cloned())
            .collect()
    }

    /// The contacts (disabled ones too) holding this e-mail address or phone number
    /// exactly, each once, in natural order.
    pub(crate) fn by_contact_info(&self, emails: &[&str], phones: &[&str]) -> Vec<StoredContact> {
        let mut positions: Vec<u64> = emails
            .iter()
            .flat_map(|e| self.by_email.positions(e).collect::<Vec<_>>())
            .chain(
                phones
                    .iter()
                    .flat_map(|p| self.by_phone.positions(p).collect::<Vec<_>>()),
            )
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .filter_map(|p| self.slots.get(&p).cloned())
            .collect()
    }

    /// The contact with this `_id`, disabled or not.
    pub(crate) fn any(&self, id: &str) -> Option<StoredContact> {
        self.by_id(id).cloned()
    }

    /// The enabled contact `id`.
    pub(crate) fn enabled(&self, id: &str) -> Option<StoredContact> {
        self.by_id(id).filter(|c| c.is_enabled()).cloned()
    }

    /// Applies `change` to the enabled contact `id` and stores the result; a refused change
    /// stores nothing (it worked on a parsed copy).
    pub(crate) fn modify(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut Contact) -> Result<(), ContactError>,
    ) -> Result<StoredContact, ContactError> {
        let stored = self.enabled(id).ok_or(ContactError::NotFound)?;
        let mut contact = Contact::from_stored(stored.0.json.get());
        change(&mut contact)?;
        let prepared = PreparedContact::from_contact(&contact);
        let committed = prepared.contact.clone();
        self.upsert(prepared);
        Ok(committed)
    }

    /// `countByContactInfo`: contacts whose `_id`, an e-mail address or a phone number is
    /// exactly the one given. Disabled contacts count too (their `_id` still matches).
    pub(crate) fn exists(&self, query: &CheckExistenceQuery) -> bool {
        fn wanted(value: &Option<String>) -> Option<&str> {
            value.as_deref().filter(|v| !v.is_empty())
        }
        let (id, email, phone) = (
            wanted(&query.contact_id),
            wanted(&query.email),
            wanted(&query.phone),
        );
        // The schema sends one of the three; should several come, all must hold, checked
        // on the contacts the most selective one finds.
        let check = |position: u64| {
            let found = |keys: &[Arc<str>], key: &str| keys.iter().any(|k| **k == *key);
            self.slots.get(&position).is_some_and(|stored| {
                id.is_none_or(|id| self.by_id.get(id) == Some(position))
                    && email.is_none_or(|e| found(stored.0.emails(), e))
                    && phone.is_none_or(|p| found(stored.0.phones(), p))
            })
        };
        match (id, email, phone) {
            (Some(id), None, None) => self.by_id.get(id).is_some(),
            (None, Some(email), None) => self.by_email.positions(email).next().is_some(),
            (None, None, Some(phone)) => self.by_phone.positions(phone).next().is_some(),
            (Some(id), _, _) => self.by_id.get(id).is_some_and(check),
            (None, Some(email), Some(_)) => self.by_email.positions(email).any(check),
            (None, None, None) => !self.slots.is_empty(),
        }
    }

    /// `contacts.search`: the matching contacts' positions, one page of them in the asked
    /// order, and how many match in all.
    ///
    /// By name (the default order) without a text, the page is read off the name index and
    /// costs the page; with a text, the folded keys of the listed contacts are scanned. Any
    /// other order parses the matching documents and sorts them as the reference does.
    pub(crate) fn search(&self, search: &Search) -> (Vec<StoredContact>, usize) {
        let text = search.text();
        let (offset, limit) = search.page.bounds();
        let index = &self.by_name[usize::from(search.unknown())];
        let positions: Vec<u64>;
        let total;
        match (text.is_empty(), search.name_order()) {
            (true, Some(descending)) => {
                total = index.len();
                positions = if descending {
                    descending_names(index).skip(offset).take(limit).collect()
                } else {
                    index
                        .iter()
                        .skip(offset)
                        .take(limit)
                        .map(|(_, p)| *p)
                        .collect()
                };
            }
            (_, order) => {
                let mut found: Vec<(Option<Arc<str>>, u64)> = if text.is_empty() {
                    index.iter().cloned().collect()
                } else {
                    self.text[usize::from(search.unknown())]
                        .matching(&Needle::new(text))
                        .into_iter()
                        .filter_map(|p| Some((self.slots.get(&p)?.0.name.clone(), p)))
                        .collect()
                };
                total = found.len();
                match order {
                    Some(false) => found.sort_unstable(),
                    Some(true) => {
                        found.sort_unstable_by(|(na, pa), (nb, pb)| nb.cmp(na).then(pa.cmp(pb)))
                    }
                    None => {
                        // Only the fields the sort reads are parsed, and only as many
                        // contacts as the page needs are put in order: parsing and sorting
                        // every match took seconds on a large workspace.
                        let fields: Vec<&str> = search.sort_fields().collect();
                        let mut keyed: Vec<(u64, Map<String, Value>)> = found
                            .iter()
                            .map(|(_, p)| (*p, self.slots[p].fields(&fields)))
                            .collect();
                        let order =
                            |(pa, a): &(u64, Map<String, Value>),
                             (pb, b): &(u64, Map<String, Value>)| {
                                search.compare(a, b).then(pa.cmp(pb))
                            };
                        let wanted = offset.saturating_add(limit).min(keyed.len());
                        if wanted == 0 {
                            keyed.clear();
                        } else if wanted < keyed.len() {
                            keyed.select_nth_unstable_by(wanted - 1, order);
                            keyed.truncate(wanted);
                        }
                        keyed.sort_unstable_by(order);
                        found = keyed.into_iter().map(|(p, _)| (None, p)).collect();
                    }
                }
                positions = found
                    .into_iter()
                    .skip(offset)
                    .take(limit)
                    .map(|(_, p)| p)
                    .collect();
            }
        }
        let page = positions
            .iter()
            .filter_map(|p| self.slots.get(p).cloned())
            .collect();
        (page, total)
    }

    /// Every contact in natural order, from `position` on.
    pub(crate) fn starting_at(
        &self,
        position: u64,
    ) -> impl Iterator<Item = (u64, &StoredContact)> + '_ {
        self.slots.range(position..).map(|(p, c)| (*p, c))
    }
}

/// From this many contacts, an empty collection is filled in bulk ([`Contacts::extend`]).
const BULK_FROM: usize = 4096;

/// The name index of the contacts at positions `0..` listed with this `unknown`, built
/// sorted: filling a B-tree in key order touches one path at a time.
fn name_index(prepared: &[PreparedContact], unknown: bool) -> NameIndex {
    // Sorted with each name's first bytes alongside: most comparisons end there, without
    // reading two names from memory. The order is the names' own: a shorter prefix sorts
    // first either way, and equal prefixes compare the names.
    let mut names: Vec<(u64, Option<Arc<str>>, u64)> = (0..)
        .zip(prepared)
        .filter(|(_, p)| p.contact.0.listed == Some(unknown))
        .map(|(position, p)| {
            let name = p.contact.0.name.clone();
            (name.as_deref().map_or(0, head), name, position)
        })
        .collect();
    names.sort_unstable_by(|a, b| {
        // A missing name sorts before every name, the empty one included.
        (a.1.is_some(), a.0, &a.1, a.2).cmp(&(b.1.is_some(), b.0, &b.1, b.2))
    });
    names.into_iter().map(|(_, name, p)| (name, p)).collect()
}

/// A text's first eight bytes, zero-padded, as a number that orders as they do.
fn head(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = text.len().min(8);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// The name index backwards, ties still in natural order: MongoDB sorts `{name: -1}` and
/// keeps equal names in the order it found them.
fn descending_names(index: &NameIndex) -> impl Iterator<Item = u64> + '_ {
    let mut backwards = index.iter().rev().peekable();
    let mut run: Vec<u64> = Vec::new();
    std::iter::from_fn(move || {
        if run.is_empty() {
            let (name, position) = backwards.next()?;
            run.push(*position);
            while let Some((next, position)) = backwards.peek() {
                if next.cmp(name) != Ordering::Equal {
                    break;
                }
                run.push(*position);
                backwards.next();
            }
        }
        run.pop()
    })
}

#[cfg(test)]
mod tests;
