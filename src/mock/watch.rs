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

/// Watches `dir` on a thread of its own for as long as the process runs.
pub(crate) fn spawn(
    dir: PathBuf,
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
                reload(&dir, &sessions, &status);
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

fn reload(dir: &Path, sessions: &Sessions, status: &Mutex<FixturesStatus>) {
    let mut status = status.lock().unwrap_or_else(PoisonError::into_inner);
    match Fixtures::from_dir(dir) {
        Ok(fixtures) => {
            for missing in &fixtures.origin.missing {
                tracing::warn!(
                    "{} is gone: that collection is now empty",
                    missing.file_name()
                );
            }
            sessions.reload(fixtures);
            status.loaded_at = crate::store::iso_millis(jiff::Timestamp::now());
            status.reloads += 1;
            status.reload_error = None;
            tracing::info!(
                "fixtures reloaded from {}: state reset, sessions discarded",
                dir.display()
            );
        }
        Err(error) => {
            tracing::error!("fixtures not reloaded, the previous state is kept: {error}");
            status.reload_error = Some(error.to_string());
        }
    }
}
