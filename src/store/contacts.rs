//! The contacts collection: each contact kept as its serialized document plus the few keys
//! the routes read, with the secondary indexes every write keeps in step.
//!
//! A document is parsed only to change it (or to answer a search page with its manager);
//! `contacts.get` answers the stored bytes as they are. Everything is persistent (`imbl`), so
//! a session made from the fixtures, a reset and a reader's snapshot cost nothing and share
//! every unchanged contact with the fixtures.

use std::cmp::Ordering;
use std::sync::Arc;

use imbl::{HashMap, OrdMap, OrdSet};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::fold::{FoldedValues, Needle};
use super::index::MultiIndex;
use crate::domain::contact::Contact;
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
    /// The name, e-mail addresses and phone numbers, case-folded for the text search.
    values: FoldedValues,
}

impl StoredContact {
    /// The document, parsed for a change or a search page.
    pub(crate) fn document(&self) -> Map<String, Value> {
        // The text was written by serde_json from a map: it parses back to one.
        serde_json::from_str(self.0.json.get()).unwrap_or_default()
    }

    fn is_enabled(&self) -> bool {
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
    enabled: bool,
    unknown: Option<bool>,
}

impl<'a> Keys<'a> {
    fn of(document: &'a Map<String, Value>) -> Self {
        // `emails[].address` and `phones[].phoneNumber`, as `countByContactInfo` and the
        // search's regex read them (the fixture check guarantees these shapes).
        let list = |field: &str, key: &str| -> Vec<&'a str> {
            document
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|item| item.get(key).and_then(Value::as_str))
                .collect()
        };
        Self {
            id: document
                .get("_id")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            name: document.get("name").and_then(Value::as_str),
            emails: list("emails", "address"),
            phones: list("phones", "phoneNumber"),
            enabled: document.get("enabled") != Some(&Value::Bool(false)),
            unknown: document.get("unknown").and_then(Value::as_bool),
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
    emails: Box<[Box<str>]>,
    phones: Box<[Box<str>]>,
}

impl PreparedContact {
    pub(crate) fn new(document: &Map<String, Value>) -> Self {
        let keys = Keys::of(document);
        let values = FoldedValues::new(
            keys.name
                .into_iter()
                .chain(keys.emails.iter().copied())
                .chain(keys.phones.iter().copied()),
        );
        let json = serde_json::value::to_raw_value(document).expect("a JSON map always serializes");
        Self {
            id: Arc::from(keys.id),
            emails: keys.emails.iter().map(|&e| Box::from(e)).collect(),
            phones: keys.phones.iter().map(|&p| Box::from(p)).collect(),
            contact: StoredContact(Arc::new(Inner {
                json,
                name: keys.name.map(Arc::from),
                enabled: keys.enabled,
                listed: keys.listed(),
                values,
            })),
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
    by_id: HashMap<Arc<str>, u64>,
    by_email: MultiIndex,
    by_phone: MultiIndex,
    /// The listed contacts, `[unknown: false, unknown: true]`.
    by_name: [NameIndex; 2],
    next_position: u64,
}

impl Contacts {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Adds a contact after the others, or replaces the one with its `_id` in its place.
    pub(crate) fn upsert(&mut self, prepared: PreparedContact) {
        let position = match self.by_id.get(&prepared.id) {
            Some(&position) => {
                self.unindex(position);
                position
            }
            None => {
                let position = self.next_position;
                self.next_position += 1;
                self.by_id.insert(prepared.id.clone(), position);
                position
            }
        };
        self.index(position, &prepared);
        self.slots.insert(position, prepared.contact);
    }

    /// Files the contact at `position` under its keys.
    fn index(&mut self, position: u64, prepared: &PreparedContact) {
        for email in &prepared.emails {
            self.by_email.insert(email, position);
        }
        for phone in &prepared.phones {
            self.by_phone.insert(phone, position);
        }
        let inner = &prepared.contact.0;
        if let Some(unknown) = inner.listed {
            self.by_name[usize::from(unknown)].insert((inner.name.clone(), position));
        }
    }

    /// Takes the contact at `position` out of the secondary indexes (not out of `by_id`:
    /// its `_id` never changes).
    fn unindex(&mut self, position: u64) {
        let Some(stored) = self.slots.get(&position).cloned() else {
            return;
        };
        let document = stored.document();
        let keys = Keys::of(&document);
        for email in &keys.emails {
            self.by_email.remove(email, position);
        }
        for phone in &keys.phones {
            self.by_phone.remove(phone, position);
        }
        if let Some(unknown) = stored.0.listed {
            self.by_name[usize::from(unknown)].remove(&(stored.0.name.clone(), position));
        }
    }

    /// The contact with this `_id`, deleted ones included.
    fn by_id(&self, id: &str) -> Option<&StoredContact> {
        let position = self.by_id.get(id)?;
        self.slots.get(position)
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
        let mut contact = Contact::from_document(stored.document());
        change(&mut contact)?;
        let prepared = PreparedContact::new(contact.document());
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
            self.slots.get(&position).is_some_and(|stored| {
                let document = stored.document();
                let keys = Keys::of(&document);
                id.is_none_or(|id| keys.id == id)
                    && email.is_none_or(|e| keys.emails.contains(&e))
                    && phone.is_none_or(|p| keys.phones.contains(&p))
            })
        };
        match (id, email, phone) {
            (Some(id), None, None) => self.by_id.contains_key(id),
            (None, Some(email), None) => self.by_email.positions(email).next().is_some(),
            (None, None, Some(phone)) => self.by_phone.positions(phone).next().is_some(),
            (Some(id), _, _) => self.by_id.get(id).is_some_and(|&p| check(p)),
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
        let Some(text) = search.text() else {
            return (Vec::new(), 0);
        };
        let (offset, limit) = search.page();
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
                let needle = Needle::new(text);
                let mut found: Vec<(Option<Arc<str>>, u64)> = if text.is_empty() {
                    index.iter().cloned().collect()
                } else {
                    self.slots
                        .iter()
                        .filter(|(_, c)| {
                            c.0.listed == Some(search.unknown()) && c.0.values.contains(&needle)
                        })
                        .map(|(p, c)| (c.0.name.clone(), *p))
                        .collect()
                };
                total = found.len();
                match order {
                    Some(false) => found.sort_unstable(),
                    Some(true) => {
                        found.sort_unstable_by(|(na, pa), (nb, pb)| nb.cmp(na).then(pa.cmp(pb)))
                    }
                    None => {
                        let mut documents: Vec<(u64, Map<String, Value>)> = found
                            .iter()
                            .map(|(_, p)| (*p, self.slots[p].document()))
                            .collect();
                        documents.sort_by(|(pa, a), (pb, b)| search.compare(a, b).then(pa.cmp(pb)));
                        found = documents.into_iter().map(|(p, _)| (None, p)).collect();
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
