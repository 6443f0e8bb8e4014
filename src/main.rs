use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use rocketchat_mock::config::{Config, LogFormat};
use rocketchat_mock::openapi;
use rocketchat_mock::startup::Application;
use tracing_subscriber::EnvFilter;

// Loading a large workspace makes millions of small allocations on every core; mimalloc
// loads a million contacts in two thirds of glibc's time (docs/BENCHMARKS.md). Without
// transparent huge pages (`no_thp`): each touched page then held 2 MiB, which raised the
// idle RSS of the built-in workspace from 9 to 23 MiB of heap, and loading was slower too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if config.print_openapi {
        print!(
            "{}",
            openapi::document_json(config.rocketchat_version, !config.no_control)
        );
        return ExitCode::SUCCESS;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Lines are written to stdout by a thread of their own: a request never waits on the
    // terminal or the pipe. Should the output fall more than 128k lines behind, lines are
    // dropped rather than requests slowed. The guard flushes what is queued at exit.
    let (writer, _flush_at_exit) = tracing_appender::non_blocking(std::io::stdout());
    // Colours only for a person at a terminal: escape codes garble a log file, and writing
    // them was a twentieth of a loaded server's time (docs/BENCHMARKS.md).
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stdout().is_terminal());
    match config.log_format {
        LogFormat::Pretty => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }

    let app = match Application::build(&config) {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("cannot start: {error}");
            eprintln!("rocketchat-mock: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let origin = app.origin();
    for missing in &origin.missing {
        tracing::warn!(
            "{} not found in the fixtures folder: that collection is empty",
            missing.file_name()
        );
    }
    let base = format!("http://{}:{}", config.host, app.port());
    let counts = app
        .state()
        .sessions
        .default_session()
        .read(|store| store.counts());
    tracing::info!(
        port = app.port(),
        "rocketchat-mock listening on {base} with {} ({counts}), answering as Rocket.Chat {}; Swagger UI at {base}/docs/",
        origin.source,
        config.rocketchat_version.name(),
    );
    if config.control_exposed() {
        tracing::warn!(
            "listening on {} with the control API unguarded: anyone who reaches this address (and names it in --allow-host) can read the journal and replace the state; set --control-token, or --no-control",
            config.host
        );
    }
    match app.run().await {
        Ok(()) => {
            tracing::info!("rocketchat-mock stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("server stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
