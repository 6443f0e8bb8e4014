//! What the served OpenAPI document promises: the operations, their documented example
//! responses (which `Prefer` forces) and the routes served (which a 404 suggests).

use serde_json::Value;

use crate::routes::control;
use crate::routes::docs::{OPENAPI_PATH, SWAGGER_UI_PATH};

/// One documented Rocket.Chat operation.
pub(crate) struct Operation {
    pub method: String,
    pub path: String,
    /// Status → named example bodies, in document order.
    responses: Vec<(u16, Vec<(String, Value)>)>,
}

impl Operation {
    /// The documented body for `code` and/or `example`, or a message saying what the
    /// operation offers instead.
    pub(crate) fn example(
        &self,
        code: Option<u16>,
        example: Option<&str>,
    ) -> Result<(u16, &Value), String> {
        let found = self
            .responses
            .iter()
            .filter(|(status, _)| code.is_none_or(|c| c == *status))
            .flat_map(|(status, examples)| examples.iter().map(move |e| (*status, e)))
            .find(|(_, (name, _))| example.is_none_or(|e| e == name));
        found
            .map(|(status, (_, body))| (status, body))
            .ok_or_else(|| {
                let asked = [
                    code.map(|c| format!("code={c}")),
                    example.map(|e| format!("example={e}")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
                format!(
                    "Prefer: {asked} is not documented for {} {}; it offers {}",
                    self.method,
                    self.path,
                    self.offers()
                )
            })
    }

    /// `code=200 (example "Example 1"), code=400 (examples "Example 1", "Example 2"), …`
    fn offers(&self) -> String {
        self.responses
            .iter()
            .map(|(status, examples)| {
                let names: Vec<String> = examples.iter().map(|(n, _)| format!("{n:?}")).collect();
                let noun = if names.len() == 1 {
                    "example"
                } else {
                    "examples"
                };
                format!("code={status} ({noun} {})", names.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The first documented success body, as text (cut short by the `malformed-json` fault).
    pub(crate) fn success_text(&self) -> String {
        self.responses
            .iter()
            .find(|(status, _)| (200..300).contains(status))
            .and_then(|(_, examples)| examples.first())
            .map_or_else(
                || r#"{"success":true}"#.to_owned(),
                |(_, body)| body.to_string(),
            )
    }
}

pub(crate) struct Catalogue {
    /// The Rocket.Chat operations (not the control API).
    operations: Vec<Operation>,
    /// Every method and path served, for suggestions.
    routes: Vec<(String, String)>,
}

impl Catalogue {
    pub(crate) fn from_document(document: &Value) -> Self {
        let mut operations = Vec::new();
        let mut routes = Vec::new();
        let paths = document["paths"].as_object().into_iter().flatten();
        for (path, item) in paths {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let method = method.to_ascii_uppercase();
                routes.push((method.clone(), path.clone()));
                if control::is_control_path(path) {
                    continue;
                }
                let responses = operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(status, response)| {
                        let examples = response
                            .pointer("/content/application~1json/examples")?
                            .as_object()?
                            .iter()
                            .filter_map(|(name, e)| Some((name.clone(), e.get("value")?.clone())))
                            .collect();
                        Some((status.parse().ok()?, examples))
                    })
                    .collect();
                operations.push(Operation {
                    method,
                    path: path.clone(),
                    responses,
                });
            }
        }
        for path in [SWAGGER_UI_PATH, OPENAPI_PATH] {
            routes.push(("GET".to_owned(), path.to_owned()));
        }
        Self { operations, routes }
    }

    pub(crate) fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations
            .iter()
            .find(|o| o.method == method && path_matches(&o.path, path))
    }

    /// The 404 message: what was asked, and the closest routes served.
    /// (A templated path such as `/api/v1/livechat/visitor/{token}` counts as served.)
    pub(crate) fn not_found_message(&self, method: &str, path: &str) -> String {
        let same_path: Vec<&str> = self
            .routes
            .iter()
            .filter(|(_, p)| path_matches(p, path))
            .map(|(m, _)| m.as_str())
            .collect();
        if !same_path.is_empty() {
            return format!(
                "{method} {path} is not served; {path} answers {}",
                same_path.join(", ")
            );
        }
        let mut ranked: Vec<(usize, &(String, String))> = self
            .routes
            .iter()
            .map(|route| (strsim::levenshtein(path, &route.1), route))
            .collect();
        ranked.sort_by_key(|(distance, (m, p))| (*distance, m != method, p.clone()));
        let closest: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|(_, (m, p))| format!("{m} {p}"))
            .collect();
        format!(
            "{method} {path} is not served; the closest routes are {}",
            closest.join(", ")
        )
    }
}

/// Does `path` fit the document's `template`, whose `{name}` segments stand for any one
/// non-empty segment?
fn path_matches(template: &str, path: &str) -> bool {
    let (mut template, mut path) = (template.split('/'), path.split('/'));
    loop {
        match (template.next(), path.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') && t.ends_with('}') && !p.is_empty() => {}
            (Some(t), Some(p)) if t == p => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod path_tests {
    use super::path_matches;

    #[test]
    fn a_template_segment_stands_for_one_non_empty_segment() {
        let template = "/api/v1/livechat/visitor/{token}";
        assert!(path_matches(template, "/api/v1/livechat/visitor/abc"));
        assert!(!path_matches(template, "/api/v1/livechat/visitor/"));
        assert!(!path_matches(template, "/api/v1/livechat/visitor/a/b"));
        assert!(!path_matches(template, "/api/v1/livechat/visitor"));
        assert!(path_matches("/api/v1/me", "/api/v1/me"));
    }
}
