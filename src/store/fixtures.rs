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
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuiltIn => f.write_str("built-in default fixtures"),
            Self::Directory(dir) => write!(f, "fixtures from {}", dir.display()),
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
    #[error("{file}: not valid JSON: {source}")]
    Json {
        file: String,
        source: serde_json::Error,
    },
    #[error("{file}: must be a JSON array of documents, found {found}")]
    NotAnArray { file: String, found: &'static str },
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
}

impl Fixtures {
    pub fn built_in() -> Result<Self, FixtureError> {
        Self::parse(Source::BuiltIn, |c| Ok(Some(c.built_in().to_owned())))
    }

    pub fn from_dir(dir: &Path) -> Result<Self, FixtureError> {
        Self::parse(Source::Directory(dir.to_owned()), |collection| {
            let path = dir.join(collection.file_name());
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(FixtureError::Read {
                    file: path.display().to_string(),
                    source,
                }),
            }
        })
    }

    fn parse(
        source: Source,
        mut read: impl FnMut(Collection) -> Result<Option<String>, FixtureError>,
    ) -> Result<Self, FixtureError> {
        let mut missing = Vec::new();
        let mut documents = |collection: Collection| -> Result<Vec<Value>, FixtureError> {
            match read(collection)? {
                Some(text) => parse_array(collection.file_name(), &text),
                None => {
                    missing.push(collection);
                    Ok(Vec::new())
                }
            }
        };
        let users = typed::<User>(Collection::Users, documents(Collection::Users)?)?;
        let permissions =
            typed::<Permission>(Collection::Permissions, documents(Collection::Permissions)?)?;
        let contacts = contacts(documents(Collection::Contacts)?)?;
        let custom_fields = custom_fields(documents(Collection::CustomFields)?)?;
        Ok(Self {
            origin: Origin { source, missing },
            users,
            permissions,
            contacts,
            custom_fields,
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

/// A normalised document with its typed reading.
type Checked<T> = (Map<String, Value>, T);

/// Normalises each document and checks it against `T`, refusing duplicate `_id`s.
/// Returns the normalised documents with their typed reading.
fn checked<T: DeserializeOwned>(
    collection: Collection,
    documents: Vec<Value>,
) -> Result<Vec<Checked<T>>, FixtureError> {
    let file = collection.file_name();
    let mut seen = HashSet::new();
    documents
        .into_iter()
        .enumerate()
        .map(|(index, mut document)| {
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
            let Value::Object(map) = document else {
                return Err(fail(format!(
                    "must be an object, found {}",
                    json_kind(&document)
                )));
            };
            let typed: T = serde_path_to_error::deserialize(Value::Object(map.clone())).map_err(
                |e| match e.path().to_string().as_str() {
                    "." => fail(e.inner().to_string()),
                    path => fail(format!("{path}: {}", e.inner())),
                },
            )?;
            let key = map.get("_id").and_then(Value::as_str).unwrap_or_default();
            if !seen.insert(key.to_owned()) {
                return Err(fail("another document has the same _id".to_owned()));
            }
            Ok((map, typed))
        })
        .collect()
}

/// ` (_id "…")`, how an error names a document.
fn id_label(id: &Value) -> String {
    match id {
        Value::String(s) => format!(" (_id {s:?})"),
        other => format!(" (_id {other})"),
    }
}

fn typed<T: DeserializeOwned>(
    collection: Collection,
    documents: Vec<Value>,
) -> Result<Vec<T>, FixtureError> {
    Ok(checked::<T>(collection, documents)?
        .into_iter()
        .map(|(_, typed)| typed)
        .collect())
}

fn contacts(documents: Vec<Value>) -> Result<Vec<Contact>, FixtureError> {
    Ok(checked::<ContactDocument>(Collection::Contacts, documents)?
        .into_iter()
        .map(|(map, _)| Contact::from_document(map))
        .collect())
}

fn custom_fields(documents: Vec<Value>) -> Result<Vec<CustomField>, FixtureError> {
    let file = Collection::CustomFields.file_name();
    checked::<CustomFieldDefinition>(Collection::CustomFields, documents)?
        .into_iter()
        .enumerate()
        .map(|(index, (_, definition))| {
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
        .collect()
}
