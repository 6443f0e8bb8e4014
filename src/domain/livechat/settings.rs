//! The workspace settings the Livechat routes read, each with Rocket.Chat's default
//! (`apps/meteor/server/settings/omnichannel.ts`, `message.ts`, `general.ts`).

use serde_json::{Map, Value, json};

/// A setting's `_id` and its default value.
type Default = (&'static str, fn() -> Value);

/// Every setting a route reads, and its default.
pub const DEFAULTS: &[Default] = &[
    ("Livechat_enabled", || json!(true)),
    ("Livechat_guest_count", || json!(1)),
    ("Livechat_Routing_Method", || json!("Auto_Selection")),
    ("Livechat_accept_chats_with_no_agents", || json!(false)),
    ("Livechat_assign_new_conversation_to_bot", || json!(false)),
    ("Livechat_enabled_when_agent_idle", || json!(true)),
    ("Livechat_show_agent_info", || json!(true)),
    (
        "Livechat_Allow_collect_and_store_HTTP_header_informations",
        || json!(false),
    ),
    ("Omnichannel_allow_visitors_to_close_conversation", || {
        json!(true)
    }),
    ("Livechat_request_comment_when_closing_conversation", || {
        json!(true)
    }),
    ("Livechat_enable_transcript", || json!(false)),
    ("Livechat_transcript_send_always", || json!(false)),
    ("Livechat_enable_message_character_limit", || json!(false)),
    ("Livechat_message_character_limit", || json!(0)),
    ("Store_Last_Message", || json!(true)),
    ("Hide_System_Messages", || json!([])),
    ("Message_AllowEditing", || json!(true)),
    ("Message_AllowDeleting", || json!(true)),
];

/// The loaded setting documents, in loaded order; a route that changes one (the guest
/// counter) writes its document back, adding it if the fixtures had none.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    documents: Vec<Map<String, Value>>,
}

impl Settings {
    pub fn new(documents: Vec<Map<String, Value>>) -> Self {
        let mut settings = Self::default();
        settings.upsert(documents);
        settings
    }

    /// Adds the documents, each replacing the one with its `_id` in its place.
    pub fn upsert(&mut self, documents: Vec<Map<String, Value>>) {
        for document in documents {
            let id = document.get("_id").cloned();
            match self
                .documents
                .iter_mut()
                .find(|d| d.get("_id") == id.as_ref())
            {
                Some(existing) => *existing = document,
                None => self.documents.push(document),
            }
        }
    }

    pub fn documents(&self) -> &[Map<String, Value>] {
        &self.documents
    }

    /// The setting's value, or Rocket.Chat's default.
    pub fn value(&self, id: &str) -> Value {
        self.documents
            .iter()
            .find(|d| d.get("_id").and_then(Value::as_str) == Some(id))
            .and_then(|d| d.get("value").cloned())
            .or_else(|| DEFAULTS.iter().find(|(k, _)| *k == id).map(|(_, v)| v()))
            .unwrap_or(Value::Null)
    }

    /// A boolean setting as JavaScript reads it (`if (settings.get(id))`).
    pub fn is_on(&self, id: &str) -> bool {
        crate::validation::js::is_truthy(&self.value(id))
    }

    /// `Settings.incrementValueById(id, 1)`: the new value.
    pub fn increment(&mut self, id: &str) -> i64 {
        let next = self.value(id).as_i64().unwrap_or(0) + 1;
        match self
            .documents
            .iter_mut()
            .find(|d| d.get("_id").and_then(Value::as_str) == Some(id))
        {
            Some(document) => {
                document.insert("value".into(), json!(next));
            }
            None => {
                let mut document = Map::new();
                document.insert("_id".into(), json!(id));
                document.insert("value".into(), json!(next));
                self.documents.push(document);
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_no_document_names_has_its_default_and_counters_count_from_it() {
        let mut settings = Settings::new(vec![
            serde_json::from_value(json!({"_id": "Livechat_enabled", "value": false})).unwrap(),
        ]);
        assert!(!settings.is_on("Livechat_enabled"));
        assert!(settings.is_on("Omnichannel_allow_visitors_to_close_conversation"));
        // The counter's default is 1: the first guest is guest-2, as upstream.
        assert_eq!(settings.increment("Livechat_guest_count"), 2);
        assert_eq!(settings.increment("Livechat_guest_count"), 3);
        assert_eq!(settings.documents().len(), 2);
    }
}
