//! Writes a fixtures folder with as many generated contacts as asked, for trying the mock
//! (and benchmarking it) on a workspace of realistic size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Generate a fixtures folder for `rocketchat-mock --fixtures DIR`: the built-in users,
/// permissions and custom fields, and N generated contacts.
///
/// Contact number i (from 0) has the `_id` `format!("{:024x}", i + 1)`, so a load script can
/// name any of them without reading the file. Every contact is enabled, listed (`unknown:
/// false`), has one e-mail address, one phone number and one widget channel; every
/// `--conflict-every`-th contact (i = 0, K, 2K, …) has two conflicting fields, `name` and
/// `customFields.company`. The same --seed gives the same file, byte for byte.
#[derive(Debug, Parser)]
#[command(name = "rocketchat-mock-fixtures", version)]
struct Args {
    /// How many contacts to generate.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=50_000_000))]
    contacts: u64,

    /// The folder to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Every K-th contact carries conflicting fields (0: none does).
    #[arg(long, value_name = "K", default_value_t = 1)]
    conflict_every: u64,

    /// Seed of the generated names and values.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Replace fixture files that already exist in DIR.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, thiserror::Error)]
enum GenerateError {
    #[error("{0} already exists (pass --force to replace it)")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// The built-in workspace apart from its contacts, so that the generated folder has the same
/// logins and permissions as the default one.
const COPIED: [(&str, &str); 3] = [
    ("users.json", include_str!("../../fixtures/users.json")),
    (
        "permissions.json",
        include_str!("../../fixtures/permissions.json"),
    ),
    (
        "custom-fields.json",
        include_str!("../../fixtures/custom-fields.json"),
    ),
];

/// Managers are fixture users with the livechat-agent role, as upstream requires.
const MANAGERS: [&str; 2] = ["9sLvmAcQk4EAGdi6e", "rbAXPnMktTFbNpwtJ"];

const FIRST_NAMES: [&str; 16] = [
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo", "Isabel", "João",
    "Karin", "Luis", "Marta", "Nuno", "Olivia", "Pedro",
];
const LAST_NAMES: [&str; 12] = [
    "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Almeida", "Ferreira", "Rocha",
    "Lima", "Gomes", "Martins",
];
const COMPANIES: [&str; 6] = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"];

fn main() -> ExitCode {
    let args = Args::parse();
    match generate(&args) {
        Ok(()) => {
            eprintln!(
                "wrote {} contacts to {}",
                args.contacts,
                args.out.join("contacts.json").display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("rocketchat-mock-fixtures: {error}");
            ExitCode::FAILURE
        }
    }
}

fn generate(args: &Args) -> Result<(), GenerateError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| GenerateError::Io { path, source }
    };
    fs::create_dir_all(&args.out).map_err(io(&args.out))?;
    for (name, text) in COPIED {
        let path = args.out.join(name);
        let mut file = create(&path, args.force)?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
    }
    let path = args.out.join("contacts.json");
    let mut out = BufWriter::with_capacity(1 << 20, create(&path, args.force)?);
    write_contacts(&mut out, args).map_err(io(&path))?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|file| file.sync_all())
        .map_err(io(&path))
}

fn create(path: &Path, force: bool) -> Result<File, GenerateError> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options.open(path).map_err(|source| match source.kind() {
        io::ErrorKind::AlreadyExists => GenerateError::Exists(path.to_owned()),
        _ => GenerateError::Io {
            path: path.to_owned(),
            source,
        },
    })
}

/// Streams the array one contact at a time, so that a million contacts never sit in memory.
fn write_contacts(out: &mut impl Write, args: &Args) -> io::Result<()> {
    let mut random = StdRng::seed_from_u64(args.seed);
    out.write_all(b"[")?;
    for index in 0..args.contacts {
        if index > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"\n")?;
        let has_conflicts = args.conflict_every > 0 && index % args.conflict_every == 0;
        serde_json::to_writer(&mut *out, &contact(index, has_conflicts, &mut random))?;
    }
    out.write_all(b"\n]\n")
}

fn contact(index: u64, has_conflicts: bool, random: &mut StdRng) -> Value {
    let pick =
        |random: &mut StdRng, list: &[&'static str]| list[random.random_range(0..list.len())];
    let first = pick(random, &FIRST_NAMES);
    let last = pick(random, &LAST_NAMES);
    let company = pick(random, &COMPANIES);
    // Seconds after 2024-01-01, within two years.
    let created = 1_704_067_200 + random.random_range(0..63_072_000);
    let updated = created + random.random_range(0..86_400 * 30);
    let visitor: u64 = random.random_range(0..1 << 48);
    let mut contact = json!({
        "_id": format!("{:024x}", index + 1),
        "createdAt": timestamp(created),
        "name": format!("{first} {last}"),
        "emails": [{ "address": format!("{}.{}.{index}@example.com", first.to_lowercase(), last.to_lowercase()) }],
        "phones": [{ "phoneNumber": format!("+55{:011}", index) }],
        "contactManager": MANAGERS[(index % 2) as usize],
        "channels": [{
            "name": "widget",
            "visitor": { "visitorId": format!("{visitor:024x}"), "source": { "type": "widget" } },
            "blocked": false,
            "verified": false,
            "details": { "type": "widget", "destination": "example.com" }
        }],
        "customFields": { "company": company },
        "unknown": false,
        "conflictingFields": [],
        "_updatedAt": timestamp(updated),
    });
    if has_conflicts {
        contact["conflictingFields"] = json!([
            { "field": "name", "value": format!("{} {last}", pick(random, &FIRST_NAMES)) },
            { "field": "customFields.company", "value": pick(random, &COMPANIES) },
        ]);
    }
    contact
}

fn timestamp(seconds: i64) -> String {
    let time = jiff::Timestamp::from_second(seconds).expect("within jiff's range");
    rocketchat_mock::store::iso_millis(time)
}
