//! The request journal: what clients sent and what they were answered, newest last, in a
//! ring buffer per session.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AUTH_TOKEN_HEADER;
use crate::store::iso_millis;

/// One request and its answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JournalEntry {
    /// Increases by one per request in the session, from 1; gaps show dropped entries.
    pub id: u64,
    /// When the request arrived (ISO 8601, UTC).
    pub time: String,
    /// The `X-Mock-Session` it was made in; absent for the default session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub method: String,
    pub path: String,
    /// The query string's parameters; a repeated one is an array.
    #[schema(value_type = Object)]
    pub query: Map<String, Value>,
    /// The request headers, names in lower case; `x-auth-token` is redacted.
    #[schema(value_type = Object)]
    pub headers: Map<String, Value>,
    /// The body: JSON when it parses as JSON, otherwise its text; `null` when empty.
    #[schema(value_type = serde_json::Value)]
    pub body: Value,
    /// The status answered; absent when a fault answered nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The response body, parsed when it is JSON, otherwise its text.
    #[schema(value_type = serde_json::Value)]
    pub response: Value,
    /// From the request's arrival to the answer, including any added delay.
    #[serde(rename = "durationMs")]
    pub duration_ms: f64,
    /// The `Prefer` header's forced response or fault that answered instead of the route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced: Option<String>,
}

/// Which entries `GET /_mock/requests` returns.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JournalFilter {
    /// Only requests to this exact path, e.g. `/api/v1/omnichannel/contacts.update`.
    pub path: Option<String>,
    /// Only requests with this method (any case).
    pub method: Option<String>,
    /// Only the newest this many (after filtering).
    pub limit: Option<usize>,
}

/// What `GET /_mock/requests` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalPage {
    /// Matching entries, oldest first.
    pub requests: Vec<JournalEntry>,
    /// Entries the journal holds at most (`--journal-size`).
    pub capacity: usize,
    /// Entries dropped to make room since the journal was last cleared.
    pub dropped: u64,
}

/// A request as recorded: the raw parts, cheap to keep (the bodies and header values are
/// shared buffers). They are turned into a [`JournalEntry`] only when the journal is read, so
/// that recording costs a request no JSON parsing.
pub(crate) struct Recorded {
    pub(crate) id: u64,
    pub(crate) arrived: jiff::Timestamp,
    pub(crate) session: Option<String>,
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: RecordedBody,
    pub(crate) status: Option<u16>,
    pub(crate) response: Bytes,
    pub(crate) duration: Duration,
    pub(crate) forced: Option<String>,
}

/// The request body as the layer read it.
pub(crate) enum RecordedBody {
    Complete(Bytes),
    /// Larger than the limit (in bytes): not kept.
    OverLimit(usize),
    /// The upload broke off.
    Broken,
}

impl Recorded {
    fn matches(&self, filter: &JournalFilter) -> bool {
        filter.path.as_deref().is_none_or(|p| p == self.path)
            && filter
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(self.method.as_str()))
    }

    fn entry(&self) -> JournalEntry {
        JournalEntry {
            id: self.id,
            time: iso_millis(self.arrived),
            session: self.session.clone(),
            method: self.method.to_string(),
            path: self.path.clone(),
            query: query_object(&self.query),
            headers: header_object(&self.headers),
            body: match &self.body {
                RecordedBody::Complete(bytes) if bytes.is_empty() => Value::Null,
                RecordedBody::Complete(bytes) => json_or_text(bytes),
                RecordedBody::OverLimit(limit) => {
                    Value::String(format!("<more than {limit} bytes: not recorded>"))
                }
                RecordedBody::Broken => Value::String("<the upload broke off>".to_owned()),
            },
            status: self.status,
            response: match self.status {
                Some(_) => json_or_text(&self.response),
                None => Value::Null,
            },
            duration_ms: millis(self.duration),
            forced: self.forced.clone(),
        }
    }
}

/// Milliseconds, to the microsecond.
pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// The query string's parameters; a repeated one becomes an array.
fn query_object(query: &str) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = Value::String(value.into_owned());
        match object.get_mut(name.as_ref()) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
            None => {
                object.insert(name.into_owned(), value);
            }
        }
    }
    object
}

/// Header names in lower case; a repeated header's values joined with ", "; the auth token
/// redacted.
fn header_object(headers: &[(HeaderName, HeaderValue)]) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in headers {
        let value = if name.as_str().eq_ignore_ascii_case(AUTH_TOKEN_HEADER) {
            "[redacted]".to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        match object.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                if joined != "[redacted]" {
                    joined.push_str(", ");
                    joined.push_str(&value);
                }
            }
            _ => {
                object.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    object
}

pub struct Journal {
    capacity: usize,
    entries: Mutex<VecDeque<Recorded>>,
    next_id: AtomicU64,
    dropped: AtomicU64,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            next_id: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
        }
    }

    /// Whether the journal keeps anything (`--journal-size` above 0).
    pub fn is_recording(&self) -> bool {
        self.capacity > 0
    }

    /// The number of a request that just arrived: entries are numbered by arrival.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Records `entry` in arrival order; the oldest entry makes room when the journal is full.
    pub(crate) fn record(&self, entry: Recorded) {
        if self.capacity == 0 {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Concurrent requests finish out of order; keep the journal ordered by arrival.
        let at = entries.partition_point(|e| e.id < entry.id);
        entries.insert(at, entry);
        let evicted = (entries.len() > self.capacity)
            .then(|| entries.pop_front())
            .flatten();
        // The evicted entry's bytes are freed after the lock is released: every other
        // request of the session records through this lock.
        drop(entries);
        if evicted.is_some() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn page(&self, filter: &JournalFilter) -> JournalPage {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut matching: Vec<&Recorded> = entries.iter().filter(|e| e.matches(filter)).collect();
        if let Some(limit) = filter.limit {
            matching.drain(..matching.len().saturating_sub(limit));
        }
        let requests = matching.into_iter().map(Recorded::entry).collect();
        JournalPage {
            requests,
            capacity: self.capacity,
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.dropped.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Recorded {
        Recorded {
            id: 0,
            arrived: jiff::Timestamp::UNIX_EPOCH,
            session: None,
            method: Method::POST,
            path: path.to_owned(),
            query: String::new(),
            headers: Vec::new(),
            body: RecordedBody::Complete(Bytes::new()),
            status: Some(200),
            response: Bytes::from_static(b"{}"),
            duration: Duration::ZERO,
            forced: None,
        }
    }

    #[test]
    fn a_full_journal_drops_the_oldest_and_counts_it() {
        let journal = Journal::new(2);
        for path in ["/a", "/b", "/c"] {
            let mut entry = entry(path);
            entry.id = journal.next_id();
            journal.record(entry);
        }
        let page = journal.page(&JournalFilter::default());
        let paths: Vec<_> = page.requests.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/b", "/c"]);
        assert_eq!(page.dropped, 1);
        assert_eq!(page.requests[1].id, 3);
        journal.clear();
        assert!(journal.page(&JournalFilter::default()).requests.is_empty());
    }

    #[test]
    fn filters_by_path_method_and_limit() {
        let journal = Journal::new(10);
        for path in ["/a", "/b", "/a", "/a"] {
            let mut entry = entry(path);
            entry.id = journal.next_id();
            journal.record(entry);
        }
        let filter = JournalFilter {
            path: Some("/a".to_owned()),
            method: Some("post".to_owned()),
            limit: Some(2),
        };
        let ids: Vec<_> = journal
            .page(&filter)
            .requests
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, [3, 4]);
        let filter = JournalFilter {
            method: Some("GET".to_owned()),
            ..JournalFilter::default()
        };
        assert!(journal.page(&filter).requests.is_empty());
    }
}
