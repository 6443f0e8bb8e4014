//! `contacts.search`: Rocket.Chat's pagination helper (`getPaginationItems`), its `sort`
//! parameter (`parseJsonQuery`), and the MongoDB query of `findPaginatedContacts`, as
//! functions over contact documents.

use std::cmp::Ordering;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::paging::{Direction, Page, Sort, values_at};
pub use super::paging::{InvalidSort, NegativeOffset};
use super::request::SearchContactsQuery;

/// A search, as the route hands it to `getContacts`.
#[derive(Debug)]
pub struct Search {
    text: String,
    /// `new RegExp(escapeRegExp(text), 'i')`, compiled only for the reference matcher: the
    /// store matches folded text (store/fold.rs), and compiling a case-insensitive pattern
    /// was most of a text search's time on a small workspace.
    pattern: OnceLock<Option<fancy_regex::Regex>>,
    unknown: bool,
    /// `count` and `offset` as answered.
    pub page: Page,
    sort: Sort,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Sort(#[from] InvalidSort),
    #[error(transparent)]
    Offset(#[from] NegativeOffset),
}

impl Search {
    pub fn new(query: SearchContactsQuery) -> Result<Self, SearchError> {
        // The sort is parsed first: a bad sort is refused before a bad offset.
        let sort = Sort::parse(query.sort.as_deref(), &[("name", true)])?;
        let page = Page::new(query.count.as_ref(), query.offset.as_ref())?;
        Ok(Self {
            text: query.search_text.unwrap_or_default(),
            pattern: OnceLock::new(),
            unknown: query.unknown.unwrap_or(false),
            page,
            sort,
        })
    }

    /// The text to find in the name, an e-mail address or a phone number: a
    /// case-insensitive substring (`escapeRegExp` makes every character literal).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The `unknown` value listed contacts must have.
    pub(crate) fn unknown(&self) -> bool {
        self.unknown
    }

    /// `Some(descending)` when the order is by name alone, the order the store indexes.
    pub(crate) fn name_order(&self) -> Option<bool> {
        match self.sort.0.as_slice() {
            [(field, direction)] if field == "name" => Some(*direction == Direction::Descending),
            _ => None,
        }
    }

    /// The top-level fields the sort reads (`emails` for `emails.address`).
    pub(crate) fn sort_fields(&self) -> impl Iterator<Item = &str> {
        self.sort
            .0
            .iter()
            .map(|(path, _)| path.split('.').next().unwrap_or(path))
    }

    /// The query's filter (the reference the store's indexed search is tested against):
    /// enabled, `unknown` exactly as asked (a contact without the field
    /// never matches), and the text in the name, an e-mail address or a phone number (a
    /// contact with none of the three never matches, even for an empty text).
    pub fn matches(&self, contact: &Map<String, Value>) -> bool {
        if contact.get("enabled") == Some(&Value::Bool(false))
            || contact.get("unknown") != Some(&Value::Bool(self.unknown))
        {
            return false;
        }
        let pattern = self.pattern.get_or_init(|| {
            fancy_regex::RegexBuilder::new(&fancy_regex::escape(&self.text))
                .case_insensitive(true)
                .build()
                .ok()
        });
        let Some(pattern) = pattern else {
            return false;
        };
        let found = |text: &Value| {
            text.as_str()
                .is_some_and(|t| pattern.is_match(t).unwrap_or(false))
        };
        contact.get("name").is_some_and(found)
            || values_at(contact, "emails.address")
                .iter()
                .any(|v| found(v))
            || values_at(contact, "phones.phoneNumber")
                .iter()
                .any(|v| found(v))
    }

    /// MongoDB's order for the sort keys; ties keep the collection's natural order (the
    /// caller breaks them by position).
    pub fn compare(&self, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
        self.sort.compare(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn search(query: Value) -> Result<Search, SearchError> {
        Search::new(serde_json::from_value(query).unwrap())
    }

    #[test]
    fn pagination_follows_get_pagination_items() {
        let s = search(json!({})).unwrap();
        assert_eq!((s.page.count, s.page.offset), (50, 0));
        let s = search(json!({"count": 500, "offset": 2.7})).unwrap();
        assert_eq!((s.page.count, s.page.offset), (100, 2));
        let s = search(json!({"count": 0})).unwrap();
        assert_eq!((s.page.count, s.page.limit()), (0, None));
        let s = search(json!({"count": -3})).unwrap();
        assert_eq!((s.page.count, s.page.limit()), (-3, Some(3)));
        assert_eq!(
            search(json!({"offset": -1})).unwrap_err(),
            SearchError::Offset(NegativeOffset(-1))
        );
    }

    #[test]
    fn sort_must_be_an_object_of_one_or_minus_one() {
        assert!(search(json!({"sort": "{\"name\":-1,\"createdAt\":1}"})).is_ok());
        for bad in ["{\"name\":2}", "name", "null", "[1]", "{\"name\":\"asc\"}"] {
            assert_eq!(
                search(json!({"sort": bad})).unwrap_err(),
                SearchError::Sort(InvalidSort(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn matches_text_in_name_emails_or_phones_only_for_known_enabled_contacts() {
        let s = search(json!({"searchText": "JOHN."})).unwrap();
        let contact = |v: Value| v.as_object().unwrap().clone();
        assert!(s.matches(&contact(
            json!({"unknown": false, "emails": [{"address": "john.doe@x.io"}]})
        )));
        assert!(!s.matches(&contact(json!({"unknown": false, "name": "Johnny"}))));
        assert!(!s.matches(&contact(json!({"name": "john.x"}))));
        let all = search(json!({})).unwrap();
        assert!(!all.matches(&contact(json!({"unknown": false}))));
        assert!(!all.matches(&contact(
            json!({"unknown": false, "name": "a", "enabled": false})
        )));
    }

    #[test]
    fn missing_fields_sort_first_and_arrays_by_their_extremes() {
        let s = search(json!({"sort": "{\"emails.address\":1}"})).unwrap();
        let a = json!({"emails": [{"address": "b"}, {"address": "z"}]});
        let b = json!({"emails": [{"address": "c"}]});
        let none = json!({"name": "x"});
        let (a, b, none) = (
            a.as_object().unwrap(),
            b.as_object().unwrap(),
            none.as_object().unwrap(),
        );
        assert_eq!(s.compare(a, b), Ordering::Less);
        assert_eq!(s.compare(none, a), Ordering::Less);
        let desc = search(json!({"sort": "{\"emails.address\":-1}"})).unwrap();
        assert_eq!(desc.compare(a, b), Ordering::Less);
    }
}
