//! `contacts.search`: Rocket.Chat's pagination helper (`getPaginationItems`), its `sort`
//! parameter (`parseJsonQuery`), and the MongoDB query of `findPaginatedContacts`, as
//! functions over contact documents.

use std::cmp::Ordering;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::request::SearchContactsQuery;
use crate::validation::js;

/// `API_Default_Count` and `API_Upper_Count_Limit`, at their default settings.
const DEFAULT_COUNT: i64 = 50;
const UPPER_COUNT_LIMIT: i64 = 100;

/// A search, as the route hands it to `getContacts`.
#[derive(Debug)]
pub struct Search {
    text: String,
    /// `new RegExp(escapeRegExp(text), 'i')`, compiled only for the reference matcher: the
    /// store matches folded text (store/fold.rs), and compiling a case-insensitive pattern
    /// was most of a text search's time on a small workspace.
    pattern: OnceLock<Option<fancy_regex::Regex>>,
    unknown: bool,
    /// `count` as answered; `0` means no limit (`API_Allow_Infinite_Count` is on by default).
    pub count: i64,
    pub offset: i64,
    sort: Vec<(String, Direction)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ascending,
    Descending,
}

/// A `sort` parameter `parseJsonQuery` refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid sort parameter provided: \"{0}\"")]
pub struct InvalidSort(pub String);

/// A `offset` MongoDB refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("skip value must be non-negative, but received: {0}")]
pub struct NegativeOffset(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Sort(#[from] InvalidSort),
    #[error(transparent)]
    Offset(#[from] NegativeOffset),
}

impl Search {
    pub fn new(query: SearchContactsQuery) -> Result<Self, SearchError> {
        // getPaginationItems: `parseInt(String(value))`; a missing count is the default, a
        // zero count means "all", anything above the upper limit is the limit.
        let offset = query.offset.as_ref().and_then(js::parse_int).unwrap_or(0);
        let count = match &query.count {
            Some(count) => js::parse_int(count).unwrap_or(0).min(UPPER_COUNT_LIMIT),
            None => DEFAULT_COUNT,
        };
        let sort = match query.sort.as_deref().filter(|s| !s.is_empty()) {
            Some(text) => parse_sort(text)?,
            None => vec![("name".to_owned(), Direction::Ascending)],
        };
        if offset < 0 {
            return Err(NegativeOffset(offset).into());
        }
        Ok(Self {
            text: query.search_text.unwrap_or_default(),
            pattern: OnceLock::new(),
            unknown: query.unknown.unwrap_or(false),
            count,
            offset,
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
        match self.sort.as_slice() {
            [(field, direction)] if field == "name" => Some(*direction == Direction::Descending),
            _ => None,
        }
    }

    /// The top-level fields the sort reads (`emails` for `emails.address`).
    pub(crate) fn sort_fields(&self) -> impl Iterator<Item = &str> {
        self.sort
            .iter()
            .map(|(path, _)| path.split('.').next().unwrap_or(path))
    }

    /// The page: how many to skip, and how many to take at most.
    pub(crate) fn page(&self) -> (usize, usize) {
        (
            usize::try_from(self.offset).unwrap_or(usize::MAX),
            self.limit().unwrap_or(usize::MAX),
        )
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
        for (path, direction) in &self.sort {
            let ordering = match direction {
                Direction::Ascending => {
                    sort_key(a, path, *direction).cmp_bson(&sort_key(b, path, *direction))
                }
                Direction::Descending => {
                    sort_key(b, path, *direction).cmp_bson(&sort_key(a, path, *direction))
                }
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }

    /// MongoDB's `limit`: 0 is none, and a negative limit takes that many as well.
    pub fn limit(&self) -> Option<usize> {
        usize::try_from(self.count.unsigned_abs())
            .ok()
            .filter(|n| *n > 0)
    }
}

/// `parseJsonQuery`: a JSON object whose every value is `1` or `-1`. Anything else is
/// refused; where upstream would pass a number, boolean or array on to MongoDB (which then
/// fails), the mock refuses it the same way.
fn parse_sort(text: &str) -> Result<Vec<(String, Direction)>, InvalidSort> {
    let invalid = || InvalidSort(text.to_owned());
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid());
    };
    fields
        .into_iter()
        .map(|(field, value)| match value.as_f64() {
            Some(1.0) => Ok((field, Direction::Ascending)),
            Some(-1.0) => Ok((field, Direction::Descending)),
            _ => Err(invalid()),
        })
        .collect()
}

/// The values a dotted path reaches, through arrays as MongoDB walks them.
fn values_at<'a>(document: &'a Map<String, Value>, path: &str) -> Vec<&'a Value> {
    fn walk<'a>(value: &'a Value, keys: &[&str], out: &mut Vec<&'a Value>) {
        match (keys.split_first(), value) {
            (None, _) => out.push(value),
            (Some(_), Value::Array(items)) => {
                for item in items {
                    walk(item, keys, out);
                }
            }
            (Some((key, rest)), Value::Object(map)) => {
                if let Some(next) = map.get(*key) {
                    walk(next, rest, out);
                }
            }
            _ => {}
        }
    }
    let keys: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    if let Some((first, rest)) = keys.split_first()
        && let Some(value) = document.get(*first)
    {
        walk(value, rest, &mut out);
    }
    out
}

/// A document's sort key for one field: a missing field sorts as `null`; an array sorts by
/// its smallest element ascending and its largest descending.
fn sort_key<'a>(document: &'a Map<String, Value>, path: &str, direction: Direction) -> SortKey<'a> {
    let mut values: Vec<&Value> = Vec::new();
    for value in values_at(document, path) {
        match value {
            Value::Array(items) if !items.is_empty() => values.extend(items.iter()),
            other => values.push(other),
        }
    }
    let chosen = match direction {
        Direction::Ascending => values
            .into_iter()
            .min_by(|a, b| SortKey(Some(a)).cmp_bson(&SortKey(Some(b)))),
        Direction::Descending => values
            .into_iter()
            .max_by(|a, b| SortKey(Some(a)).cmp_bson(&SortKey(Some(b)))),
    };
    SortKey(chosen)
}

struct SortKey<'a>(Option<&'a Value>);

impl SortKey<'_> {
    /// BSON comparison order: null (and missing) < numbers < strings < objects < arrays <
    /// booleans. Dates are held as ISO 8601 strings, which sort as the dates do.
    fn cmp_bson(&self, other: &Self) -> Ordering {
        fn class(value: Option<&Value>) -> u8 {
            match value {
                None | Some(Value::Null) => 0,
                Some(Value::Number(_)) => 1,
                Some(Value::String(_)) => 2,
                Some(Value::Object(_)) => 3,
                Some(Value::Array(_)) => 4,
                Some(Value::Bool(_)) => 5,
            }
        }
        match (self.0, other.0) {
            (Some(Value::Number(a)), Some(Value::Number(b))) => a
                .as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(Ordering::Equal),
            (Some(Value::String(a)), Some(Value::String(b))) => a.cmp(b),
            (Some(Value::Bool(a)), Some(Value::Bool(b))) => a.cmp(b),
            (Some(a @ (Value::Object(_) | Value::Array(_))), Some(b))
                if class(Some(a)) == class(Some(b)) =>
            {
                a.to_string().cmp(&b.to_string())
            }
            (a, b) => class(a).cmp(&class(b)),
        }
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
        assert_eq!((s.count, s.offset), (50, 0));
        let s = search(json!({"count": 500, "offset": 2.7})).unwrap();
        assert_eq!((s.count, s.offset), (100, 2));
        let s = search(json!({"count": 0})).unwrap();
        assert_eq!((s.count, s.limit()), (0, None));
        let s = search(json!({"count": -3})).unwrap();
        assert_eq!((s.count, s.limit()), (-3, Some(3)));
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
