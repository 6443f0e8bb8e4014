//! `--watch`: reloads the fixtures folder when one of its files changes.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use serde::Serialize;
use utoipa::ToSchema;

use super::sessions::Sessions;
use crate::store::fixtures::{Collection, Fixtures};

/// Editors save in several steps (truncate, write, rename): wait for quiet before reading.
const SETTLE: Duration = Duration::from_millis(200);

/// What `GET /_mock/health` says about the fixtures.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FixturesStatus {
    /// Where the fixtures came from.
    pub source: String,
    /// When they were (re)loaded (ISO 8601).
    #[serde(rename = "loadedAt")]
    pub loaded_at: String,
    /// Times `--watch` has reloaded them.
    pub reloads: u64,
    /// The last reload's error while it stands (the previous fixtures are still served).
    #[serde(rename = "reloadError", skip_serializing_if = "Option::is_none")]
    pub reload_error: Option<String>,
}

pub(crate) type SharedStatus = Arc<Mutex<FixturesStatus>>;

/// Watches `dir` on a thread of its own for as long as the process runs. `missing` are the
/// collections whose file was absent at start-up (empty collections); any other file that
/// vanishes later is a reload error, not an emptied collection.
pub(crate) fn spawn(
    dir: PathBuf,
    missing: Vec<Collection>,
    sessions: Arc<Sessions>,
    status: SharedStatus,
) -> notify::Result<()> {
    let (events, changes) = channel();
    let mut watcher = notify::recommended_watcher(events)?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    std::thread::Builder::new()
        .name("fixtures-watch".to_owned())
        .spawn(move || {
            // The watcher stops when dropped: it lives as long as this thread.
            let _watcher = watcher;
            let mut missing = missing;
            while let Ok(event) = changes.recv() {
                if !concerns_fixtures(&event) {
                    continue;
                }
                loop {
                    match changes.recv_timeout(SETTLE) {
                        Ok(_) => continue,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                reload(&dir, &mut missing, &sessions, &status);
            }
        })
        .map_err(notify::Error::io)?;
    Ok(())
}

fn concerns_fixtures(event: &notify::Result<notify::Event>) -> bool {
    let Ok(event) = event else {
        return true;
    };
    if event.kind.is_access() {
        return false;
    }
    event.paths.iter().any(|path| {
        let name = path.file_name().and_then(|n| n.to_str());
        Collection::ALL.iter().any(|c| Some(c.file_name()) == name)
    })
}

/// Reloads the folder into every session, or reports why not and keeps the state served.
/// `missing` (the collections whose file is absent, as they were last loaded) is updated on
/// success.
fn reload(
    dir: &Path,
    missing: &mut Vec<Collection>,
    sessions: &Sessions,
    status: &Mutex<FixturesStatus>,
) {
    let mut status = status.lock().unwrap_or_else(PoisonError::into_inner);
    let loaded = Fixtures::from_dir(dir)
        .map_err(|e| e.to_string())
        .and_then(|fixtures| {
            // A file that was there and is gone is more likely a mistake, or a save caught
            // halfway, than a wish to empty the collection (which `[]` says).
            let vanished: Vec<&str> = fixtures
                .origin
                .missing
                .iter()
                .filter(|collection| !missing.contains(collection))
                .map(|collection| collection.file_name())
                .collect();
            if vanished.is_empty() {
                Ok(fixtures)
            } else {
                Err(format!(
                    "{} vanished from {}; restore it, or write [] to it to empty the collection",
                    vanished.join(", "),
                    dir.display()
                ))
            }
        });
    match loaded {
        Ok(fixtures) => {
            missing.clone_from(&fixtures.origin.missing);
            sessions.reload(fixtures);
            status.loaded_at = crate::store::iso_millis(jiff::Timestamp::now());
            status.reloads += 1;
            status.reload_error = None;
            tracing::info!(
                "fixtures reloaded from {}: every session reset to them",
                dir.display()
            );
        }
        Err(error) => {
            tracing::error!("fixtures not reloaded, the previous state is kept: {error}");
            status.reload_error = Some(error);
        }
    }
}
