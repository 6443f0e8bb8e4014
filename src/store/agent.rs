//! What the contact center's agent panels read: custom field definitions, agents and
//! managers, a contact's history and channels, a room's messages.

use serde_json::{Map, Value};

use super::Store;
use super::fold::fold;
use crate::domain::paging::{Page, Sort};

/// One page of a list route, and how many match in all.
pub struct Listed {
    pub items: Vec<Value>,
    pub total: usize,
}

impl Listed {
    fn of(documents: Vec<Map<String, Value>>, sort: &Sort, page: Page) -> Self {
        let total = documents.len();
        let items = page.of(sort.sorted(documents).into_iter().map(Value::Object));
        Self { items, total }
    }
}

/// `new RegExp(escapeRegExp(text), 'i').test(value)`: a case-insensitive substring.
fn contains(value: Option<&Value>, text: &str) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|v| fold(v).contains(&fold(text)))
}

impl Store {
    /// `findLivechatCustomFields`: the definitions whose label or `_id` contains `text`.
    pub(crate) fn custom_field_definitions(
        &self,
        text: Option<&str>,
        sort: &Sort,
        page: Page,
    ) -> Listed {
        let documents: Vec<Map<String, Value>> = self
            .definitions
            .custom_fields
            .iter()
            .map(|(document, _)| document)
            .filter(|d| {
                text.filter(|t| !t.is_empty())
                    .is_none_or(|t| contains(d.get("label"), t) || contains(d.get("_id"), t))
            })
            .cloned()
            .collect();
        Listed::of(documents, sort, page)
    }

    /// `LivechatCustomField.findOneById`.
    pub(crate) fn custom_field_definition(&self, id: &str) -> Option<Map<String, Value>> {
        self.definitions
            .custom_fields
            .iter()
            .find(|(_, f)| f.definition.id == id)
            .map(|(document, _)| document.clone())
    }
}
