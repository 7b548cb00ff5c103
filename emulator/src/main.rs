//! `passage-emulator`: runs the Passage Auth API and Management API emulator until Ctrl-C or
//! SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use passage_emulator::settings::{InterceptConfig, SeedConfig};
use passage_emulator::{Emulator, EmulatorConfig};

/// The binary's allocator (feature `mimalloc`, on by default): see BENCHMARKS.md.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Address used when neither `--listen` nor the configuration file's `listen` is given.
const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// Command-line options.
/// (No `Debug`: it holds the admin token.)
#[derive(Parser)]
#[command(
    name = "passage-emulator",
    version,
    about = "Local, stateful emulator of the Passage by 1Password Auth API and Management API",
    long_about = "Local, stateful emulator of the Passage by 1Password Auth API and Management API.\n\n\
        Serves the Auth API under /v1, the Management API under /management/v1 (with an app's API \
        key as bearer token) and an admin API under /_emulator (apps and API keys, outbox, clock, \
        faults, sessions, reset). With --intercept-listen, also an HTTPS proxy that serves the two \
        APIs as auth.passage.id and api.passage.id, for unmodified Passage SDKs. Stops on Ctrl-C \
        or SIGTERM after finishing the requests in flight.",
    after_help = "Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) for more. Secrets are never logged."
)]
struct Args {
    /// Address to listen on [default: the configuration file's `listen`, else 127.0.0.1:8787].
    /// Keep it on loopback: on any other address the admin API is refused unless --admin-token is set.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// TOML configuration file: `listen`, `state_file`, CORS, `admin_token`, `[[apps]]` tables and
    /// `[[seed.users]]` (one ready-made app when absent).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// State file (an SQLite database, created when missing): loaded at start; every change is
    /// committed to it before its request is answered (overrides the configuration file's
    /// `state_file`).
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
    /// Users to create at start: TOML with `[[users]]` tables (or JSON `{"users": [...]}` for a `.json`
    /// file), added to the configuration file's `[[seed.users]]`.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// A host name (or IP address) the emulator answers besides loopback ones and its listen
    /// address (repeatable; added to the configuration file's `allowed_hosts`). Requests with any
    /// other `Host` get 403 `host_not_allowed`, so a DNS-rebinding web page cannot reach it.
    #[arg(long = "allowed-host", value_name = "NAME")]
    allowed_hosts: Vec<String>,
    /// Token the admin API requires in the `x-emulator-admin-token` header (at least 16 characters;
    /// overrides the configuration file's `admin_token`). Prefer the environment variable: command
    /// lines are visible to other processes.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "PASSAGE_EMULATOR_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// Also run the intercepting HTTPS proxy on this address (use `http://ADDR` as a client's
    /// `HTTPS_PROXY`): it serves the Auth API as `auth.passage.id` and the Management API as
    /// `api.passage.id`, with certificates of a local CA kept in --state-dir (overrides the
    /// configuration file's `[intercept]`). Keep it on loopback.
    #[arg(long, value_name = "ADDR", requires = "state_dir")]
    intercept_listen: Option<SocketAddr>,
    /// Directory of the intercepting proxy's CA: `intercept-ca.pem` (give it to clients to trust,
    /// e.g. as `SSL_CERT_FILE`) and its key, readable by its owner only; created when missing and
    /// reused at every start. Needed with --intercept-listen.
    #[arg(long, value_name = "DIR", requires = "intercept_listen")]
    state_dir: Option<PathBuf>,
}

/// The configuration: the file's, with the command line's options on top.
fn configuration(args: &Args) -> anyhow::Result<EmulatorConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let mut config = EmulatorConfig::from_toml_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            // The library's default is any free port; the command's is 8787.
            if !text.parse::<toml::Table>()?.contains_key("listen") {
                config.listen = DEFAULT_LISTEN.parse()?;
            }
            config
        }
        None => EmulatorConfig {
            listen: DEFAULT_LISTEN.parse()?,
            ..EmulatorConfig::default()
        },
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.state_file.is_some() {
        config.state_file = args.state_file.clone();
    }
    if let Some(path) = &args.seed {
        config.seed.users.extend(SeedConfig::from_file(path)?.users);
    }
    config
        .allowed_hosts
        .extend(args.allowed_hosts.iter().cloned());
    if args.admin_token.is_some() {
        config.admin_token = args.admin_token.clone();
    }
    if let (Some(listen), Some(state_dir)) = (args.intercept_listen, &args.state_dir) {
        config.intercept = Some(InterceptConfig {
            listen,
            state_dir: state_dir.clone(),
        });
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log file or a pipe gets plain lines (and no escape
        // codes are formatted for every request line).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = configuration(&args)?;
    // Signal handlers first, so a SIGTERM right after the banner already shuts down gracefully.
    let shutdown_signal = shutdown_signal()?;
    let emulator = Emulator::start(config).await?;
    println!("Passage emulator listening");
    println!("  Auth API base URL:       {}", emulator.base_url());
    println!(
        "  Management API base URL: {}",
        emulator.management_base_url()
    );
    println!("  admin API:               {}", emulator.admin_url());
    if let (Some(proxy), Some(ca)) = (emulator.proxy_url(), emulator.ca_certificate_path()) {
        println!(
            "  intercepting proxy:      {proxy} (HTTPS_PROXY; auth.passage.id, api.passage.id)"
        );
        println!(
            "  proxy CA certificate:    {} (SSL_CERT_FILE)",
            ca.display()
        );
    }
    for app in emulator.app_ids() {
        println!("  app:                     {app}");
    }
    shutdown_signal.await;
    println!("shutting down (finishing requests in flight)");
    emulator.shutdown().await;
    Ok(())
}

/// Registers the handlers now; the future ends on Ctrl-C (or SIGTERM on Unix, as sent by CI runners and
/// container stops).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("passage-emulator").chain(list.iter().copied()))
            .expect("arguments parse")
    }

    #[test]
    fn config_file_listen_is_kept_unless_the_flag_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emulator.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9911\"\n").unwrap();
        let file = path.to_str().unwrap();
        let from_file = configuration(&args(&["--config", file])).unwrap();
        assert_eq!(from_file.listen, "127.0.0.1:9911".parse().unwrap());
        let flag = configuration(&args(&["--config", file, "--listen", "127.0.0.1:9922"])).unwrap();
        assert_eq!(flag.listen, "127.0.0.1:9922".parse().unwrap());
        let no_file = configuration(&args(&[])).unwrap();
        assert_eq!(no_file.listen, DEFAULT_LISTEN.parse().unwrap());
        std::fs::write(&path, "[[apps]]\nid = \"a\"\n").unwrap();
        let file_without_listen = configuration(&args(&["--config", file])).unwrap();
        assert_eq!(file_without_listen.listen, DEFAULT_LISTEN.parse().unwrap());
    }

    #[test]
    fn help_documents_every_argument() {
        use clap::CommandFactory;
        let mut command = Args::command();
        let help = command.render_long_help().to_string();
        for arg in command.get_arguments() {
            if let Some(long) = arg.get_long() {
                assert!(
                    help.contains(&format!("--{long}")),
                    "--{long} missing:\n{help}"
                );
                let documented = arg.get_long_help().or(arg.get_help());
                assert!(documented.is_some(), "--{long} has no help text");
            }
        }
    }

    #[test]
    fn admin_token_can_come_from_the_environment_without_showing_in_help() {
        use clap::CommandFactory;
        let command = Args::command();
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some("admin-token"))
            .unwrap();
        assert_eq!(
            arg.get_env().and_then(|e| e.to_str()),
            Some("PASSAGE_EMULATOR_ADMIN_TOKEN")
        );
        assert!(arg.is_hide_env_values_set());
        let parsed = args(&["--admin-token", "a-very-secret-admin-token"]);
        assert_eq!(
            configuration(&parsed).unwrap().admin_token.as_deref(),
            Some("a-very-secret-admin-token")
        );
    }

    #[test]
    fn intercept_flags_go_together_and_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let state_arg = state.to_str().unwrap();
        let config = configuration(&args(&[
            "--intercept-listen",
            "127.0.0.1:9443",
            "--state-dir",
            state_arg,
        ]))
        .unwrap();
        let intercept = config.intercept.expect("intercept");
        assert_eq!(intercept.listen, "127.0.0.1:9443".parse().unwrap());
        assert_eq!(intercept.state_dir, state);
        for alone in [
            vec!["--intercept-listen", "127.0.0.1:9443"],
            vec!["--state-dir", state_arg],
        ] {
            let parsed =
                Args::try_parse_from(std::iter::once("passage-emulator").chain(alone.clone()));
            assert!(parsed.is_err(), "{alone:?} alone is refused");
        }
        assert!(configuration(&args(&[])).unwrap().intercept.is_none());
    }

    #[test]
    fn allowed_hosts_come_from_the_file_and_the_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emulator.toml");
        std::fs::write(&path, "allowed_hosts = [\"emulator\"]\n").unwrap();
        let config = configuration(&args(&[
            "--config",
            path.to_str().unwrap(),
            "--allowed-host",
            "emulator.internal",
        ]))
        .unwrap();
        assert_eq!(config.allowed_hosts, ["emulator", "emulator.internal"]);
        let hosts = config.server_options().unwrap().hosts;
        assert!(hosts.allows("emulator.internal:8787") && !hosts.allows("evil.example"));
        let bad = configuration(&args(&["--allowed-host", "http://x.example/"])).unwrap();
        assert!(bad.server_options().is_err());
    }

    #[test]
    fn seed_file_adds_users() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seed.toml");
        std::fs::write(&path, "[[users]]\nidentifier = \"ada@example.com\"\n").unwrap();
        let config = configuration(&args(&["--seed", path.to_str().unwrap()])).unwrap();
        assert_eq!(config.seed.users.len(), 1);
        assert_eq!(config.seed.users[0].user.identifier, "ada@example.com");
    }
}
