//! Sessions: independent copies of the workspace state. Requests without `X-Mock-Session`
//! share the default session; each named session is made from the fixtures on first use,
//! is bounded in number and is discarded after an idle time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::journal::{Journal, JournalLimits, Journals};
use crate::store::Store;
use crate::store::fixtures::{self, Fixtures, StateError};

/// The longest session name accepted.
const MAX_NAME_LENGTH: usize = 128;

/// One copy of the state and the journal of the requests made on it.
pub struct Session {
    name: Option<String>,
    /// The current state. The lock is held only to copy or swap the pointer, or for one
    /// write's few microseconds: a reader takes a snapshot and works on it unlocked, and a
    /// writer that finds the state shared with a snapshot (or the fixtures) copies the
    /// store's top (a few pointers; the store is persistent) and changes its own.
    store: RwLock<Arc<Store>>,
    journal: Journal,
    /// Milliseconds since the registry's epoch: when a request last started or ended.
    last_used: AtomicU64,
    requests: AtomicU64,
    /// Requests in flight. A session in use never expires: a write answered 200 must not
    /// land in a session already replaced by a fresh one.
    in_use: AtomicU64,
}

impl Session {
    /// `None` for the default (shared) session.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The current state, unaffected by later writes.
    pub fn snapshot(&self) -> Arc<Store> {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs a read-only `operation` on a snapshot of the state.
    pub fn read<R>(&self, operation: impl FnOnce(&Store) -> R) -> R {
        operation(&self.snapshot())
    }

    /// Runs `operation` on the state itself: writes from concurrent requests apply one
    /// after the other, and none is lost. Keep it synchronous and short.
    pub fn write<R>(&self, operation: impl FnOnce(&mut Store) -> R) -> R {
        let mut store = self.store.write().unwrap_or_else(PoisonError::into_inner);
        operation(Arc::make_mut(&mut store))
    }

    /// Replaces the whole state at once. The old state is freed after the lock is released,
    /// and off the caller's thread (see [`retire`]).
    pub fn replace_store(&self, store: Arc<Store>) {
        let old = std::mem::replace(
            &mut *self.store.write().unwrap_or_else(PoisonError::into_inner),
            store,
        );
        retire(old);
    }

    /// Applies `change` to a copy of the state, off the lock, and swaps the result in; a
    /// change is worked out again should a request write in between, so that its write is
    /// not lost. After a few such races the change is applied under the lock.
    fn change_aside(&self, change: impl Fn(&mut Store)) {
        for _ in 0..3 {
            let base = self.snapshot();
            let mut next = Store::clone(&base);
            change(&mut next);
            let mut current = self.store.write().unwrap_or_else(PoisonError::into_inner);
            if Arc::ptr_eq(&current, &base) {
                *current = Arc::new(next);
                return;
            }
        }
        self.write(change);
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    #[error(
        "X-Mock-Session must be 1 to {MAX_NAME_LENGTH} visible ASCII characters (letters, digits, punctuation); got {0:?}"
    )]
    InvalidName(String),
    #[error(
        "cannot open mock session {name:?}: all {max} sessions are in use (--max-sessions); end one with DELETE /_mock/sessions/{{name}} or wait for one to stay idle for {idle}"
    )]
    Exhausted {
        name: String,
        max: usize,
        idle: String,
    },
}

/// What `GET /_mock/sessions` lists about a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummary {
    /// The `X-Mock-Session` value.
    pub name: String,
    /// Requests made in the session (the journal may hold fewer).
    pub requests: u64,
    /// Milliseconds since the session's last request.
    #[serde(rename = "idleMs")]
    pub idle_ms: u64,
    /// How many documents each collection holds.
    #[schema(value_type = Object)]
    pub counts: Value,
}

pub struct Limits {
    pub max_sessions: usize,
    pub idle: Duration,
    pub journal: JournalLimits,
}

/// Every session, and the fixtures new ones are made from.
pub struct Sessions {
    /// The state the fixtures make, kept pristine on purpose: every reset and every new
    /// session starts from it, sharing it until they write.
    fixtures: RwLock<Arc<Store>>,
    default: Arc<Session>,
    named: DashMap<String, Arc<Session>>,
    /// Serialises opening sessions, so that the limit holds under concurrent first uses.
    opening: Mutex<()>,
    limits: Limits,
    journals: Arc<Journals>,
    epoch: Instant,
}

impl Sessions {
    pub fn new(fixtures: Fixtures, limits: Limits) -> Self {
        let fixtures = Arc::new(fixtures.store);
        let epoch = Instant::now();
        let journals = Journals::new(limits.journal);
        Self {
            default: Arc::new(Self::open(None, &fixtures, &journals, 0)),
            fixtures: RwLock::new(fixtures),
            named: DashMap::new(),
            opening: Mutex::new(()),
            limits,
            journals,
            epoch,
        }
    }

    fn open(
        name: Option<String>,
        fixtures: &Arc<Store>,
        journals: &Arc<Journals>,
        now: u64,
    ) -> Session {
        Session {
            name,
            store: RwLock::new(fixtures.clone()),
            journal: journals.open(),
            last_used: AtomicU64::new(now),
            requests: AtomicU64::new(0),
            in_use: AtomicU64::new(0),
        }
    }

    /// Every session's journal together: its use, for `GET /_mock/health`.
    pub fn journals(&self) -> &Journals {
        &self.journals
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn is_expired(&self, session: &Session, now: u64) -> bool {
        if session.in_use.load(Ordering::Acquire) > 0 {
            return false;
        }
        let idle = now.saturating_sub(session.last_used.load(Ordering::Relaxed));
        idle > self.limits.idle.as_millis() as u64
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn default_session(&self) -> &Arc<Session> {
        &self.default
    }

    /// The session a request names (`None`: the default one), opened from the fixtures on
    /// first use or after it expired, and marked in use until the returned guard is
    /// dropped: it cannot expire while a request works on it.
    pub fn resolve(&self, name: Option<&str>) -> Result<InUse, SessionError> {
        let now = self.now();
        let Some(name) = name else {
            return Ok(InUse::enter(&self.default, now, self.epoch));
        };
        if name.is_empty()
            || name.len() > MAX_NAME_LENGTH
            || !name.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        {
            return Err(SessionError::InvalidName(name.to_owned()));
        }
        // Entered while the map's shard is read-locked: the expiry sweep below takes the
        // write lock, so it sees the session either unused and idle or in use, never a
        // session picked but not yet marked.
        if let Some(session) = self.named.get(name)
            && !self.is_expired(&session, now)
        {
            return Ok(InUse::enter(&session, now, self.epoch));
        }
        let _opening = self.opening.lock().unwrap_or_else(PoisonError::into_inner);
        // Expired sessions make room (and the one asked for, if it expired, starts afresh);
        // their states are freed off this worker.
        let mut expired = Vec::new();
        self.named.retain(|_, session| {
            let keep = !self.is_expired(session, now);
            if !keep {
                expired.push(session.clone());
            }
            keep
        });
        retire(expired);
        if let Some(session) = self.named.get(name) {
            return Ok(InUse::enter(&session, now, self.epoch));
        }
        if self.named.len() >= self.limits.max_sessions {
            return Err(SessionError::Exhausted {
                name: name.to_owned(),
                max: self.limits.max_sessions,
                idle: humantime::format_duration(self.limits.idle).to_string(),
            });
        }
        let fixtures = self.fixtures();
        let session = Arc::new(Self::open(
            Some(name.to_owned()),
            &fixtures,
            &self.journals,
            now,
        ));
        let in_use = InUse::enter(&session, now, self.epoch);
        self.named.insert(name.to_owned(), session);
        tracing::debug!(session = name, "mock session opened");
        Ok(in_use)
    }

    /// The state every session starts from.
    pub fn fixtures(&self) -> Arc<Store> {
        self.fixtures
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `session`'s state back to the fixtures.
    pub fn reset(&self, session: &Session) {
        session.replace_store(self.fixtures());
    }

    /// New fixtures (from `--watch`): every session, the default and the named ones, resets
    /// to the new files. The sessions themselves (and their journals) stay: discarding one
    /// with a request in flight would lose that request's write after it was answered.
    pub fn reload(&self, fixtures: Fixtures) {
        let fixtures = Arc::new(fixtures.store);
        let old = std::mem::replace(
            &mut *self
                .fixtures
                .write()
                .unwrap_or_else(PoisonError::into_inner),
            fixtures.clone(),
        );
        self.default.replace_store(fixtures.clone());
        for session in self.named.iter() {
            session.replace_store(fixtures.clone());
        }
        retire(old);
    }

    /// Replaces `session`'s whole state with a `/_mock/state` object; nothing changes when
    /// it is refused. Parsing and checking take long on a large state: call it on the
    /// blocking pool, not on a request worker.
    pub fn replace_state(&self, session: &Session, state: &[u8]) -> Result<(), StateError> {
        let fixtures = Fixtures::from_state(state)?;
        session.replace_store(Arc::new(fixtures.store));
        Ok(())
    }

    /// Inserts or replaces (by `_id`) the documents of a partial state object such as
    /// `{"contacts": [...]}`, checked as fixtures are; nothing changes when one is refused.
    /// As [`Sessions::replace_state`], for the blocking pool: the documents are checked and
    /// prepared before the session is touched, and the new state is built aside.
    pub fn upsert(&self, session: &Session, patch: &[u8]) -> Result<(), StateError> {
        let documents = fixtures::patch_documents(patch)?;
        session.change_aside(|store| store.upsert(documents.clone()));
        Ok(())
    }

    /// Ends the named session; `false` if there was none.
    pub fn end(&self, name: &str) -> bool {
        self.named.remove(name).map(retire).is_some()
    }

    /// The named sessions that are alive, by name.
    pub fn list(&self) -> Vec<SessionSummary> {
        let now = self.now();
        let mut sessions: Vec<SessionSummary> = self
            .named
            .iter()
            .filter(|s| !self.is_expired(s, now))
            .map(|s| SessionSummary {
                name: s.key().clone(),
                requests: s.requests.load(Ordering::Relaxed),
                idle_ms: now.saturating_sub(s.last_used.load(Ordering::Relaxed)),
                counts: s.read(Store::counts),
            })
            .collect();
        sessions.sort_by(|a, b| a.name.cmp(&b.name));
        sessions
    }

    pub fn open_sessions(&self) -> usize {
        let now = self.now();
        self.named
            .iter()
            .filter(|s| !self.is_expired(s, now))
            .count()
    }
}

/// A session marked in use by a request; the mark (and a last use, now) goes when it is
/// dropped, after the answer was written.
pub struct InUse {
    session: Arc<Session>,
    epoch: Instant,
}

impl InUse {
    fn enter(session: &Arc<Session>, now: u64, epoch: Instant) -> Self {
        session.in_use.fetch_add(1, Ordering::AcqRel);
        session.last_used.fetch_max(now, Ordering::Relaxed);
        session.requests.fetch_add(1, Ordering::Relaxed);
        Self {
            session: session.clone(),
            epoch,
        }
    }

    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        // The idle time counts from the end of the last request, not its start: a slow
        // request (`Prefer: delay=…`) does not leave its session about to expire.
        let now = self.epoch.elapsed().as_millis() as u64;
        self.session.last_used.fetch_max(now, Ordering::Relaxed);
        self.session.in_use.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Frees a state no longer served on the blocking pool: freeing a million contacts takes a
/// tenth of a second or more, which a request worker (a reset, a session ended) must not
/// spend while other connections wait on it. Outside the runtime it is freed here.
fn retire<T: Send + 'static>(retired: T) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || drop(retired))),
        Err(_) => drop(retired),
    }
}
