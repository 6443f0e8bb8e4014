//! Writes a fixtures folder with as many generated contacts as asked, for trying the mock
//! (and benchmarking it) on a workspace of realistic size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::str::FromStr;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Generate a fixtures folder for `rocketchat-mock --fixtures DIR`: the built-in users,
/// permissions, custom fields and settings, N generated contacts and, with
/// `--conversations`, their visitors, rooms and messages.
///
/// Contact number i (from 0) has the `_id` `format!("{:024x}", i + 1)`, so a load script can
/// name any of them without reading the file. Every contact is enabled, listed (`unknown:
/// false`), has one e-mail address, one phone number and one widget channel; every
/// `--conflict-every`-th contact (i = 0, K, 2K, …) has two conflicting fields, `name` and
/// `customFields.company`.
///
/// With `--conversations C`, contact i's widget visitor exists too, with the token
/// `visitor-token-<i>`, and has C closed rooms of 3 messages each (opened, a visitor's
/// message, closed by the visitor); the contact's `lastChat` is its last room. The same
/// --seed gives the same files, byte for byte.
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

    /// Closed rooms (with their messages) per contact; their visitors are written too.
    #[arg(long, value_name = "C", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100))]
    conversations: u64,

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
const COPIED: [(&str, &str); 4] = [
    ("users.json", include_str!("../../fixtures/users.json")),
    (
        "permissions.json",
        include_str!("../../fixtures/permissions.json"),
    ),
    (
        "custom-fields.json",
        include_str!("../../fixtures/custom-fields.json"),
    ),
    (
        "settings.json",
        include_str!("../../fixtures/settings.json"),
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
    let mut files = Vec::new();
    for name in [
        "contacts.json",
        "visitors.json",
        "rooms.json",
        "messages.json",
    ] {
        let path = args.out.join(name);
        let file = BufWriter::with_capacity(1 << 20, create(&path, args.force)?);
        files.push((path, Array::new(file)));
    }
    write_workspace(&mut files, args).map_err(io(&args.out))?;
    for (path, array) in files {
        array
            .finish()
            .and_then(|out| out.into_inner().map_err(|e| e.into_error()))
            .and_then(|file| file.sync_all())
            .map_err(io(&path))?;
    }
    Ok(())
}

/// A JSON array written one document at a time.
struct Array<W: Write> {
    out: W,
    empty: bool,
}

impl<W: Write> Array<W> {
    fn new(out: W) -> Self {
        Self { out, empty: true }
    }

    fn push(&mut self, document: &Value) -> io::Result<()> {
        self.out
            .write_all(if self.empty { b"[\n" } else { b",\n" })?;
        self.empty = false;
        serde_json::to_writer(&mut self.out, document).map_err(io::Error::from)
    }

    fn finish(mut self) -> io::Result<W> {
        self.out
            .write_all(if self.empty { b"[]\n" } else { b"\n]\n" })?;
        Ok(self.out)
    }
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

/// Streams the arrays one document at a time, so that a million contacts never sit in
/// memory.
fn write_workspace<W: Write>(files: &mut [(PathBuf, Array<W>)], args: &Args) -> io::Result<()> {
    let mut random = StdRng::seed_from_u64(args.seed);
    for index in 0..args.contacts {
        let has_conflicts = args.conflict_every > 0 && index % args.conflict_every == 0;
        let mut contact = contact(index, has_conflicts, &mut random);
        if args.conversations > 0 {
            let (visitor, rooms, messages) = conversations(index, &contact, args.conversations);
            if let Some(last) = rooms.last() {
                let last_chat = json!({ "_id": last["_id"], "ts": last["ts"] });
                contact["channels"][0]["lastChat"] = last_chat.clone();
                contact["lastChat"] = last_chat;
            }
            files[1].1.push(&visitor)?;
            for room in &rooms {
                files[2].1.push(room)?;
            }
            for message in &messages {
                files[3].1.push(message)?;
            }
        }
        files[0].1.push(&contact)?;
    }
    Ok(())
}

/// Contact `index`'s visitor and its `count` closed rooms with their messages, a day apart
/// after the contact was created.
fn conversations(index: u64, contact: &Value, count: u64) -> (Value, Vec<Value>, Vec<Value>) {
    let visitor_id = contact["channels"][0]["visitor"]["visitorId"].clone();
    let token = format!("visitor-token-{index}");
    let username = format!("guest-{}", index + 1);
    let created = jiff::Timestamp::from_str(contact["createdAt"].as_str().unwrap_or_default())
        .map_or(0, |t| t.as_second());
    let name = contact["name"].clone();
    let email = contact["emails"][0]["address"].clone();
    let phone = contact["phones"][0]["phoneNumber"].clone();
    let author = json!({ "_id": visitor_id, "username": username });
    let (mut rooms, mut messages) = (Vec::new(), Vec::new());
    for n in 0..count {
        let opened = created + 86_400 * (n as i64 + 1);
        let (ts, said, closed) = (
            timestamp(opened),
            timestamp(opened + 20),
            timestamp(opened + 600),
        );
        // Room and message ids: unique per contact and room, as readable as the contacts'.
        let rid = format!("R{index:012}{n:04}");
        let started = json!({ "_id": format!("{:018x}{n:06x}", index + 1), "t": "livechat-started", "rid": rid, "ts": ts, "msg": "", "u": author, "groupable": false, "token": token, "_updatedAt": ts });
        let text = json!({ "_id": format!("M{index:012}{n:04}"), "rid": rid, "msg": "Hello, I need help with my order.", "token": token, "alias": name, "ts": said, "u": { "_id": visitor_id, "username": username, "name": name }, "urls": [], "mentions": [], "channels": [], "_updatedAt": said });
        let close = json!({ "_id": format!("{:018x}{:06x}", index + 1, n + 0x80_0000), "t": "livechat-close", "rid": rid, "ts": closed, "msg": "Closed by visitor", "u": author, "groupable": false, "transcriptRequested": false, "token": token, "_updatedAt": closed });
        rooms.push(json!({
            "_id": rid, "msgs": 3, "usersCount": 1, "lm": closed, "fname": name, "t": "l", "ts": ts,
            "v": { "_id": visitor_id, "username": username, "token": token, "status": "offline", "lastMessageTs": said },
            "contactId": contact["_id"], "cl": false, "waitingResponse": true, "verified": false,
            "source": { "type": "widget", "destination": "example.com" },
            "queuedAt": ts, "priorityWeight": 99, "estimatedWaitingTimeQueue": 9_999_999,
            "_updatedAt": closed, "lastMessage": close, "closedAt": closed,
            "metrics": { "chatDuration": 600.0 }, "closer": "visitor", "closedBy": author,
        }));
        messages.extend([started, text, close]);
    }
    let last_chat = rooms
        .last()
        .map(|r| json!({ "_id": r["_id"], "ts": r["ts"] }));
    let mut visitor = json!({
        "_id": visitor_id, "token": token, "_updatedAt": contact["_updatedAt"], "name": name,
        "phone": [{ "phoneNumber": phone }], "status": "online", "ts": contact["createdAt"],
        "username": username, "visitorEmails": [{ "address": email }],
    });
    if let Some(last_chat) = last_chat {
        visitor["lastChat"] = last_chat;
    }
    (visitor, rooms, messages)
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
