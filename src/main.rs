use std::process::ExitCode;

use clap::Parser;
use rocketchat_mock::config::Config;
use rocketchat_mock::openapi;
use rocketchat_mock::startup::Application;
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if config.print_openapi {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

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
    tracing::info!(
        "rocketchat-mock listening on {base} with {} ({}); Swagger UI at {base}/docs/",
        origin.source,
        app.state().store.counts(),
    );
    match app.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server stopped: {error}");
            ExitCode::FAILURE
        }
    }
}
