//! Command-line flags, each also readable from an environment variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// A mock of Rocket.Chat's Omnichannel Contacts REST API that answers as the real server
/// does: same status codes, bodies, validation messages and business rules, on state seeded
/// from fixtures.
#[derive(Debug, Clone, Parser)]
#[command(name = "rocketchat-mock", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on. Use 0.0.0.0 to accept connections from other machines; then
    /// guard the control API with `--control-token` (or `--no-control`): the mock warns at
    /// start-up when it is reachable from the network unguarded.
    #[arg(long, env = "ROCKETCHAT_MOCK_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free port; the start-up line says which).
    #[arg(long, env = "ROCKETCHAT_MOCK_PORT", default_value_t = 3000)]
    pub port: u16,

    /// Folder of fixtures: users.json, permissions.json, contacts.json, custom-fields.json
    /// (JSON arrays in Rocket.Chat's document shapes; MongoDB Extended JSON is accepted; a
    /// missing file is an empty collection). Without it, the built-in default workspace is used.
    #[arg(long, env = "ROCKETCHAT_MOCK_FIXTURES", value_name = "DIR")]
    pub fixtures: Option<PathBuf>,

    /// Largest request body accepted, in bytes, or with a unit: 512KiB, 1MiB, 2MB.
    /// Larger bodies are answered 413.
    #[arg(long, env = "ROCKETCHAT_MOCK_BODY_LIMIT", default_value = "1MiB", value_parser = parse_size)]
    pub body_limit: usize,

    /// Worker threads serving requests (default: one per core).
    #[arg(long, env = "ROCKETCHAT_MOCK_WORKERS")]
    pub workers: Option<usize>,

    /// Which Rocket.Chat server the error bodies imitate: `reference` (the published
    /// reference pages), `7` (a live 7.x server: the 401 body also carries `success` and
    /// `error`) or `8` (8.x: 401 is `{"success":false,"error":…}` and permission errors end
    /// in `[error-forbidden]`). The OpenAPI document's examples follow.
    #[arg(
        long,
        env = "ROCKETCHAT_MOCK_ROCKETCHAT_VERSION",
        value_enum,
        default_value_t
    )]
    pub rocketchat_version: RocketChatVersion,

    /// Which workspace the mock imitates: `enterprise` (licensed, as the upstream e2e tests
    /// run: `contacts.block` and `.unblock` work) or `community` (no license: those routes
    /// answer `This is an enterprise feature [error-action-not-allowed]`).
    #[arg(long, env = "ROCKETCHAT_MOCK_EDITION", value_enum, default_value_t)]
    pub edition: Edition,

    /// Serve no `/_mock/` control API (reset, state, journal, sessions), for a mock that is
    /// reachable from a network. `X-Mock-Session`, `Prefer` and the journal still work.
    #[arg(long, env = "ROCKETCHAT_MOCK_NO_CONTROL")]
    pub no_control: bool,

    /// Requests each session's journal keeps (`GET /_mock/requests`); the oldest are
    /// dropped first. 0 keeps none.
    #[arg(long, env = "ROCKETCHAT_MOCK_JOURNAL_SIZE", default_value_t = 1000)]
    pub journal_size: usize,

    /// Memory all sessions' journals hold together, at most (bodies, headers and a small
    /// overhead per entry): the oldest entry of any session is dropped first. 0 keeps none.
    #[arg(long, env = "ROCKETCHAT_MOCK_JOURNAL_BYTES", default_value = "64MiB", value_parser = parse_size)]
    pub journal_bytes: usize,

    /// Bytes of each request and response body the journal keeps; a longer one is cut and
    /// marked (`bodyTruncated`, `responseTruncated`: its whole length).
    #[arg(long, env = "ROCKETCHAT_MOCK_JOURNAL_BODY_LIMIT", default_value = "64KiB", value_parser = parse_size)]
    pub journal_body_limit: usize,

    /// How long a request's body may take to arrive after its headers; a slower one is
    /// answered 408 and its connection closed. E.g. 15s, 2m.
    #[arg(long, env = "ROCKETCHAT_MOCK_BODY_TIMEOUT", default_value = "15s", value_parser = parse_timeout)]
    pub body_timeout: Duration,

    /// A secret that every `/_mock/` request must carry as `Authorization: Bearer <token>`
    /// (Swagger UI: Authorize, `controlToken`); `/_mock/health` stays open. With it, the
    /// control API also answers under any `Host`.
    #[arg(
        long,
        env = "ROCKETCHAT_MOCK_CONTROL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,

    /// Host names (as in the `Host` header, without port) the control API answers besides
    /// loopback names and the `--host` address, e.g. `rocketchat-mock` for a compose
    /// service; `*` for any. Guards against DNS rebinding: a web page that makes its own
    /// name point to 127.0.0.1 still sends its own name.
    #[arg(
        long = "allow-host",
        env = "ROCKETCHAT_MOCK_ALLOW_HOST",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub allow_hosts: Vec<String>,

    /// Most `X-Mock-Session` sessions alive at once. A request that would open one more is
    /// answered 503 until one ends (`DELETE /_mock/sessions/{name}`) or expires.
    #[arg(long, env = "ROCKETCHAT_MOCK_MAX_SESSIONS", default_value_t = 100)]
    pub max_sessions: usize,

    /// A session unused for this long is discarded; its next request starts again from the
    /// fixtures. E.g. 30s, 15m, 1h.
    #[arg(long, env = "ROCKETCHAT_MOCK_SESSION_IDLE", default_value = "15m", value_parser = humantime::parse_duration)]
    pub session_idle: Duration,

    /// Latency added to every Rocket.Chat route: a duration (`250ms`) or a range picked from
    /// at random per request (`100ms..400ms`). `Prefer: delay=<ms>` overrides it per request.
    #[arg(long, env = "ROCKETCHAT_MOCK_DELAY", value_parser = Delay::parse)]
    pub delay: Option<Delay>,

    /// Share of Rocket.Chat route requests (0 to 1) answered with a random fault instead:
    /// a reset connection, an empty response or malformed JSON.
    #[arg(long, env = "ROCKETCHAT_MOCK_FAULT_RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_rate: f64,

    /// Seed of the random choices (`--delay` ranges, `--fault-rate`), for repeatable runs.
    #[arg(long, env = "ROCKETCHAT_MOCK_SEED")]
    pub seed: Option<u64>,

    /// Origins allowed to call the mock from a browser, e.g. `http://localhost:5173`
    /// (repeat the flag, or separate with commas). Without it any origin may call the
    /// Rocket.Chat routes: the request's origin is echoed and credentials are allowed. The
    /// control API (`/_mock/`) answers only pages of this machine (loopback origins, or the
    /// mock's own) and these origins; others are refused 403.
    #[arg(long = "cors-origin", env = "ROCKETCHAT_MOCK_CORS_ORIGIN", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,

    /// Reload the fixtures folder when one of its files changes: every session (the shared
    /// one and each `X-Mock-Session`) resets to the new files. A broken file, or one that
    /// vanished, is reported (`/_mock/health`) and the old state kept.
    #[arg(long, env = "ROCKETCHAT_MOCK_WATCH", requires = "fixtures")]
    pub watch: bool,

    /// Log format: `pretty` for people, `json` (one object per line) for machines. The level
    /// comes from `RUST_LOG` (default `info`: start-up and one line per request).
    #[arg(long, env = "ROCKETCHAT_MOCK_LOG_FORMAT", value_enum, default_value_t)]
    pub log_format: LogFormat,

    /// On SIGINT/SIGTERM, how long requests in flight may take to finish.
    #[arg(long, env = "ROCKETCHAT_MOCK_SHUTDOWN_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,

    /// Print the OpenAPI document (JSON) and exit. Honours `--rocketchat-version` and
    /// `--no-control`.
    #[arg(long)]
    pub print_openapi: bool,
}

/// A licensed (enterprise) workspace or a community one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Edition {
    #[default]
    Enterprise,
    Community,
}

/// The Rocket.Chat server whose error bodies the mock reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RocketChatVersion {
    /// The published reference pages.
    #[default]
    Reference,
    /// A live 7.x server.
    #[value(name = "7", alias = "7.x")]
    V7,
    /// A live 8.x server.
    #[value(name = "8", alias = "8.x")]
    V8,
}

impl RocketChatVersion {
    pub fn name(self) -> &'static str {
        match self {
            Self::Reference => "reference",
            Self::V7 => "7",
            Self::V8 => "8",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// Added latency: fixed when `min == max`, else drawn uniformly from the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    pub min: Duration,
    pub max: Duration,
}

impl Delay {
    /// `250ms`, `1s`, `100ms..400ms`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let duration = |part: &str| {
            humantime::parse_duration(part.trim())
                .map_err(|e| format!("{part:?} is not a duration ({e}); write e.g. 250ms or 1s"))
        };
        let delay = match text.split_once("..") {
            Some((min, max)) => Self {
                min: duration(min)?,
                max: duration(max)?,
            },
            None => {
                let fixed = duration(text)?;
                Self {
                    min: fixed,
                    max: fixed,
                }
            }
        };
        if delay.min > delay.max {
            return Err(format!(
                "the range {text:?} ends before it starts; write the shorter delay first"
            ));
        }
        Ok(delay)
    }
}

/// A positive duration: a zero timeout would refuse every body.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err("the timeout must be longer than 0, e.g. 15s".to_owned()),
        Err(e) => Err(format!(
            "{text:?} is not a duration ({e}); write e.g. 15s or 2m"
        )),
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate: write a number from 0 to 1, e.g. 0.05 for 5%"
        )),
    }
}

/// `scheme://host[:port]`, as browsers send it in `Origin`.
fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => {
            Ok(text.to_owned())
        }
        _ => Err(format!(
            "{text:?} is not an origin: write scheme://host[:port] with no path, e.g. http://localhost:5173"
        )),
    }
}

impl Config {
    /// Whether the mock listens beyond loopback with the control API open to whoever
    /// reaches it: worth a warning at start-up.
    pub fn control_exposed(&self) -> bool {
        let host = self.host.trim().to_ascii_lowercase();
        !self.no_control && self.control_token.is_none() && !crate::mock::guard::is_loopback(&host)
    }

    /// The configuration tests use: built-in fixtures on a free port of the loopback address.
    pub fn for_tests() -> Self {
        Self::parse_from(["rocketchat-mock", "--port", "0", "--workers", "1"])
    }
}

/// `1048576`, `1MiB`, `512KiB`, `2MB`, `10kB` → bytes.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: usize = digits.parse().map_err(|_| {
        format!("{text:?} is not a size: expected a number of bytes, e.g. 1048576 or 1MiB")
    })?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" | "k" => 1 << 10,
        "mb" => 1_000_000,
        "mib" | "m" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" | "g" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KiB, MiB, GiB, kB, MB or GB"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_accept_units() {
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("1 parsec").is_err());
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn delays_are_fixed_or_ranges() {
        let ms = Duration::from_millis;
        assert_eq!(
            Delay::parse("250ms"),
            Ok(Delay {
                min: ms(250),
                max: ms(250)
            })
        );
        assert_eq!(
            Delay::parse("100ms..1s"),
            Ok(Delay {
                min: ms(100),
                max: ms(1000)
            })
        );
        assert!(
            Delay::parse("400ms..100ms")
                .unwrap_err()
                .contains("ends before it starts")
        );
        assert!(Delay::parse("fast").is_err());
    }

    #[test]
    fn origins_and_rates_are_checked() {
        assert_eq!(
            parse_origin("http://localhost:5173").as_deref(),
            Ok("http://localhost:5173")
        );
        assert!(parse_origin("localhost:5173").is_err());
        assert!(parse_origin("http://localhost:5173/app").is_err());
        assert_eq!(parse_rate("0.05"), Ok(0.05));
        assert!(parse_rate("5%").is_err());
        assert!(parse_rate("1.5").is_err());
    }

    #[test]
    fn every_option_has_an_environment_variable() {
        use clap::CommandFactory;
        for arg in Config::command().get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version" | "print_openapi") {
                continue;
            }
            assert!(
                arg.get_env().is_some(),
                "--{id} has no environment variable"
            );
            assert!(arg.get_help().is_some(), "--{id} has no help");
        }
    }
}
