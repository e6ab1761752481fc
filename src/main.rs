//! The `pix-ingest` binary: CLI -> config -> logs -> App -> wait for a signal -> drain.
//! Only this file chooses exit codes: 64 bad usage or config, 69 cannot start, 0 clean stop.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pix_ingest::app::AppHandle;
use pix_ingest::config::{self, vars::ProcessEnv};

/// The bundled demo config: embedded broker, loopback listener.
const DEFAULT_CONFIG: &str = include_str!("../config/dev.yaml");

#[derive(Parser)]
#[command(name = "pix-ingest", version, about = "Validate Pix events and route them to Kafka")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (default config: the bundled embedded demo, config/dev.yaml).
    Run {
        /// YAML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Check a config file and exit (non-zero with file, line and field on error).
    CheckConfig {
        /// YAML config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print the JSON Schema of the canonical Pix event.
    PrintSchema,
    /// Send synthetic Pix events to a running pix-ingest (or write NDJSON) and report.
    Gen(pix_ingest::load_gen::GenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { config } => match config::load_checked(&config, &ProcessEnv) {
            Ok(_) => {
                eprintln!("{}: OK", config.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::from(64)
            }
        },
        Command::PrintSchema => {
            #[allow(clippy::print_stdout)]
            {
                println!("{}", pix_domain::PIX_EVENT_SCHEMA_V1);
            }
            ExitCode::SUCCESS
        }
        Command::Gen(args) => {
            let json = args.json;
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::from(69);
                }
            };
            match rt.block_on(pix_ingest::load_gen::run(args)) {
                Ok(report) => {
                    #[allow(clippy::print_stdout)]
                    if json {
                        println!("{}", serde_json::to_string(&report).unwrap_or_default());
                    } else {
                        println!("{report}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pix-ingest gen: {e}");
                    ExitCode::from(64)
                }
            }
        }
        Command::Run { config } => {
            let loaded = match &config {
                Some(path) => config::load_checked(path, &ProcessEnv),
                None => config::load_str_checked("config/dev.yaml (bundled)", DEFAULT_CONFIG, &ProcessEnv),
            };
            let cfg = match loaded {
                Ok(c) => c,
                Err(e) => {
                    eprint!("{e}");
                    return ExitCode::from(64);
                }
            };
            let _telemetry = match pix_ingest::telemetry::init(&cfg.telemetry) {
                Ok(guard) => guard,
                Err(e) => {
                    eprintln!("cannot initialise logging and tracing: {e}");
                    return ExitCode::from(64);
                }
            };
            run(cfg)
        }
    }
}

fn run(cfg: config::Config) -> ExitCode {
    let grace = cfg.shutdown.grace;
    let system = actix::System::new();
    system.block_on(async move {
        let app = match AppHandle::start(cfg).await {
            Ok(a) => a,
            Err(error) => {
                tracing::error!(%error, "pix-ingest could not start.");
                return ExitCode::from(69);
            }
        };
        tracing::info!(bootstrap = %app.bootstrap_servers(), embedded = app.is_embedded(), "pix-ingest started.");
        wait_for_signal().await;
        tracing::info!(?grace, "Shutting down: sources stop taking input, in-flight work finishes.");
        if app.shutdown(grace).await {
            tracing::info!("Shutdown finished within the grace period.");
            ExitCode::SUCCESS
        } else {
            tracing::warn!("Shutdown did not finish within the grace period.");
            ExitCode::from(1)
        }
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
