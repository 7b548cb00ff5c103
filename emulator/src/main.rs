//! `passage-emulator`: runs the Passage Auth API emulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use passage_emulator::{Emulator, EmulatorConfig};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(
    name = "passage-emulator",
    version,
    about = "Local emulator of the Passage Auth API"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// TOML file with `[[apps]]` tables (one ready-made app when absent).
    #[arg(long)]
    config: Option<PathBuf>,
    /// JSON snapshot file: loaded on start, rewritten atomically after every change.
    #[arg(long)]
    state_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => EmulatorConfig::from_toml_file(path)?,
        None => EmulatorConfig::default(),
    };
    config.listen = args.listen;
    if args.state_file.is_some() {
        config.state_file = args.state_file;
    }
    let emulator = Emulator::start(config).await?;
    println!("Passage emulator listening");
    println!("  API base URL: {}", emulator.base_url());
    println!("  admin API:    {}", emulator.admin_url());
    for app in emulator.app_ids() {
        println!("  app:          {app}");
    }
    wait_for_shutdown_signal().await?;
    println!("shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C (or SIGTERM on Unix, as sent by CI runners and container stops).
async fn wait_for_shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            res = tokio::signal::ctrl_c() => res?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
