//! `vitasync serve`: VitaSync on this machine, no AWS account needed.

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use vitasync_domain::tenancy::Bootstrap;
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, admin_key_from_env, init_tracing};
use vitasync_local::{DEFAULT_ADDR, LocalConfig, LocalHost, embedded_tenancy};

/// A long-running server parsing megabytes of JSON a second: an allocator that keeps its
/// pages (the system one returns and re-faults them) and scales across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Make sure the deployment's root key exists, and print it if it was just created.
    /// With `--aws`, in the DynamoDB table named by VITASYNC_TABLE (AWS credentials and
    /// region from the environment); otherwise in the local data dir.
    Bootstrap {
        #[arg(long)]
        aws: bool,
        #[arg(long, env = "VITASYNC_DATA_DIR", default_value = vitasync_host::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing(LogFormat::Text);
    match Cli::parse().command {
        Command::Serve { addr, data_dir } => serve(addr, data_dir).await,
        Command::Bootstrap { aws, data_dir } => bootstrap(aws, data_dir).await,
    }
}

async fn bootstrap(aws: bool, data_dir: PathBuf) -> ExitCode {
    let tenancy = if aws {
        match AwsHost::from_env().await.and_then(|host| host.tenancy()) {
            Ok(tenancy) => tenancy,
            Err(err) => return failed(&err),
        }
    } else {
        match embedded_tenancy(&data_dir) {
            Ok(tenancy) => tenancy,
            Err(err) => return failed(&err),
        }
    };
    match tenancy.bootstrap(admin_key_from_env().as_ref()).await {
        Ok(Bootstrap::GeneratedRootKey(key)) => {
            show_root_key(&key);
            ExitCode::SUCCESS
        }
        Ok(Bootstrap::Ready) => {
            tracing::info!("the root key exists; nothing to do");
            ExitCode::SUCCESS
        }
        Err(err) => failed(&err),
    }
}

fn failed(err: &dyn std::fmt::Display) -> ExitCode {
    tracing::error!(error = %err, "VitaSync could not start");
    ExitCode::FAILURE
}

fn show_root_key(key: &secrecy::SecretString) {
    // Shown once, on stdout, for the operator to keep; it is never logged.
    println!(
        "Created the root API key of this deployment. Keep it now; it is not shown again:\n\n    {}\n",
        key.expose_secret()
    );
}

async fn serve(addr: SocketAddr, data_dir: PathBuf) -> ExitCode {
    let stop = shutdown_signal();
    let config = LocalConfig {
        addr,
        data_dir,
        admin_key: admin_key_from_env(),
        vars: Default::default(),
    };
    let mut host = match LocalHost::start(config).await {
        Ok(host) => host,
        Err(err) => return failed(&err),
    };
    if let Some(key) = host.take_generated_root_key() {
        show_root_key(&key);
    }
    tracing::info!(address = %host.addr(), "VitaSync is listening on http://{}", host.addr());
    match host.serve_until(stop).await {
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

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not when it is first
/// awaited, so a signal that arrives right after the ready line is not missed.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {},
                        _ = terminate.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
