//! Who may use the control API (`/_mock/`). It can read the journal and replace the whole
//! state, so it answers only:
//! - under a `Host` this machine is known by (loopback names, the `--host` address, and
//!   `--allow-host`), which defeats DNS rebinding: a page that points its own name at
//!   127.0.0.1 still sends its own name;
//! - to pages of this machine: a request with an `Origin` is refused unless that origin is
//!   on loopback, is the mock's own (same host as `Host`), or is listed by `--cors-origin`.
//!   CORS headers alone would not do: a page's form post is sent before any CORS check,
//!   and only the answer is withheld;
//! - with `--control-token`, to requests that carry `Authorization: Bearer <token>` (and
//!   then under any `Host`: the token is the guard).
//!
//! `/_mock/health` is open to all: orchestrators probe it by IP address, without a token,
//! and it tells nothing a client could misuse.

use std::net::IpAddr;

use actix_web::dev::RequestHead;
use actix_web::http::header::{AUTHORIZATION, HOST, HeaderValue, ORIGIN};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::ApiError;

pub(crate) struct ControlGuard {
    /// Names and addresses accepted in `Host` besides loopback ones, lower case.
    hosts: Vec<String>,
    any_host: bool,
    /// `--cors-origin`.
    origins: Vec<String>,
    /// SHA-256 of `--control-token`: compared digest to digest, so that the comparison's
    /// time tells nothing about the token.
    token: Option<[u8; 32]>,
}

impl ControlGuard {
    pub(crate) fn new(config: &Config) -> Self {
        let mut hosts: Vec<String> = config
            .allow_hosts
            .iter()
            .map(|host| host.trim().to_ascii_lowercase())
            .filter(|host| !host.is_empty())
            .collect();
        let bound = config.host.trim().to_ascii_lowercase();
        if !is_unspecified(&bound) {
            hosts.push(bound);
        }
        Self {
            any_host: hosts.iter().any(|host| host == "*"),
            hosts,
            origins: config.cors_origins.clone(),
            token: config.control_token.as_deref().map(digest),
        }
    }

    /// Whether a browser page of `origin` may call the control API (for CORS, and for the
    /// check of [`ControlGuard::check`]). `host` is the request's `Host` header.
    pub(crate) fn allows_origin(&self, origin: &str, host: Option<&str>) -> bool {
        if self.origins.iter().any(|allowed| allowed == origin) {
            return true;
        }
        let Some(authority) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            // `null` (a sandboxed frame, a file:// page) and anything else.
            return false;
        };
        let origin_host = host_of(authority);
        is_loopback(&origin_host)
            || host.is_some_and(|host| authority.eq_ignore_ascii_case(host.trim()))
    }

    /// Whether a page of `origin` may call the Rocket.Chat routes: any, unless
    /// `--cors-origin` lists some.
    pub(crate) fn allows_api_origin(&self, origin: &str) -> bool {
        self.origins.is_empty() || self.origins.iter().any(|allowed| allowed == origin)
    }

    /// Whether the request may use the control API; the refusal says why and what to do.
    pub(crate) fn check(&self, head: &RequestHead, path: &str) -> Result<(), ApiError> {
        if path == "/_mock/health" {
            return Ok(());
        }
        let host = head.headers.get(HOST).and_then(|v| v.to_str().ok());
        if let Some(origin) = head.headers.get(ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !self.allows_origin(origin, host) {
                return Err(ApiError::ControlRefused(format!(
                    "the control API does not answer pages of {origin:?}; allow it with --cors-origin {origin}"
                )));
            }
        }
        if let Some(expected) = &self.token {
            return match bearer(head.headers.get(AUTHORIZATION)) {
                Some(token) if digest(token) == *expected => Ok(()),
                Some(_) => Err(ApiError::ControlToken(
                    "the control token is wrong (--control-token)".to_owned(),
                )),
                None => Err(ApiError::ControlToken(
                    "the control API needs `Authorization: Bearer <token>`, the token given by --control-token".to_owned(),
                )),
            };
        }
        match host {
            Some(host) if !self.allows_host(&host_of(host)) => {
                Err(ApiError::ControlRefused(format!(
                    "the control API does not answer under the host name {:?}; allow it with --allow-host {}, or set --control-token",
                    host,
                    host_of(host)
                )))
            }
            _ => Ok(()),
        }
    }

    fn allows_host(&self, host: &str) -> bool {
        self.any_host || is_loopback(host) || self.hosts.iter().any(|allowed| allowed == host)
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn bearer(value: Option<&HeaderValue>) -> Option<&str> {
    let value = value?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// The host of an authority (`name:port`, `[::1]:port`, `name`), lower case, brackets off.
fn host_of(authority: &str) -> String {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        }
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `localhost`, a name under `.localhost` (RFC 6761: always loopback) or a loopback
/// address.
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_unspecified(host: &str) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn guard(args: &[&str]) -> ControlGuard {
        let argv = ["rocketchat-mock"].into_iter().chain(args.iter().copied());
        ControlGuard::new(&Config::parse_from(argv))
    }

    #[test]
    fn hosts_are_read_as_browsers_send_them() {
        assert_eq!(host_of("LocalHost:3000"), "localhost");
        assert_eq!(host_of("[::1]:3000"), "::1");
        assert_eq!(host_of("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_of("app.localhost."), "app.localhost");
        assert!(is_loopback("127.5.6.7"));
        assert!(is_loopback("::1"));
        assert!(!is_loopback("localhost.evil.example"));
        assert!(!is_loopback("10.0.0.1"));
    }

    #[test]
    fn origins_of_this_machine_and_listed_ones_are_allowed() {
        let guard = guard(&["--cors-origin", "http://app.example:5173"]);
        assert!(guard.allows_origin("http://localhost:5173", None));
        assert!(guard.allows_origin("http://[::1]:8080", None));
        assert!(guard.allows_origin("http://app.example:5173", None));
        assert!(guard.allows_origin("http://mock.internal:3000", Some("mock.internal:3000")));
        assert!(!guard.allows_origin("http://evil.example", Some("127.0.0.1:3000")));
        assert!(!guard.allows_origin("null", None));
        assert!(!guard.allows_origin("http://localhost.evil.example", None));
    }

    #[test]
    fn the_bound_address_and_allowed_hosts_are_accepted() {
        let guard = guard(&["--host", "192.168.1.5", "--allow-host", "mock,Other"]);
        assert!(guard.allows_host("192.168.1.5"));
        assert!(guard.allows_host("mock"));
        assert!(guard.allows_host("other"));
        assert!(!guard.allows_host("evil.example"));
        assert!(self::guard(&["--allow-host", "*"]).allows_host("anything"));
        // 0.0.0.0 is no name a client sends.
        assert!(!self::guard(&["--host", "0.0.0.0"]).allows_host("0.0.0.0"));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let value = HeaderValue::from_static("bearer  s3cret ");
        assert_eq!(bearer(Some(&value)), Some("s3cret"));
        assert_eq!(bearer(Some(&HeaderValue::from_static("Basic abc"))), None);
        assert_eq!(bearer(Some(&HeaderValue::from_static("Bearer "))), None);
    }
}
