//! Command-line flags, each also readable from an environment variable.

use std::path::PathBuf;

use clap::Parser;

/// A mock of Rocket.Chat's Omnichannel Contacts REST API that answers as the real server
/// does: same status codes, bodies, validation messages and business rules, on state seeded
/// from fixtures.
#[derive(Debug, Clone, Parser)]
#[command(name = "rocketchat-mock", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on. Use 0.0.0.0 to accept connections from other machines.
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

    /// Print the OpenAPI document (JSON) and exit.
    #[arg(long)]
    pub print_openapi: bool,
}

impl Config {
    /// The configuration tests use: built-in fixtures on a free port of the loopback address.
    pub fn for_tests() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 0,
            fixtures: None,
            body_limit: 1024 * 1024,
            workers: Some(1),
            print_openapi: false,
        }
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
}
