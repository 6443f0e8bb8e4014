//! The request journal: what clients sent and what they were answered, per session.
//!
//! Bounded twice, so that a mock left running for days (or fed large bodies by a careless
//! or hostile client) holds a known amount of memory: each session keeps at most
//! `--journal-size` entries, and all sessions together at most `--journal-bytes`, the
//! oldest entry of any session dropped first. Each body is kept up to
//! `--journal-body-limit` bytes, marked when cut. Secrets are redacted before an entry is
//! stored ([`super::redact`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::redact;
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
    /// The request headers, names in lower case; credentials (`x-auth-token`,
    /// `authorization`, `cookie`, `x-2fa-code`) are `[redacted]`.
    #[schema(value_type = Object)]
    pub headers: Map<String, Value>,
    /// The body: JSON when it parses as JSON, otherwise its text; `null` when empty.
    /// Passwords, login tokens and two-factor codes are `[redacted]`.
    #[schema(value_type = serde_json::Value)]
    pub body: Value,
    /// Present when the body was longer than `--journal-body-limit`: its whole length in
    /// bytes. `body` then holds its first bytes, as text.
    #[serde(rename = "bodyTruncated", skip_serializing_if = "Option::is_none")]
    pub body_truncated: Option<usize>,
    /// The status answered; absent when a fault answered nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The response body, parsed when it is JSON, otherwise its text; secrets redacted as
    /// in `body` (a login answer's `authToken`).
    #[schema(value_type = serde_json::Value)]
    pub response: Value,
    /// As `bodyTruncated`, for the response.
    #[serde(rename = "responseTruncated", skip_serializing_if = "Option::is_none")]
    pub response_truncated: Option<usize>,
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
    /// Entries the session's journal holds at most (`--journal-size`).
    pub capacity: usize,
    /// The session's entries dropped to make room since its journal was last cleared: for
    /// its own `--journal-size`, or for `--journal-bytes`, which all sessions share.
    pub dropped: u64,
}

/// What `GET /_mock/health` says about the journal, all sessions together.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JournalUse {
    /// Entries held.
    pub entries: usize,
    /// Bytes they hold (bodies, headers, path and a fixed overhead per entry).
    pub bytes: usize,
    /// The most they may hold (`--journal-bytes`).
    #[serde(rename = "limitBytes")]
    pub limit_bytes: usize,
    /// The most of each body kept (`--journal-body-limit`).
    #[serde(rename = "bodyLimitBytes")]
    pub body_limit_bytes: usize,
    /// Entries dropped since start, for either bound.
    pub dropped: u64,
}

/// The journal's bounds, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct JournalLimits {
    /// Entries per session (`--journal-size`).
    pub entries: usize,
    /// Bytes across all sessions (`--journal-bytes`).
    pub bytes: usize,
    /// Bytes kept of each request and response body (`--journal-body-limit`).
    pub body_bytes: usize,
}

/// A request as recorded: the raw parts, cheap to keep (the bodies and header values are
/// shared buffers). They are turned into a [`JournalEntry`] only when the journal is read, so
/// that recording costs a request no JSON parsing (but for the few bodies that name a
/// secret field, which are redacted).
#[derive(Clone)]
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
#[derive(Clone)]
pub(crate) enum RecordedBody {
    Complete(Bytes),
    /// Its first bytes, and its whole length.
    Truncated(Bytes, usize),
    /// Larger than the body limit (in bytes): not kept.
    OverLimit(usize),
    /// The upload broke off.
    Broken,
    /// It did not arrive within `--body-timeout`.
    TimedOut,
}

/// A recorded response body, possibly cut.
struct Kept {
    bytes: Bytes,
    /// The whole length, when `bytes` holds only its start.
    truncated: Option<usize>,
}

/// What is stored: the entry with its secrets redacted and its bodies cut, and its size.
struct Stored {
    entry: Recorded,
    /// The key of the session's journal.
    owner: u64,
    response_truncated: Option<usize>,
    size: usize,
}

/// A fixed allowance per entry for what the sizes of its parts do not count (the entry's
/// own fields, the map's nodes).
const ENTRY_OVERHEAD: usize = 256;

impl Recorded {
    fn matches(&self, filter: &JournalFilter) -> bool {
        filter.path.as_deref().is_none_or(|p| p == self.path)
            && filter
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(self.method.as_str()))
    }

    /// Redacts the entry's secrets and cuts its bodies to `body_limit`: what the journal
    /// keeps of it, nothing more.
    fn into_stored(mut self, body_limit: usize) -> Stored {
        let fields = redact::fields_of(&self.path);
        self.query = redact::query(fields, &self.query);
        self.headers = self
            .headers
            .into_iter()
            .map(|(name, value)| {
                // Copied: a parsed header value is a slice of the connection's read
                // buffer, and keeping it would keep the whole buffer (with the body bytes
                // read along with the head) alive for as long as the entry.
                let value = HeaderValue::from_bytes(redact::header(&name, value).as_bytes())
                    .expect("a header value's bytes make a header value");
                (name, value)
            })
            .collect();
        self.body = match self.body {
            RecordedBody::Complete(bytes) => {
                let kept = cut(redact::body(fields, bytes), body_limit);
                match kept.truncated {
                    Some(length) => RecordedBody::Truncated(kept.bytes, length),
                    None => RecordedBody::Complete(kept.bytes),
                }
            }
            other => other,
        };
        let response = cut(redact::body(fields, self.response), body_limit);
        self.response = response.bytes;
        let body_size = match &self.body {
            RecordedBody::Complete(bytes) | RecordedBody::Truncated(bytes, _) => bytes.len(),
            _ => 0,
        };
        let size = ENTRY_OVERHEAD
            + body_size
            + self.response.len()
            + self.path.len()
            + self.query.len()
            + self
                .headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len())
                .sum::<usize>();
        Stored {
            entry: self,
            owner: 0,
            response_truncated: response.truncated,
            size,
        }
    }

    fn entry(&self, response_truncated: Option<usize>) -> JournalEntry {
        let (body, body_truncated) = match &self.body {
            RecordedBody::Complete(bytes) if bytes.is_empty() => (Value::Null, None),
            RecordedBody::Complete(bytes) => (json_or_text(bytes), None),
            RecordedBody::Truncated(bytes, length) => (text(bytes), Some(*length)),
            RecordedBody::OverLimit(limit) => (
                Value::String(format!("<more than {limit} bytes: not recorded>")),
                None,
            ),
            RecordedBody::Broken => (Value::String("<the upload broke off>".to_owned()), None),
            RecordedBody::TimedOut => (
                Value::String("<the body did not arrive within --body-timeout>".to_owned()),
                None,
            ),
        };
        JournalEntry {
            id: self.id,
            time: iso_millis(self.arrived),
            session: self.session.clone(),
            method: self.method.to_string(),
            path: self.path.clone(),
            query: query_object(&self.query),
            headers: header_object(&self.headers),
            body,
            body_truncated,
            status: self.status,
            response: match (self.status, response_truncated) {
                (None, _) => Value::Null,
                (Some(_), Some(_)) => text(&self.response),
                (Some(_), None) => json_or_text(&self.response),
            },
            response_truncated,
            duration_ms: millis(self.duration),
            forced: self.forced.clone(),
        }
    }
}

/// The first `limit` bytes of `bytes`, copied so that the whole buffer can be freed; at a
/// character boundary when the text is UTF-8.
fn cut(bytes: Bytes, limit: usize) -> Kept {
    if bytes.len() <= limit {
        return Kept {
            bytes,
            truncated: None,
        };
    }
    let mut end = limit;
    // A UTF-8 continuation byte is 0b10xxxxxx: back up to the start of its character.
    while end > 0 && end > limit.saturating_sub(3) && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    Kept {
        truncated: Some(bytes.len()),
        bytes: Bytes::copy_from_slice(&bytes[..end]),
    }
}

/// Milliseconds, to the microsecond.
pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| text(bytes))
}

fn text(bytes: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(bytes).into_owned())
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

/// Header names in lower case; a repeated header's values joined with ", " (a redacted one
/// stays one marker).
fn header_object(headers: &[(HeaderName, HeaderValue)]) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match object.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                if joined != redact::MARKER {
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

/// Every session's entries, under one byte budget: `entries` in the order they were
/// stored (by a sequence number), and each session's sequence numbers, oldest first.
/// Dropping the oldest entry of all is then `pop_first`, and a session's oldest the front
/// of its queue.
#[derive(Default)]
struct Entries {
    by_sequence: BTreeMap<u64, Stored>,
    sessions: HashMap<u64, SessionEntries>,
    bytes: usize,
    next_sequence: u64,
    dropped: u64,
}

#[derive(Default)]
struct SessionEntries {
    sequences: VecDeque<u64>,
    dropped: u64,
}

impl Entries {
    /// Removes the session's oldest entry, counting it dropped; whether there was one.
    fn drop_oldest_of(&mut self, session: u64, evicted: &mut Vec<Stored>) -> bool {
        let Some(log) = self.sessions.get_mut(&session) else {
            return false;
        };
        let Some(sequence) = log.sequences.pop_front() else {
            return false;
        };
        log.dropped += 1;
        self.dropped += 1;
        match self.by_sequence.remove(&sequence) {
            Some(stored) => {
                self.bytes -= stored.size;
                evicted.push(stored);
                true
            }
            None => false,
        }
    }
}

/// The journals of all sessions: one store, so that one byte budget bounds them all.
pub struct Journals {
    limits: JournalLimits,
    entries: Mutex<Entries>,
    /// Session journals handed out, each a key into `entries`.
    next_session: AtomicU64,
}

impl Journals {
    pub fn new(limits: JournalLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            entries: Mutex::new(Entries::default()),
            next_session: AtomicU64::new(0),
        })
    }

    /// A new session's journal, empty. Its entries are dropped with it.
    pub fn open(self: &Arc<Self>) -> Journal {
        Journal {
            key: self.next_session.fetch_add(1, Ordering::Relaxed),
            next_id: AtomicU64::new(1),
            journals: self.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn usage(&self) -> JournalUse {
        let entries = self.lock();
        JournalUse {
            entries: entries.by_sequence.len(),
            bytes: entries.bytes,
            limit_bytes: self.limits.bytes,
            body_limit_bytes: self.limits.body_bytes,
            dropped: entries.dropped,
        }
    }

    fn record(&self, session: u64, entry: Recorded) {
        // Redacting and cutting happen before the lock: every request records through it.
        let stored = Stored {
            owner: session,
            ..entry.into_stored(self.limits.body_bytes)
        };
        let mut evicted = Vec::new();
        let mut entries = self.lock();
        let sequence = entries.next_sequence;
        entries.next_sequence += 1;
        entries.bytes += stored.size;
        entries.by_sequence.insert(sequence, stored);
        let log = entries.sessions.entry(session).or_default();
        log.sequences.push_back(sequence);
        if log.sequences.len() > self.limits.entries {
            entries.drop_oldest_of(session, &mut evicted);
        }
        // The oldest entry of all is the oldest of its session: dropping it is dropping
        // the front of that session's queue.
        while entries.bytes > self.limits.bytes {
            let Some(owner) = entries.by_sequence.values().next().map(|s| s.owner) else {
                break;
            };
            if !entries.drop_oldest_of(owner, &mut evicted) {
                // Not reached while the queues and the map agree; stays bounded if not.
                if let Some((_, stored)) = entries.by_sequence.pop_first() {
                    entries.bytes -= stored.size;
                    evicted.push(stored);
                }
            }
        }
        // The evicted entries' bytes are freed after the lock is released.
        drop(entries);
        drop(evicted);
    }

    fn page(&self, session: u64, filter: &JournalFilter) -> JournalPage {
        // Copied out under the lock (shared buffers, cheap), turned into JSON outside it.
        let (mut matching, dropped) = {
            let entries = self.lock();
            match entries.sessions.get(&session) {
                None => (Vec::new(), 0),
                Some(log) => (
                    log.sequences
                        .iter()
                        .filter_map(|sequence| entries.by_sequence.get(sequence))
                        .filter(|stored| stored.entry.matches(filter))
                        .map(|stored| (stored.entry.clone(), stored.response_truncated))
                        .collect::<Vec<_>>(),
                    log.dropped,
                ),
            }
        };
        // Stored as requests finish; listed as they arrived.
        matching.sort_by_key(|(entry, _)| entry.id);
        if let Some(limit) = filter.limit {
            matching.drain(..matching.len().saturating_sub(limit));
        }
        JournalPage {
            requests: matching
                .iter()
                .map(|(entry, truncated)| entry.entry(*truncated))
                .collect(),
            capacity: self.limits.entries,
            dropped,
        }
    }

    /// Removes a session's entries; `forget` also its record of drops.
    fn clear(&self, session: u64, forget: bool) {
        let mut evicted = Vec::new();
        let mut entries = self.lock();
        let sequences = if forget {
            entries
                .sessions
                .remove(&session)
                .map(|log| log.sequences)
                .unwrap_or_default()
        } else {
            match entries.sessions.get_mut(&session) {
                Some(log) => {
                    log.dropped = 0;
                    std::mem::take(&mut log.sequences)
                }
                None => VecDeque::new(),
            }
        };
        for sequence in sequences {
            if let Some(stored) = entries.by_sequence.remove(&sequence) {
                entries.bytes -= stored.size;
                evicted.push(stored);
            }
        }
        drop(entries);
        drop(evicted);
    }
}

/// One session's journal: a key into [`Journals`]. Its entries go when it does.
pub struct Journal {
    key: u64,
    next_id: AtomicU64,
    journals: Arc<Journals>,
}

impl Journal {
    /// Whether the journal keeps anything (`--journal-size` and `--journal-bytes` above 0).
    pub fn is_recording(&self) -> bool {
        let limits = self.journals.limits;
        limits.entries > 0 && limits.bytes > 0
    }

    /// The number of a request that just arrived: entries are numbered by arrival.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Stores `entry`, redacted and cut; the oldest entries make room.
    pub(crate) fn record(&self, entry: Recorded) {
        if self.is_recording() {
            self.journals.record(self.key, entry);
        }
    }

    pub fn page(&self, filter: &JournalFilter) -> JournalPage {
        self.journals.page(self.key, filter)
    }

    pub fn clear(&self) {
        self.journals.clear(self.key, false);
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.journals.clear(self.key, true);
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

    fn limits(entries: usize, bytes: usize) -> JournalLimits {
        JournalLimits {
            entries,
            bytes,
            body_bytes: 1024,
        }
    }

    fn record(journal: &Journal, path: &str) {
        let mut entry = entry(path);
        entry.id = journal.next_id();
        journal.record(entry);
    }

    fn paths(journal: &Journal) -> Vec<String> {
        let page = journal.page(&JournalFilter::default());
        page.requests.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn a_full_journal_drops_the_oldest_and_counts_it() {
        let journals = Journals::new(limits(2, usize::MAX));
        let journal = journals.open();
        for path in ["/a", "/b", "/c"] {
            record(&journal, path);
        }
        let page = journal.page(&JournalFilter::default());
        let paths: Vec<_> = page.requests.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/b", "/c"]);
        assert_eq!(page.dropped, 1);
        assert_eq!(page.requests[1].id, 3);
        journal.clear();
        assert!(journal.page(&JournalFilter::default()).requests.is_empty());
        assert_eq!(journals.usage().bytes, 0);
    }

    #[test]
    fn the_byte_budget_drops_the_oldest_entry_of_any_session() {
        let one = entry("/a").into_stored(1024).size;
        let journals = Journals::new(limits(100, one * 3));
        let (first, second) = (journals.open(), journals.open());
        record(&first, "/a");
        record(&second, "/a");
        record(&first, "/a");
        record(&second, "/a");
        assert_eq!(journals.usage().entries, 3);
        assert!(journals.usage().bytes <= one * 3);
        // The first session's first entry was the oldest of all.
        assert_eq!(first.page(&JournalFilter::default()).requests[0].id, 2);
        assert_eq!(first.page(&JournalFilter::default()).dropped, 1);
        assert_eq!(second.page(&JournalFilter::default()).requests.len(), 2);
        // A session's entries go with it.
        drop(first);
        assert_eq!(journals.usage().entries, 2);
        assert_eq!(paths(&second), ["/a", "/a"]);
    }

    #[test]
    fn bodies_are_cut_at_the_limit_and_marked() {
        let journals = Journals::new(limits(10, usize::MAX));
        let journal = journals.open();
        let mut entry = entry("/big");
        entry.id = journal.next_id();
        entry.body = RecordedBody::Complete(Bytes::from(format!("a{}", "é".repeat(1000))));
        entry.response = Bytes::from(vec![b'x'; 5000]);
        journal.record(entry);
        let page = journal.page(&JournalFilter::default());
        let kept = &page.requests[0];
        assert_eq!(kept.body_truncated, Some(2001));
        // 1024 bytes would split a two-byte character: 1023 are kept.
        assert_eq!(kept.body.as_str().unwrap().len(), 1023);
        assert_eq!(kept.response_truncated, Some(5000));
        assert_eq!(kept.response.as_str().unwrap().len(), 1024);
        assert!(journals.usage().bytes < 3000);
    }

    #[test]
    fn filters_by_path_method_and_limit() {
        let journals = Journals::new(limits(10, usize::MAX));
        let journal = journals.open();
        for path in ["/a", "/b", "/a", "/a"] {
            record(&journal, path);
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
