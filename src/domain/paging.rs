//! Rocket.Chat's paging and sorting of list routes: `getPaginationItems` (`count`,
//! `offset`) and `parseJsonQuery` (`sort`), with MongoDB's sort order over documents.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::validation::js;

/// `API_Default_Count` and `API_Upper_Count_Limit`, at their default settings.
const DEFAULT_COUNT: i64 = 50;
const UPPER_COUNT_LIMIT: i64 = 100;

/// `count` and `offset` as `getPaginationItems` reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// As answered; `0` means no limit (`API_Allow_Infinite_Count` is on by default).
    pub count: i64,
    pub offset: i64,
}

impl Page {
    /// `parseInt(String(value))`: a missing count is the default, a zero count means "all",
    /// anything above the upper limit is the limit; a negative offset is MongoDB's refusal.
    pub fn new(count: Option<&Number>, offset: Option<&Number>) -> Result<Self, NegativeOffset> {
        let offset = offset.and_then(js::parse_int).unwrap_or(0);
        let count = match count {
            Some(count) => js::parse_int(count).unwrap_or(0).min(UPPER_COUNT_LIMIT),
            None => DEFAULT_COUNT,
        };
        if offset < 0 {
            return Err(NegativeOffset(offset));
        }
        Ok(Self { count, offset })
    }

    /// MongoDB's `limit`: 0 is none, and a negative limit takes that many as well.
    pub fn limit(&self) -> Option<usize> {
        usize::try_from(self.count.unsigned_abs())
            .ok()
            .filter(|n| *n > 0)
    }

    /// How many to skip, and how many to take at most.
    pub fn bounds(&self) -> (usize, usize) {
        (
            usize::try_from(self.offset).unwrap_or(usize::MAX),
            self.limit().unwrap_or(usize::MAX),
        )
    }

    /// This page of `items`.
    pub fn of<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        let (skip, take) = self.bounds();
        items.into_iter().skip(skip).take(take).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
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

/// A `sort` parameter: fields and directions, compared as MongoDB does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort(pub(crate) Vec<(String, Direction)>);

impl Sort {
    /// The `sort` sent, or `default` (`[("name", true)]`: by name, ascending).
    pub fn parse(text: Option<&str>, default: &[(&str, bool)]) -> Result<Self, InvalidSort> {
        let parsed = match text.filter(|s| !s.is_empty()) {
            Some(text) => parse_sort(text)?,
            None => None,
        };
        match parsed {
            Some(fields) => Ok(Self(fields)),
            None => Ok(Self(
                default
                    .iter()
                    .map(|(field, ascending)| {
                        let direction = if *ascending {
                            Direction::Ascending
                        } else {
                            Direction::Descending
                        };
                        ((*field).to_owned(), direction)
                    })
                    .collect(),
            )),
        }
    }

    /// MongoDB's order for the sort keys; ties keep the collection's natural order (the
    /// caller breaks them by position).
    pub fn compare(&self, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
        for (path, direction) in &self.0 {
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

    /// `documents` in this order, ties in their given order.
    pub fn sorted(&self, mut documents: Vec<Map<String, Value>>) -> Vec<Map<String, Value>> {
        documents.sort_by(|a, b| self.compare(a, b));
        documents
    }
}

/// `parseJsonQuery`: a JSON object whose every value is `1` or `-1`. Anything else is
/// refused; where upstream would pass a number, boolean or array on to MongoDB (which then
/// fails), the mock refuses it the same way.
fn parse_sort(text: &str) -> Result<Option<Vec<(String, Direction)>>, InvalidSort> {
    let invalid = || InvalidSort(text.to_owned());
    let fields = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(fields)) => fields,
        // `Object.entries` of these is empty, so they pass; then `sort || default` takes
        // the default for the falsy ones, and an empty sort (natural order) for `[]`.
        Ok(Value::Bool(false)) => return Ok(None),
        Ok(Value::Number(n)) if n.as_f64() == Some(0.0) => return Ok(None),
        Ok(Value::String(s)) if s.is_empty() => return Ok(None),
        Ok(Value::Array(items)) if items.is_empty() => return Ok(Some(Vec::new())),
        _ => return Err(invalid()),
    };
    fields
        .into_iter()
        .map(|(field, value)| match value.as_f64() {
            Some(1.0) => Ok((field, Direction::Ascending)),
            Some(-1.0) => Ok((field, Direction::Descending)),
            _ => Err(invalid()),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// The values a dotted path reaches, through arrays as MongoDB walks them.
pub(crate) fn values_at<'a>(document: &'a Map<String, Value>, path: &str) -> Vec<&'a Value> {
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
