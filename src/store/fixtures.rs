//! Fixtures: a folder of JSON arrays, one per collection, in Rocket.Chat's document shapes.
//!
//! Every document is normalised from MongoDB Extended JSON and checked against its typed
//! shape before the server starts; the first problem stops start-up with a message naming
//! the file, the document and what is wrong.
//!
//! A file is read one document at a time, never parsed into one tree: the array is split
//! into the documents' texts, and each is parsed, checked and made ready to store on its
//! own, on every core for a large file. A million contacts load in seconds.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Definition, Documents, PreparedContact, Store, UserSlot, extended_json};
use crate::domain::contact::ContactDocument;
use crate::domain::rules::CustomField;
use crate::domain::workspace::{CustomFieldDefinition, Permission, User};

/// The collections, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Users,
    Permissions,
    Contacts,
    CustomFields,
}

impl Collection {
    pub const ALL: [Collection; 4] = [
        Self::Users,
        Self::Permissions,
        Self::Contacts,
        Self::CustomFields,
    ];

    /// The collection's key in the `/_mock/state` object.
    pub fn state_key(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Permissions => "permissions",
            Self::Contacts => "contacts",
            Self::CustomFields => "customFields",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Self::Users => "users.json",
            Self::Permissions => "permissions.json",
            Self::Contacts => "contacts.json",
            Self::CustomFields => "custom-fields.json",
        }
    }

    /// The default fixtures, compiled into the binary so that it runs from anywhere.
    fn built_in(self) -> &'static str {
        match self {
            Self::Users => include_str!("../../fixtures/users.json"),
            Self::Permissions => include_str!("../../fixtures/permissions.json"),
            Self::Contacts => include_str!("../../fixtures/contacts.json"),
            Self::CustomFields => include_str!("../../fixtures/custom-fields.json"),
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

const STATE_KEYS: &str = "users, permissions, contacts and customFields";

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
            Ok(Some(collection.built_in().to_owned()))
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
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    missing.push(collection);
                    Ok(None)
                }
                Err(source) => Err(FixtureError::Read {
                    file: path.display().to_string(),
                    source,
                }),
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
    let members = serde_json::from_str::<Members<'_>>(whole.get())
        .map_err(StateError::NotJson)?
        .0;
    if let Some((unknown, _)) = members
        .iter()
        .find(|(k, _)| !Collection::ALL.iter().any(|c| c.state_key() == k.as_str()))
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
            None if complete => {
                return Err(shape(format!("{key} is missing (send [] to empty it)")).into());
            }
            None => {}
        }
    }
    Ok(read_documents(Collection::state_key, |collection| {
        Ok(arrays
            .iter()
            .find(|(c, _)| *c == collection)
            .map(|(_, raw)| raw.get().to_owned()))
    })?)
}

/// A JSON object's members as texts, in order; a repeated key keeps its first place and
/// its last value, as JSON.parse and serde_json's maps do.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members: Vec<(String, &'de RawValue)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    match members.iter_mut().find(|(k, _)| *k == key) {
                        Some(member) => member.1 = value,
                        None => members.push((key, value)),
                    }
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
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
fn read_documents(
    label: fn(Collection) -> &'static str,
    mut read: impl FnMut(Collection) -> Result<Option<String>, FixtureError>,
) -> Result<Documents, FixtureError> {
    let mut documents = Documents::default();
    for collection in Collection::ALL {
        let Some(text) = read(collection)? else {
            continue;
        };
        let file = label(collection);
        match collection {
            Collection::Users => {
                documents.users =
                    checked::<User, _>(file, &text, |map, user| Ok(UserSlot::new(map, user)))?;
            }
            Collection::Permissions => {
                documents.permissions =
                    checked::<Permission, _>(file, &text, |map, permission| Ok((map, permission)))?;
            }
            Collection::Contacts => {
                documents.contacts = checked::<ContactDocument, _>(file, &text, |map, _| {
                    Ok(PreparedContact::new(&map))
                })?;
            }
            Collection::CustomFields => {
                let definitions =
                    checked::<CustomFieldDefinition, _>(file, &text, |map, d| Ok((map, d)))?;
                documents.custom_fields = custom_fields(file, definitions)?;
            }
        }
    }
    Ok(documents)
}

/// Below this many documents a file is read on one thread: starting threads would cost
/// more than it saves (the built-in workspace starts in milliseconds).
const PARALLEL_FROM: usize = 4096;

/// Splits the JSON array `text` into its documents, then normalises each and checks it
/// against `T`, refusing duplicate `_id`s, and hands the normalised document and its typed
/// reading to `prepare`. The first problem, in document order, is the one reported.
fn checked<T: DeserializeOwned, P: Send>(
    file: &str,
    text: &str,
    prepare: impl Fn(Map<String, Value>, T) -> Result<P, String> + Sync,
) -> Result<Vec<P>, FixtureError> {
    let elements = elements(file, text)?;
    let one = |index: usize, raw: &RawValue| -> Result<(Box<str>, P), FixtureError> {
        check_one(file, index, raw, &prepare)
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let results: Vec<Result<(Box<str>, P), FixtureError>> =
        if threads < 2 || elements.len() < PARALLEL_FROM {
            elements
                .iter()
                .enumerate()
                .map(|(i, raw)| one(i, raw))
                .collect()
        } else {
            let size = elements.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let parts: Vec<_> = elements
                    .chunks(size)
                    .enumerate()
                    .map(|(n, part)| {
                        scope.spawn(move || {
                            part.iter()
                                .enumerate()
                                .map(|(i, raw)| one(n * size + i, raw))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                parts
                    .into_iter()
                    .flat_map(|part| part.join().expect("a fixture reader panicked"))
                    .collect()
            })
        };
    let mut seen = HashSet::with_capacity(results.len());
    let mut prepared = Vec::with_capacity(results.len());
    for (index, result) in results.into_iter().enumerate() {
        let (id, document) = result?;
        if !seen.insert(id) {
            let id = elements[index];
            return Err(FixtureError::Document {
                file: file.to_owned(),
                index,
                id: raw_id_label(id),
                problem: "another document has the same _id".to_owned(),
            });
        }
        prepared.push(document);
    }
    Ok(prepared)
}

/// The array's elements as texts; a file that is not an array is refused naming what it is.
fn elements<'a>(file: &str, text: &'a str) -> Result<Vec<&'a RawValue>, FixtureError> {
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

/// [`id_label`] of a document's text.
fn raw_id_label(raw: &RawValue) -> String {
    let document: Value = serde_json::from_str(raw.get()).unwrap_or_default();
    document
        .get("_id")
        .map(|id| id_label(id.get("$oid").unwrap_or(id)))
        .unwrap_or_default()
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
