//! `vitasync serve`: VitaSync on this machine, no AWS account needed.

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use vitasync_host::{LogFormat, admin_key_from_env, init_tracing};
use vitasync_local::{DEFAULT_ADDR, LocalConfig, LocalHost};

#[derive(Parser)]
#[command(
    name = "vitasync",
    version,
    about = "VitaSync wearable health-data API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every route of the API on one address.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "VITASYNC_ADDR", default_value = DEFAULT_ADDR)]
        addr: SocketAddr,
        /// Where data is kept between runs.
        #[arg(long, env = "VITASYNC_DATA_DIR", default_value = vitasync_host::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing(LogFormat::Text);
    let Command::Serve { addr, data_dir } = Cli::parse().command;
    let config = LocalConfig {
        addr,
        data_dir,
        admin_key: admin_key_from_env(),
    };
    let mut host = match LocalHost::start(config).await {
        Ok(host) => host,
        Err(err) => {
            tracing::error!(error = %err, "VitaSync could not start");
            return ExitCode::FAILURE;
        }
    };
    if let Some(key) = host.take_generated_root_key() {
        // Shown once, on stdout, for the operator to keep; it is never logged.
        println!(
            "Created the root API key of this deployment. Keep it now; it is not shown again:\n\n    {}\n",
            key.expose_secret()
        );
    }
    tracing::info!(address = %host.addr(), "VitaSync is listening on http://{}", host.addr());
    match host.serve_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("VitaSync stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %err, "VitaSync stopped on an error");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
