//! Fixtures: a folder of JSON arrays, one per collection, in Rocket.Chat's document shapes.
//!
//! Every document is normalised from MongoDB Extended JSON and checked against its typed
//! shape before the server starts; the first problem stops start-up with a message naming
//! the file, the document and what is wrong.
//!
//! A file is read one document at a time, never parsed into one tree: the array is split
//! into the documents' texts, and each is parsed, checked and made ready to store on its
//! own, on every core for a large file. A million contacts load in seconds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

mod split;

use super::{
    Definition, Documents, PreparedContact, Store, Stored, UserSlot, canonical, extended_json,
};
use crate::domain::contact::ContactDocument;
use crate::domain::livechat::{MessageDocument, RoomDocument, SettingDocument, VisitorDocument};
use crate::domain::rules::CustomField;
use crate::domain::workspace::{CustomFieldDefinition, Permission, User};

/// The collections, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Users,
    Permissions,
    Contacts,
    CustomFields,
    Visitors,
    Rooms,
    Messages,
    Settings,
}

impl Collection {
    pub const ALL: [Collection; 8] = [
        Self::Users,
        Self::Permissions,
        Self::Contacts,
        Self::CustomFields,
        Self::Visitors,
        Self::Rooms,
        Self::Messages,
        Self::Settings,
    ];

    /// Whether a whole state (`PUT /_mock/state`) must name the collection. The Livechat
    /// collections came later: a state without them is what it was before, and they are
    /// empty (settings at their defaults).
    fn required_in_state(self) -> bool {
        matches!(
            self,
            Self::Users | Self::Permissions | Self::Contacts | Self::CustomFields
        )
    }

    /// The collection's key in the `/_mock/state` object.
    pub fn state_key(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Permissions => "permissions",
            Self::Contacts => "contacts",
            Self::CustomFields => "customFields",
            Self::Visitors => "visitors",
            Self::Rooms => "rooms",
            Self::Messages => "messages",
            Self::Settings => "settings",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Users => "users.json",
            Self::Permissions => "permissions.json",
            Self::Contacts => "contacts.json",
            Self::CustomFields => "custom-fields.json",
            Self::Visitors => "visitors.json",
            Self::Rooms => "rooms.json",
            Self::Messages => "messages.json",
            Self::Settings => "settings.json",
        }
    }

    /// The default fixtures, compiled into the binary so that it runs from anywhere.
    fn built_in(self) -> &'static str {
        match self {
            Self::Users => include_str!("../../fixtures/users.json"),
            Self::Permissions => include_str!("../../fixtures/permissions.json"),
            Self::Contacts => include_str!("../../fixtures/contacts.json"),
            Self::CustomFields => include_str!("../../fixtures/custom-fields.json"),
            Self::Visitors => include_str!("../../fixtures/visitors.json"),
            Self::Rooms => include_str!("../../fixtures/rooms.json"),
            Self::Messages => include_str!("../../fixtures/messages.json"),
            Self::Settings => include_str!("../../fixtures/settings.json"),
        }
    }
}

/// Where the fixtures came from, for the start-up line.
#[derive(Debug, Clone)]
pub enum Source {
    BuiltIn,
    Directory(PathBuf),
    /// Sent to `PUT /_mock/state` or `PATCH /_mock/state`.
    ControlApi,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuiltIn => f.write_str("built-in default fixtures"),
            Self::Directory(dir) => write!(f, "fixtures from {}", dir.display()),
            Self::ControlApi => f.write_str("state sent to the control API"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{file}: cannot be read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: is {kind}, not a regular file; fixtures are JSON files")]
    NotAFile { file: String, kind: &'static str },
    #[error("{file}: is a symbolic link to {target}, which does not exist")]
    DanglingLink { file: String, target: String },
    #[error("{dir} is not a readable folder: {source}")]
    Folder { dir: String, source: std::io::Error },
    #[error("{file}: not valid JSON: {source}")]
    Json {
        file: String,
        source: serde_json::Error,
    },
    #[error("{file}: must be a JSON array of documents, found {found}")]
    NotAnArray { file: String, found: &'static str },
    #[error("the state must be an object with the arrays {expected}: {problem}")]
    StateShape {
        expected: &'static str,
        problem: String,
    },
    #[error("{file}, document {index}{id}: {problem}")]
    Document {
        file: String,
        index: usize,
        /// ` (_id "…")` when the document has one.
        id: String,
        problem: String,
    },
}

/// Where a set of fixtures came from, for the start-up log.
#[derive(Debug, Clone)]
pub struct Origin {
    pub source: Source,
    /// Collections whose file was missing (loaded as empty).
    pub missing: Vec<Collection>,
}

/// A loaded set of fixtures: the store they make, and where they came from.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub origin: Origin,
    pub store: Store,
}

const STATE_KEYS: &str = "users, permissions, contacts and customFields (and optionally visitors, rooms, messages and settings)";

/// Why a state sent to the control API was refused.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the body must be a JSON state object: {0}")]
    NotJson(serde_json::Error),
    #[error(transparent)]
    Refused(#[from] FixtureError),
}

impl Fixtures {
    pub fn built_in() -> Result<Self, FixtureError> {
        let documents = read_documents(Collection::file_name, |collection| {
            Ok(Some(Text::Memory(collection.built_in())))
        })?;
        Ok(Self {
            origin: Origin {
                source: Source::BuiltIn,
                missing: Vec::new(),
            },
            store: Store::new(documents),
        })
    }

    pub fn from_dir(dir: &Path) -> Result<Self, FixtureError> {
        // A mistyped folder must not start an empty workspace that refuses every login.
        std::fs::read_dir(dir).map_err(|source| FixtureError::Folder {
            dir: dir.display().to_string(),
            source,
        })?;
        let mut missing = Vec::new();
        let documents = read_documents(Collection::file_name, |collection| {
            let path = dir.join(collection.file_name());
            match open_fixture(&path)? {
                Some(file) => Ok(Some(Text::File { path, file })),
                None => {
                    missing.push(collection);
                    Ok(None)
                }
            }
        })?;
        Ok(Self {
            origin: Origin {
                source: Source::Directory(dir.to_owned()),
                missing,
            },
            store: Store::new(documents),
        })
    }

    /// The `/_mock/state` object sent to `PUT`: every collection's array, checked as
    /// fixture files are.
    pub fn from_state(body: &[u8]) -> Result<Self, StateError> {
        let documents = read_state(body, true)?;
        Ok(Self {
            origin: Origin {
                source: Source::ControlApi,
                missing: Vec::new(),
            },
            store: Store::new(documents),
        })
    }
}

/// The documents of a partial state object sent to `PATCH /_mock/state`, such as
/// `{"contacts": [...]}`, checked as fixtures are.
pub fn patch_documents(body: &[u8]) -> Result<Documents, StateError> {
    read_state(body, false)
}

/// Reads a state object: `{"users": [...], ...}`. A whole state (`complete`) must name
/// every collection, so that a forgotten key cannot silently empty one (and log every user
/// out); a patch names the ones it changes.
fn read_state(body: &[u8], complete: bool) -> Result<Documents, StateError> {
    // A byte-order mark is skipped, as in fixture files.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let Ok(text) = std::str::from_utf8(body) else {
        // Let the JSON parser say where the text stops being UTF-8.
        return Err(StateError::NotJson(
            serde_json::from_slice::<Value>(body).expect_err("not UTF-8, so not JSON"),
        ));
    };
    let whole: &RawValue = serde_json::from_str(text).map_err(StateError::NotJson)?;
    let shape = |problem: String| FixtureError::StateShape {
        expected: STATE_KEYS,
        problem,
    };
    if kind(whole) != "an object" {
        return Err(shape(format!("found {}", kind(whole))).into());
    }
    let members = serde_json::from_str::<crate::json::Members<'_>>(whole.get())
        .map_err(StateError::NotJson)?
        .0;
    if let Some((unknown, _)) = members
        .iter()
        .find(|(k, _)| !Collection::ALL.iter().any(|c| c.state_key() == k.as_ref()))
    {
        return Err(shape(format!("{unknown:?} is not a collection")).into());
    }
    let mut arrays = Vec::new();
    for collection in Collection::ALL {
        let key = collection.state_key();
        match members.iter().find(|(k, _)| k == key) {
            Some((_, raw)) if kind(raw) == "an array" => arrays.push((collection, *raw)),
            Some((_, raw)) => {
                return Err(FixtureError::NotAnArray {
                    file: key.to_owned(),
                    found: kind(raw),
                }
                .into());
            }
            None if complete && collection.required_in_state() => {
                return Err(shape(format!("{key} is missing (send [] to empty it)")).into());
            }
            None => {}
        }
    }
    Ok(read_documents(Collection::state_key, |collection| {
        Ok(arrays
            .iter()
            .find(|(c, _)| *c == collection)
            .map(|(_, raw)| Text::Memory(raw.get())))
    })?)
}

/// What kind of JSON value a text is, as errors name it.
fn kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads every collection's text (`None`: the collection is absent) and checks its
/// documents, collection by collection in [`Collection::ALL`] order.
fn read_documents<'a>(
    label: fn(Collection) -> &'static str,
    mut read: impl FnMut(Collection) -> Result<Option<Text<'a>>, FixtureError>,
) -> Result<Documents, FixtureError> {
    let mut documents = Documents::default();
    for collection in Collection::ALL {
        let Some(text) = read(collection)? else {
            continue;
        };
        let file = label(collection);
        match collection {
            Collection::Users => {
                documents.users = checked::<User, _>(file, text, no_shortcut, |map, user| {
                    Ok(UserSlot::new(map, user))
                })?;
            }
            Collection::Permissions => {
                documents.permissions =
                    checked::<Permission, _>(file, text, no_shortcut, |map, permission| {
                        Ok((map, permission))
                    })?;
            }
            Collection::Contacts => {
                documents.contacts =
                    checked::<ContactDocument, _>(file, text, canonical_contact, |map, _| {
                        Ok(PreparedContact::new(&map))
                    })?;
            }
            Collection::CustomFields => {
                let definitions =
                    checked::<CustomFieldDefinition, _>(file, text, no_shortcut, |map, d| {
                        Ok((map, d))
                    })?;
                documents.custom_fields = custom_fields(file, definitions)?;
            }
            Collection::Visitors => {
                documents.visitors =
                    checked::<VisitorDocument, _>(file, text, no_shortcut, |map, _| {
                        Ok(Stored::new(&map))
                    })?;
            }
            Collection::Rooms => {
                documents.rooms = checked::<RoomDocument, _>(file, text, no_shortcut, |map, _| {
                    Ok(Stored::new(&map))
                })?;
            }
            Collection::Messages => {
                documents.messages =
                    checked::<MessageDocument, _>(file, text, no_shortcut, |map, _| {
                        Ok(Stored::new(&map))
                    })?;
            }
            Collection::Settings => {
                documents.settings =
                    checked::<SettingDocument, _>(file, text, no_shortcut, |map, _| Ok(map))?;
            }
        }
    }
    Ok(documents)
}

/// A shortcut for a document already in the form the store keeps: returns it read and
/// prepared, or hands the text back for the full path.
type Shortcut<P> = fn(&RawValue) -> Option<(Box<str>, P)>;

/// No shortcut: every document takes the full path.
fn no_shortcut<P>(_: &RawValue) -> Option<(Box<str>, P)> {
    None
}

/// Where a collection's JSON array is read from.
enum Text<'a> {
    File { path: PathBuf, file: std::fs::File },
    Memory(&'a str),
}

/// A fixture file opened for reading, past its byte-order mark if it has one; `None` when
/// there is no such file. Anything but a regular file (or a link to one) is refused before
/// it is opened: a FIFO would block start-up until something writes to it, and a device
/// such as `/dev/zero` would be read until memory runs out. A link to nothing is refused
/// too: it is a mistake, not an absent collection.
fn open_fixture(path: &Path) -> Result<Option<std::fs::File>, FixtureError> {
    let file = path.display().to_string();
    let read_error = |source| FixtureError::Read {
        file: file.clone(),
        source,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(read_error(source)),
        Ok(_) => {}
    }
    let metadata = match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let target = std::fs::read_link(path)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".to_owned());
            return Err(FixtureError::DanglingLink { file, target });
        }
        Err(source) => return Err(read_error(source)),
        Ok(metadata) => metadata,
    };
    if !metadata.is_file() {
        return Err(FixtureError::NotAFile {
            file,
            kind: file_kind(&metadata.file_type()),
        });
    }
    let mut handle = std::fs::File::open(path).map_err(read_error)?;
    skip_byte_order_mark(&mut handle).map_err(read_error)?;
    Ok(Some(handle))
}

/// Positions `file` at its start, past a UTF-8 byte-order mark (Windows editors write one),
/// which is skipped as Node's `require()` of a JSON file and most JSON tools skip it; JSON
/// itself has no place for it.
fn skip_byte_order_mark(file: &mut std::fs::File) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.rewind()?;
    let mut start = [0_u8; 3];
    let mut read = 0;
    while read < start.len() {
        match file.read(&mut start[read..])? {
            0 => break,
            n => read += n,
        }
    }
    let skip = if start[..read] == [0xEF, 0xBB, 0xBF] {
        3
    } else {
        0
    };
    file.seek(SeekFrom::Start(skip))?;
    Ok(())
}

fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// The whole file (from where [`open_fixture`] left it, past any byte-order mark), for the
/// one reading that says exactly what is wrong with it.
fn whole(path: &Path, mut file: std::fs::File) -> Result<String, FixtureError> {
    use std::io::Read;
    let mut text = String::new();
    skip_byte_order_mark(&mut file)
        .and_then(|_| file.read_to_string(&mut text))
        .map_err(|source| FixtureError::Read {
            file: path.display().to_string(),
            source,
        })?;
    Ok(text)
}

/// Reads the JSON array `text` document by document, normalises each and checks it against
/// `T`, refusing duplicate `_id`s, and hands the normalised document and its typed reading
/// to `prepare`. The first problem, in document order, is the one reported.
///
/// `shortcut` may take a document first; it must accept only what the full path would
/// accept and prepare it the same way (the contacts' one is proven so by tests).
fn checked<T: DeserializeOwned, P: Send>(
    file: &str,
    text: Text<'_>,
    shortcut: Shortcut<P>,
    prepare: impl Fn(Map<String, Value>, T) -> Result<P, String> + Sync,
) -> Result<Vec<P>, FixtureError> {
    let one = |index: usize, raw: &RawValue| match shortcut(raw) {
        Some(done) => Ok(done),
        None => check_one(file, index, raw, &prepare),
    };
    let results = match text {
        // Already in memory (the built-in workspace, a state body): split in place.
        Text::Memory(text) => in_parallel(&elements(file, text)?, &one),
        Text::File { path, file: handle } => match streamed(&path, &handle, &one)? {
            Some(results) => results,
            // Not well-formed JSON: read whole, for serde_json's exact message and position.
            None => {
                let text = whole(&path, handle)?;
                in_parallel(&elements(file, &text)?, &one)
            }
        },
    };
    // Each `_id` and the document that has it, to name the first holder of a repeated one.
    let mut seen = HashMap::with_capacity(results.len());
    let mut prepared = Vec::with_capacity(results.len());
    for (index, result) in results.into_iter().enumerate() {
        let (id, document) = result?;
        if let Some(first) = seen.get(&id) {
            return Err(FixtureError::Document {
                file: file.to_owned(),
                index,
                id: id_label(&Value::String(id.into())),
                problem: format!("document {first} has the same _id"),
            });
        }
        seen.insert(id, index);
        prepared.push(document);
    }
    Ok(prepared)
}

/// Below this many documents, or this many bytes of a file, a collection is read on one
/// thread: starting threads would cost more than it saves (the built-in workspace starts in
/// milliseconds).
const PARALLEL_FROM: usize = 4096;
const STREAM_PARALLEL_FROM: u64 = 1 << 20;

type Checked<P> = Result<(Box<str>, P), FixtureError>;

/// Every document's result, checked on every core (below [`PARALLEL_FROM`] documents, on
/// this thread).
fn in_parallel<P: Send>(
    elements: &[&RawValue],
    one: &(impl Fn(usize, &RawValue) -> Checked<P> + Sync),
) -> Vec<Checked<P>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || elements.len() < PARALLEL_FROM {
        return (0..).zip(elements).map(|(i, raw)| one(i, raw)).collect();
    }
    let size = elements.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = elements
            .chunks(size)
            .enumerate()
            .map(|(n, part)| {
                scope.spawn(move || {
                    (n * size..)
                        .zip(part)
                        .map(|(i, raw)| one(i, raw))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("a fixture reader panicked"))
            .collect()
    })
}

/// Every document's result, the file read streaming and checked on every core; `None` when
/// the text is not a well-formed JSON array (nothing else is known then).
fn streamed<P: Send>(
    path: &Path,
    handle: &std::fs::File,
    one: &(impl Fn(usize, &RawValue) -> Checked<P> + Sync),
) -> Result<Option<Vec<Checked<P>>>, FixtureError> {
    // A batch's results, `None` when one of its texts is not JSON.
    let batch_results = |batch: split::Batch| -> (usize, Option<Vec<Checked<P>>>) {
        let results = (batch.first..)
            .zip(batch.elements())
            .map(|(index, bytes)| {
                let text = std::str::from_utf8(bytes).ok()?;
                let raw: &RawValue = serde_json::from_str(text).ok()?;
                Some(one(index, raw))
            })
            .collect();
        (batch.first, results)
    };
    let size = handle.metadata().map_or(u64::MAX, |m| m.len());
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut batches: Vec<(usize, Option<Vec<Checked<P>>>)> = Vec::new();
    let reader = handle;
    let split = if threads < 2 || size < STREAM_PARALLEL_FROM {
        split::split(reader, |batch| batches.push(batch_results(batch)))
    } else {
        // This thread reads and splits; the others check what it hands over, a few
        // batches behind at most, so memory stays flat however large the file.
        let (send, receive) = std::sync::mpsc::sync_channel::<split::Batch>(threads * 2);
        let receive = std::sync::Mutex::new(receive);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let next = receive.lock().map(|r| r.recv());
                            let Ok(Ok(batch)) = next else { break };
                            done.push(batch_results(batch));
                        }
                        done
                    })
                })
                .collect();
            let split = split::split(reader, |batch| {
                // The workers only stop when this sender is dropped.
                send.send(batch)
                    .expect("fixture readers outlive the reading");
            });
            drop(send);
            for worker in workers {
                batches.extend(worker.join().expect("a fixture reader panicked"));
            }
            split
        })
    };
    match split {
        Ok(_) => {}
        Err(split::SplitError::Io(source)) => {
            return Err(FixtureError::Read {
                file: path.display().to_string(),
                source,
            });
        }
        Err(split::SplitError::Malformed) => return Ok(None),
    }
    batches.sort_unstable_by_key(|(first, _)| *first);
    let mut results = Vec::new();
    for (_, batch) in batches {
        let Some(batch) = batch else { return Ok(None) };
        results.extend(batch);
    }
    Ok(Some(results))
}

/// The array's elements as texts; a file that is not an array is refused naming what it is.
fn elements<'a>(file: &str, text: &'a str) -> Result<Vec<&'a RawValue>, FixtureError> {
    // One pass for the usual case; a text it refuses is read again to say exactly why.
    if let Ok(elements) = serde_json::from_str(text) {
        return Ok(elements);
    }
    let json = |source| FixtureError::Json {
        file: file.to_owned(),
        source,
    };
    let whole: &RawValue = serde_json::from_str(text).map_err(json)?;
    if kind(whole) != "an array" {
        return Err(FixtureError::NotAnArray {
            file: file.to_owned(),
            found: kind(whole),
        });
    }
    serde_json::from_str(whole.get()).map_err(json)
}

/// A contact whose text is compact JSON as the store writes it, once the Extended JSON
/// wrappers of a relaxed `mongoexport` (`$date`, `$oid`) are replaced by the strings they
/// stand for, and whose typed reading succeeds: the generator's output, an export, most large
/// files. Such a text is stored as it is (or as rewritten), never parsed into a tree.
fn canonical_contact(raw: &RawValue) -> Option<(Box<str>, PreparedContact)> {
    let text = raw.get();
    if !text.starts_with('{') {
        return None;
    }
    let unwrapped = canonical::without_wrappers(text)?;
    if !canonical::is_canonical(&unwrapped) {
        return None;
    }
    // A failed reading takes the full path, which says what is wrong, naming the field.
    let reading = serde_json::from_str::<ContactDocument>(&unwrapped).ok()?;
    let stored = match unwrapped {
        // Serializing a raw value copies its text as it is.
        Cow::Borrowed(_) => serde_json::value::to_raw_value(raw).ok()?,
        Cow::Owned(rewritten) => RawValue::from_string(rewritten).ok()?,
    };
    Some((
        reading.id.as_str().into(),
        PreparedContact::from_canonical(stored, &reading),
    ))
}

/// One document: normalised, checked, prepared; with its `_id` for the duplicate check.
fn check_one<T: DeserializeOwned, P>(
    file: &str,
    index: usize,
    raw: &RawValue,
    prepare: &impl Fn(Map<String, Value>, T) -> Result<P, String>,
) -> Result<(Box<str>, P), FixtureError> {
    // The text was checked as JSON when the array was split.
    let mut document: Value =
        serde_json::from_str(raw.get()).map_err(|source| FixtureError::Json {
            file: file.to_owned(),
            source,
        })?;
    let id = document
        .get("_id")
        .map(|id| id_label(id.get("$oid").unwrap_or(id)))
        .unwrap_or_default();
    let fail = |problem: String| FixtureError::Document {
        file: file.to_owned(),
        index,
        id: id.clone(),
        problem,
    };
    extended_json::normalize(&mut document).map_err(|e| fail(e.to_string()))?;
    if !document.is_object() {
        return Err(fail(format!(
            "must be an object, found {}",
            json_kind(&document)
        )));
    }
    // Read from a reference: copying every document to check it doubled the start-up
    // time of a large workspace.
    let reading: T = serde_path_to_error::deserialize(&document).map_err(|e| {
        match e.path().to_string().as_str() {
            "." => fail(e.inner().to_string()),
            path => fail(format!("{path}: {}", e.inner())),
        }
    })?;
    let Value::Object(map) = document else {
        unreachable!("checked above")
    };
    let key: Box<str> = map
        .get("_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .into();
    Ok((key, prepare(map, reading).map_err(fail)?))
}

/// ` (_id "…")`, how an error names a document.
fn id_label(id: &Value) -> String {
    match id {
        Value::String(s) => format!(" (_id {s:?})"),
        other => format!(" (_id {other})"),
    }
}

/// Compiles each definition's `regexp`, once, at load time.
fn custom_fields(
    file: &str,
    definitions: Vec<Definition<CustomFieldDefinition>>,
) -> Result<Vec<Definition<CustomField>>, FixtureError> {
    definitions
        .into_iter()
        .enumerate()
        .map(|(index, (map, definition))| {
            let pattern =
                match definition.regexp.as_deref() {
                    None | Some("") => None,
                    Some(source) => Some(fancy_regex::Regex::new(source).map_err(|e| {
                        FixtureError::Document {
                            file: file.to_owned(),
                            index,
                            id: id_label(&Value::String(definition.id.clone())),
                            problem: format!("regexp {source:?} does not compile: {e}"),
                        }
                    })?),
                };
            Ok((
                map,
                CustomField {
                    definition,
                    pattern,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The full path for a contact, as `read_documents` runs it.
    fn full(raw: &RawValue) -> Result<(Box<str>, PreparedContact), FixtureError> {
        check_one::<ContactDocument, _>("contacts.json", 0, raw, &|map, _| {
            Ok(PreparedContact::new(&map))
        })
    }

    fn field_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            Just(json!(1.5)),
            "[a-z\"\\\\/é\n]{0,5}".prop_map(Value::from),
            Just(json!([{"address": "a@x.io"}, {"address": 7}])),
            Just(json!([{"phoneNumber": "+1 555"}])),
            Just(json!({"$date": "2024-01-01T00:00:00Z"})),
            Just(json!({"$date": "2024-01-01T00:00:00.5+01:00"})),
            Just(json!({"$date": "yesterday"})),
            Just(json!({"$oid": "65a1b2c3d4e5f6a7b8c9d0e1"})),
            Just(json!({"$date": "2024-01-01T00:00:00Z", "extra": 1})),
            Just(json!({"k": {"nested": [1, "two"]}})),
        ]
    }

    fn document() -> impl Strategy<Value = Value> {
        let keys = prop::sample::select(vec![
            "name",
            "emails",
            "phones",
            "unknown",
            "enabled",
            "customFields",
            "createdAt",
            "extra",
            "$weird",
        ]);
        (
            prop_oneof![
                Just(json!("c1")),
                Just(json!(1)),
                Just(json!({"$oid": "0a"}))
            ],
            proptest::collection::vec((keys, field_value()), 0..6),
        )
            .prop_map(|(id, fields)| {
                let mut document = Map::new();
                document.insert("_id".into(), id);
                for (key, value) in fields {
                    document.insert(key.into(), value);
                }
                Value::Object(document)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// The contacts' shortcut takes a document only when the full path would take it,
        /// and stores exactly what the full path stores, under the same keys.
        #[test]
        fn the_shortcut_agrees_with_the_full_path(
            document in document(),
            spaced in any::<bool>(),
            repeated in any::<bool>(),
        ) {
            let mut text = serde_json::to_string(&document).unwrap();
            if spaced {
                text = text.replacen("\":", "\": ", 1);
            }
            if repeated && text.len() > 2 {
                // A repeated key, which parsing keeps once.
                text.insert_str(1, "\"name\":\"first\",");
            }
            let raw: &RawValue = serde_json::from_str(&text).unwrap();
            if let Some((id, prepared)) = canonical_contact(raw) {
                let (full_id, full_prepared) = full(raw)
                    .unwrap_or_else(|e| panic!("the full path refuses {text}: {e}"));
                prop_assert_eq!(id, full_id);
                prop_assert_eq!(format!("{prepared:?}"), format!("{full_prepared:?}"));
            }
        }
    }

    #[test]
    fn the_generators_documents_take_the_shortcut() {
        let document = json!({
            "_id": "c1", "name": "Ana \"Nana\" Silva", "emails": [{"address": "ana@x.io"}],
            "phones": [{"phoneNumber": "+55 11"}], "unknown": false, "channels": [],
            "customFields": {"cpf": "1"}, "createdAt": "2024-01-01T00:00:00.000Z"
        });
        let text = serde_json::to_string(&document).unwrap();
        let raw: &RawValue = serde_json::from_str(&text).unwrap();
        let (id, prepared) = canonical_contact(raw).expect("a canonical contact");
        assert_eq!(&*id, "c1");
        assert_eq!(
            format!("{prepared:?}"),
            format!("{:?}", full(raw).unwrap().1)
        );
    }

    #[test]
    fn a_relaxed_mongoexport_document_takes_the_shortcut() {
        let text = r#"{"_id":{"$oid":"65a1b2c3d4e5f6a7b8c9d0e1"},"createdAt":{"$date":"2024-01-01T00:00:00Z"},"name":"Ana","unknown":false}"#;
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        let (id, prepared) = canonical_contact(raw).expect("relaxed Extended JSON is unwrapped");
        assert_eq!(&*id, "65a1b2c3d4e5f6a7b8c9d0e1");
        assert_eq!(
            format!("{prepared:?}"),
            format!("{:?}", full(raw).unwrap().1)
        );
        assert!(format!("{prepared:?}").contains(r#""createdAt":"2024-01-01T00:00:00.000Z""#));
        // Canonical mode, a number date, or an escape in the wrapper: the full path.
        for text in [
            r#"{"_id":"a","createdAt":{"$date":{"$numberLong":"1"}}}"#,
            r#"{"_id":"a","createdAt":{"$date":1}}"#,
            r#"{"_id":"a","createdAt":{"$date":"2024-01-01T00:00:00\u005A"}}"#,
            r#"{"_id":"a","name":"$money"}"#,
        ] {
            let raw: &RawValue = serde_json::from_str(text).unwrap();
            assert!(canonical_contact(raw).is_none(), "{text}");
        }
    }

    /// A file large enough to be read by the streaming splitter on every core loads every
    /// document, and its errors read as a small file's do: the document's index, or the line
    /// and column in the file.
    #[test]
    fn a_large_file_is_streamed_and_reports_as_a_small_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let contact = |i: usize| {
            format!(
                r#"{{"_id":"c{i}","name":"Contact {i}","emails":[{{"address":"c{i}@x.io"}}],"unknown":false}}"#
            )
        };
        let many: Vec<String> = (0..20_000).map(contact).collect();
        let load = |documents: &[String]| {
            let text = format!("[\n{}\n]\n", documents.join(",\n"));
            assert!(
                text.len() as u64 > STREAM_PARALLEL_FROM,
                "large enough to stream"
            );
            std::fs::write(dir.path().join("contacts.json"), text).unwrap();
            Fixtures::from_dir(dir.path()).map_err(|e| e.to_string())
        };
        let loaded = load(&many).unwrap();
        assert_eq!(loaded.store.counts()["contacts"], 20_000);
        let mut typed = many.clone();
        typed[15_000] = r#"{"_id":"c15000","name":7}"#.to_owned();
        assert_eq!(
            load(&typed).err().unwrap(),
            r#"contacts.json, document 15000 (_id "c15000"): name: invalid type: integer `7`, expected a string"#
        );
        let mut broken = many.clone();
        broken[18_000] = r#"{"_id":"c18000","name":}"#.to_owned();
        assert_eq!(
            load(&broken).err().unwrap(),
            "contacts.json: not valid JSON: expected value at line 18002 column 24"
        );
    }

    /// A well-formed file whose documents the splitter cannot take, and a malformed one:
    /// the answer is serde_json's, with the position in the file.
    #[test]
    fn a_malformed_file_is_refused_naming_the_place() {
        let refused = |text: &'static str| {
            checked::<ContactDocument, _>(
                "contacts.json",
                Text::Memory(text),
                canonical_contact,
                |map, _| Ok(PreparedContact::new(&map)),
            )
            .map(|v| v.len())
            .map_err(|e| e.to_string())
        };
        assert_eq!(refused(r#"[{"_id":"a"},{"_id":"b"}]"#), Ok(2));
        assert_eq!(
            refused("[{\"_id\":\"a\"},\n {\"_id\": }]"),
            Err("contacts.json: not valid JSON: expected value at line 2 column 10".to_owned())
        );
        assert_eq!(
            refused(r#"{"_id":"a"}"#),
            Err("contacts.json: must be a JSON array of documents, found an object".to_owned())
        );
        assert_eq!(
            refused(r#"[{"_id":"a"},{"_id":"a"}]"#),
            Err(r#"contacts.json, document 1 (_id "a"): document 0 has the same _id"#.to_owned())
        );
        assert_eq!(
            refused(r#"[{"_id":"a","name":1}]"#),
            Err(r#"contacts.json, document 0 (_id "a"): name: invalid type: integer `1`, expected a string"#.to_owned())
        );
    }
}
