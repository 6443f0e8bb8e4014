//! The `Prefer` request header (RFC 7240, with Prism's names): `code=403`,
//! `example=Example 2`, `delay=500`, `fault=connection-reset`. Preferences the mock does
//! not know are ignored, as the RFC asks.

use std::time::Duration;

use actix_web::http::header::HeaderMap;

use super::fault::Fault;

/// The longest delay a request may ask for.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(60);

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Preference {
    pub code: Option<u16>,
    pub example: Option<String>,
    pub delay: Option<Duration>,
    pub fault: Option<Fault>,
}

impl Preference {
    pub(crate) fn parse(headers: &HeaderMap) -> Result<Self, String> {
        let mut preference = Self::default();
        for value in headers.get_all("prefer") {
            let value = value
                .to_str()
                .map_err(|_| "the Prefer header must be ASCII text".to_owned())?;
            for item in value.split(',') {
                // `name=value; parameter`: parameters are not used by these preferences.
                let item = item.split(';').next().unwrap_or_default().trim();
                if item.is_empty() {
                    continue;
                }
                let (name, value) = item.split_once('=').unwrap_or((item, ""));
                let value = value.trim().trim_matches('"');
                preference.set(&name.trim().to_ascii_lowercase(), value)?;
            }
        }
        Ok(preference)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "code" => {
                let code = value
                    .parse::<u16>()
                    .ok()
                    .filter(|c| (100..=599).contains(c));
                self.code = Some(code.ok_or_else(|| {
                    format!("Prefer: code must be an HTTP status such as 403, not {value:?}")
                })?);
            }
            "example" => {
                if value.is_empty() {
                    return Err("Prefer: example needs a name, e.g. example=Example 2".to_owned());
                }
                self.example = Some(value.to_owned());
            }
            "delay" => {
                let delay = match value.parse::<u64>() {
                    Ok(ms) => Ok(Duration::from_millis(ms)),
                    Err(_) => humantime::parse_duration(value),
                }
                .map_err(|_| {
                    format!("Prefer: delay must be milliseconds (delay=500) or a duration (delay=2s), not {value:?}")
                })?;
                if delay > MAX_DELAY {
                    return Err(format!(
                        "Prefer: delay={value} is longer than the {}s the mock waits at most",
                        MAX_DELAY.as_secs()
                    ));
                }
                self.delay = Some(delay);
            }
            "fault" => {
                self.fault = Some(Fault::from_name(value).ok_or_else(|| {
                    let names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
                    format!(
                        "Prefer: fault={value:?} is not a fault the mock injects; use one of {}",
                        names.join(", ")
                    )
                })?);
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the request asks for a documented response instead of the route's own.
    pub(crate) fn forces_response(&self) -> bool {
        self.code.is_some() || self.example.is_some()
    }

    /// The preferences honoured, for the `Preference-Applied` header and the journal.
    pub(crate) fn applied(&self) -> String {
        let mut applied = Vec::new();
        if let Some(code) = self.code {
            applied.push(format!("code={code}"));
        }
        if let Some(example) = &self.example {
            applied.push(format!("example=\"{example}\""));
        }
        if let Some(delay) = self.delay {
            applied.push(format!("delay={}", delay.as_millis()));
        }
        if let Some(fault) = self.fault {
            applied.push(format!("fault={}", fault.name()));
        }
        applied.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn parse(values: &[&str]) -> Result<Preference, String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static("prefer"),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Preference::parse(&headers)
    }

    #[test]
    fn reads_prisms_preferences_in_one_or_several_headers() {
        let preference = parse(&["code=400, example=Example 2", "delay=250"]).unwrap();
        assert_eq!(preference.code, Some(400));
        assert_eq!(preference.example.as_deref(), Some("Example 2"));
        assert_eq!(preference.delay, Some(Duration::from_millis(250)));
        assert_eq!(
            parse(&["example=\"Permission Error\"; lang=en"])
                .unwrap()
                .example
                .as_deref(),
            Some("Permission Error")
        );
        assert_eq!(
            parse(&["delay=2s"]).unwrap().delay,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse(&["fault=malformed-json"]).unwrap().fault,
            Some(Fault::MalformedJson)
        );
    }

    #[test]
    fn ignores_unknown_preferences_and_refuses_bad_values() {
        assert_eq!(
            parse(&["return=minimal, respond-async"]),
            Ok(Preference::default())
        );
        assert!(
            parse(&["code=forbidden"])
                .unwrap_err()
                .contains("HTTP status")
        );
        assert!(parse(&["code=42"]).is_err());
        assert!(parse(&["delay=soon"]).unwrap_err().contains("milliseconds"));
        assert!(parse(&["delay=61000"]).unwrap_err().contains("60s"));
        assert!(
            parse(&["fault=timeout"])
                .unwrap_err()
                .contains("connection-reset, empty-response, malformed-json")
        );
    }
}
