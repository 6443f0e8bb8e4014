//! Fixtures: a folder of JSON arrays, one per collection, in Rocket.Chat's document shapes.
//!
//! Every document is normalised from MongoDB Extended JSON and checked against its typed
//! shape before the server starts; the first problem stops start-up with a message naming
//! the file, the document and what is wrong.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::extended_json;
use crate::domain::contact::{Contact, ContactDocument};
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

/// Everything loaded from one set of fixtures.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub origin: Origin,
    pub users: Vec<User>,
    pub permissions: Vec<Permission>,
    pub contacts: Vec<Contact>,
    pub custom_fields: Vec<CustomField>,
    /// The normalised documents the typed collections were read from, in loaded order, so
    /// that `GET /_mock/state` gives back every field, including those the mock ignores.
    pub documents: Documents,
}

#[derive(Debug, Clone, Default)]
pub struct Documents {
    pub users: Vec<Map<String, Value>>,
    pub permissions: Vec<Map<String, Value>>,
    pub custom_fields: Vec<Map<String, Value>>,
}

const STATE_KEYS: &str = "users, permissions, contacts and customFields";

impl Fixtures {
    pub fn built_in() -> Result<Self, FixtureError> {
        Self::parse(Source::BuiltIn, Collection::file_name, |c| {
            parse_array(c.file_name(), c.built_in()).map(Some)
        })
    }

    pub fn from_dir(dir: &Path) -> Result<Self, FixtureError> {
        // A mistyped folder must not start an empty workspace that refuses every login.
        std::fs::read_dir(dir).map_err(|source| FixtureError::Folder {
            dir: dir.display().to_string(),
            source,
        })?;
        Self::parse(
            Source::Directory(dir.to_owned()),
            Collection::file_name,
            |collection| {
                let path = dir.join(collection.file_name());
                match std::fs::read_to_string(&path) {
                    Ok(text) => parse_array(collection.file_name(), &text).map(Some),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(FixtureError::Read {
                        file: path.display().to_string(),
                        source,
                    }),
                }
            },
        )
    }

    /// The `/_mock/state` object: every collection's array, checked as fixture files are.
    pub fn from_state(state: Value) -> Result<Self, FixtureError> {
        let shape = |problem: String| FixtureError::StateShape {
            expected: STATE_KEYS,
            problem,
        };
        let Value::Object(mut state) = state else {
            return Err(shape(format!("found {}", json_kind(&state))));
        };
        if let Some(unknown) = state
            .keys()
            .find(|k| !Collection::ALL.iter().any(|c| c.state_key() == k.as_str()))
        {
            return Err(shape(format!("{unknown:?} is not a collection")));
        }
        let mut arrays = Vec::new();
        for collection in Collection::ALL {
            let key = collection.state_key();
            match state.remove(key) {
                Some(Value::Array(documents)) => arrays.push((collection, documents)),
                Some(other) => {
                    return Err(FixtureError::NotAnArray {
                        file: key.to_owned(),
                        found: json_kind(&other),
                    });
                }
                // A whole-state replacement names every collection, so that a forgotten
                // key cannot silently empty one (and log every user out).
                None => return Err(shape(format!("{key} is missing (send [] to empty it)"))),
            }
        }
        Self::parse(Source::ControlApi, Collection::state_key, |collection| {
            let index = arrays.iter().position(|(c, _)| *c == collection);
            Ok(index.map(|i| std::mem::take(&mut arrays[i].1)))
        })
    }

    /// The fixtures as a `/_mock/state` object.
    pub fn into_state(self) -> Value {
        let contacts = self.contacts.iter().map(Contact::to_value).collect();
        let users = self
            .documents
            .users
            .iter()
            .cloned()
            .map(Value::Object)
            .collect();
        super::state_object(&self.documents, users, contacts)
    }

    fn parse(
        source: Source,
        label: fn(Collection) -> &'static str,
        mut read: impl FnMut(Collection) -> Result<Option<Vec<Value>>, FixtureError>,
    ) -> Result<Self, FixtureError> {
        let mut missing = Vec::new();
        let mut documents = |collection: Collection| -> Result<Vec<Value>, FixtureError> {
            match read(collection)? {
                Some(documents) => Ok(documents),
                None => {
                    missing.push(collection);
                    Ok(Vec::new())
                }
            }
        };
        let (user_documents, users) =
            checked::<User>(label(Collection::Users), documents(Collection::Users)?)?;
        let (permission_documents, permissions) = checked::<Permission>(
            label(Collection::Permissions),
            documents(Collection::Permissions)?,
        )?;
        let contacts = contacts(
            label(Collection::Contacts),
            documents(Collection::Contacts)?,
        )?;
        let (custom_field_documents, custom_fields) = custom_fields(
            label(Collection::CustomFields),
            documents(Collection::CustomFields)?,
        )?;
        Ok(Self {
            origin: Origin { source, missing },
            users,
            permissions,
            contacts,
            custom_fields,
            documents: Documents {
                users: user_documents,
                permissions: permission_documents,
                custom_fields: custom_field_documents,
            },
        })
    }
}

fn parse_array(file: &str, text: &str) -> Result<Vec<Value>, FixtureError> {
    let value: Value = serde_json::from_str(text).map_err(|source| FixtureError::Json {
        file: file.to_owned(),
        source,
    })?;
    match value {
        Value::Array(documents) => Ok(documents),
        other => Err(FixtureError::NotAnArray {
            file: file.to_owned(),
            found: json_kind(&other),
        }),
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

/// The normalised documents of a collection and their typed readings.
type Read<T> = (Vec<Map<String, Value>>, Vec<T>);

/// Normalises each document and checks it against `T`, refusing duplicate `_id`s.
/// Returns the normalised documents and their typed readings.
fn checked<T: DeserializeOwned>(
    file: &str,
    documents: Vec<Value>,
) -> Result<Read<T>, FixtureError> {
    let mut seen = HashSet::new();
    let mut maps = Vec::with_capacity(documents.len());
    let mut typed = Vec::with_capacity(documents.len());
    for (index, mut document) in documents.into_iter().enumerate() {
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
        let key = map.get("_id").and_then(Value::as_str).unwrap_or_default();
        if !seen.insert(key.to_owned()) {
            return Err(fail("another document has the same _id".to_owned()));
        }
        maps.push(map);
        typed.push(reading);
    }
    Ok((maps, typed))
}

/// ` (_id "…")`, how an error names a document.
fn id_label(id: &Value) -> String {
    match id {
        Value::String(s) => format!(" (_id {s:?})"),
        other => format!(" (_id {other})"),
    }
}

fn contacts(file: &str, documents: Vec<Value>) -> Result<Vec<Contact>, FixtureError> {
    let (maps, _) = checked::<ContactDocument>(file, documents)?;
    Ok(maps.into_iter().map(Contact::from_document).collect())
}

fn custom_fields(file: &str, documents: Vec<Value>) -> Result<Read<CustomField>, FixtureError> {
    let (maps, definitions) = checked::<CustomFieldDefinition>(file, documents)?;
    let fields = definitions
        .into_iter()
        .enumerate()
        .map(|(index, definition)| {
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
            Ok(CustomField {
                definition,
                pattern,
            })
        })
        .collect::<Result<_, FixtureError>>()?;
    Ok((maps, fields))
}
