//! The `pix-ingest` binary: CLI -> config -> logs -> App -> signals (SIGHUP: reload the file;
//! SIGTERM/SIGINT: readiness 503, `shutdown.drain_delay` of serving, then the graceful stop).
//! Only this file chooses exit codes: 64 bad usage or config, 69 cannot start, 1 a failed check
//! (shutdown past its grace, `gen` with failed requests, `healthcheck` unhealthy), 0 otherwise
//! (`dlq`: 64 for a bad selection or config, 69 when Kafka does not serve).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use pix_ingest::app::AppHandle;
use pix_ingest::config::{ConfigFile, Loaded, vars::ProcessEnv};

/// `--version`: the package version and the commit it was built from.
const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("PIX_INGEST_COMMIT"), ")");

#[derive(Parser)]
#[command(name = "pix-ingest", version, long_version = LONG_VERSION, about = "Validate Pix events and route them to Kafka")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service. Config: --config, else $PIX_INGEST_CONFIG, else the bundled demo
    /// (config/dev.yaml: embedded broker, a generator, file and Delta sinks under ./data/).
    Run {
        /// YAML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Check a config file and exit (non-zero with file, line and field on error); the same
    /// choice of file as `run`.
    CheckConfig {
        /// YAML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Print a JSON Schema: the canonical Pix event (`pix-event`, the default) or the fraud report
    /// (`fraud_report`: DICT infraction reports and MED refund requests).
    PrintSchema {
        /// Which schema.
        #[arg(value_enum, default_value = "pix-event")]
        schema: SchemaName,
    },
    /// Send synthetic Pix events to a running pix-ingest (or write NDJSON) and report; exit 1
    /// when any request failed or any record was unavailable.
    Gen(pix_ingest::load_gen::GenArgs),
    /// Exit 0 when a running pix-ingest answers its liveness URL with a 2xx, else 1 (the
    /// container's HEALTHCHECK).
    Healthcheck {
        /// URL to GET; default: /healthz on the admin listener of the config `run` would use.
        #[arg(long)]
        url: Option<String>,
        /// YAML config file (to find the admin listener), chosen as for `run`.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// How long to wait for the answer.
        #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
        timeout: Duration,
    },
    /// The dead-letter topic: browse it (`list`, values masked) or publish again what the config
    /// accepts now (`redrive`, resumable); prints JSON. Needs a real broker (`kafka.bootstrap_servers`).
    Dlq {
        #[command(subcommand)]
        action: pix_ingest::redrive::cli::DlqAction,
    },
}

/// The schemas `print-schema` knows (both version 1).
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SchemaName {
    /// `pix-event.v1.schema.json`: the records of payment, receipt and refund.
    #[value(name = "pix-event")]
    PixEvent,
    /// `fraud-report.v1.schema.json`: the records of fraud_report.
    #[value(name = "fraud_report")]
    FraudReport,
}

/// jemalloc, not glibc's malloc: after a burst of hostile requests glibc kept the freed memory
/// (resident stayed at the peak); jemalloc's background thread returns it to the OS within about a
/// second of the decay set in `.cargo/config.toml` (README, "Memory and deadlines").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::CheckConfig { config } => {
            let file = ConfigFile::choose(config, &ProcessEnv);
            match file.load(&ProcessEnv) {
                Ok(_) => {
                    eprintln!("{}: OK", file.name());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprint!("{e}");
                    ExitCode::from(64)
                }
            }
        }
        Command::PrintSchema { schema } => {
            let text = match schema {
                SchemaName::PixEvent => pix_domain::PIX_EVENT_SCHEMA_V1,
                SchemaName::FraudReport => pix_domain::FRAUD_REPORT_SCHEMA_V1,
            };
            #[allow(clippy::print_stdout)]
            {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Command::Gen(args) => generate(args),
        Command::Healthcheck { url, config, timeout } => healthcheck(url, config, timeout),
        Command::Dlq { action } => dlq(action),
        Command::Run { config } => {
            let file = ConfigFile::choose(config, &ProcessEnv);
            let loaded = match file.load(&ProcessEnv) {
                Ok(l) => l,
                Err(e) => {
                    eprint!("{e}");
                    return ExitCode::from(64);
                }
            };
            let _telemetry = match pix_ingest::telemetry::init(&loaded.config.telemetry) {
                Ok(guard) => guard,
                Err(e) => {
                    eprintln!("cannot initialise logging and tracing: {e}");
                    return ExitCode::from(64);
                }
            };
            tracing::info!(config = %file.name(), commit = pix_ingest::base::COMMIT, "pix-ingest {}.", pix_ingest::base::VERSION);
            for l in &loaded.left_out {
                tracing::warn!(sink = %l.id, kind = l.kind, "Sink left out of the demo: this binary was built without the cargo feature `{}`.", l.feature);
            }
            run(loaded, file)
        }
    }
}

/// A small runtime for the client commands (`gen`, `healthcheck`).
fn client_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| {
        eprintln!("cannot start the runtime: {e}");
        ExitCode::from(69)
    })
}

fn generate(args: pix_ingest::load_gen::GenArgs) -> ExitCode {
    let json = args.json;
    let rt = match client_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(pix_ingest::load_gen::run(args)) {
        Ok(report) => {
            #[allow(clippy::print_stdout)]
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("{report}");
            }
            match report.failure() {
                Some(why) => {
                    eprintln!("pix-ingest gen: FAILED: {why}");
                    ExitCode::from(1)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("pix-ingest gen: {e}");
            ExitCode::from(64)
        }
    }
}

fn healthcheck(url: Option<String>, config: Option<PathBuf>, timeout: Duration) -> ExitCode {
    let url = match url {
        Some(u) => u,
        None => {
            let file = ConfigFile::choose(config, &ProcessEnv);
            let found = file.load(&ProcessEnv).map_err(|e| e.to_string()).and_then(|l| {
                pix_ingest::healthcheck::admin_url(&l.config).map_err(|e| format!("{}: {e}", file.name()))
            });
            match found {
                Ok(u) => u,
                Err(e) => {
                    eprintln!("pix-ingest healthcheck: {e}");
                    return ExitCode::from(64);
                }
            }
        }
    };
    let rt = match client_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(pix_ingest::healthcheck::check(&url, timeout)) {
        Ok(status) => {
            eprintln!("{url}: {status} healthy");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pix-ingest healthcheck: UNHEALTHY: {e}");
            ExitCode::from(1)
        }
    }
}

/// `pix-ingest dlq list|redrive`: the JSON answer on stdout, the audit line on stderr.
fn dlq(action: pix_ingest::redrive::cli::DlqAction) -> ExitCode {
    use pix_ingest::redrive::{Instance, RedriveError};
    let file = ConfigFile::choose(action.config().cloned(), &ProcessEnv);
    let instance = match file.load(&ProcessEnv) {
        Ok(l) => Instance::of_file(l.config),
        Err(e) => {
            eprint!("{e}");
            return ExitCode::from(64);
        }
    };
    let instance = match instance {
        Ok(i) => i,
        Err(e) => {
            eprintln!("pix-ingest dlq: {}: {e}", file.name());
            return ExitCode::from(64);
        }
    };
    let filter = tracing_subscriber::EnvFilter::new("warn,pix_ingest::audit=info");
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).with_env_filter(filter).try_init();
    let rt = match client_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(action.answer(&instance)) {
        Ok(json) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{json}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pix-ingest dlq: {e}");
            ExitCode::from(if matches!(e, RedriveError::Selection(_)) { 64 } else { 69 })
        }
    }
}

fn run(loaded: Loaded, file: ConfigFile) -> ExitCode {
    let cfg = loaded.config;
    let (grace, drain_delay) = (cfg.shutdown.grace, cfg.shutdown.drain_delay);
    let system = actix::System::new();
    system.block_on(async move {
        let guide = (file == ConfigFile::Bundled).then(|| cfg.clone());
        // A reload reads the same file again (the bundled demo too), validated as at start.
        let source: pix_ingest::supervisor::reload::ConfigSource =
            std::sync::Arc::new(move || file.load(&ProcessEnv).map(|l| l.config));
        let app = match AppHandle::start_reloadable(cfg, Some(source)).await {
            Ok(a) => a,
            Err(error) => {
                tracing::error!(%error, "pix-ingest could not start.");
                return ExitCode::from(69);
            }
        };
        tracing::info!(bootstrap = %app.bootstrap_servers(), embedded = app.is_embedded(), "pix-ingest started.");
        if let Some(cfg) = guide {
            for line in pix_ingest::guide::demo(&app, &cfg).await {
                tracing::info!("Demo: {line}");
            }
        }
        let mut signals = match Signals::new() {
            Ok(s) => s,
            Err(error) => {
                tracing::error!(%error, "Cannot install the signal handlers.");
                return ExitCode::from(69);
            }
        };
        while signals.next().await == Signal::Reload {
            tracing::info!("SIGHUP: reloading the config file.");
            // The outcome is logged by the reloader; the audit log records who asked, as for the API.
            let status: u16 = if app.reload().await.is_ok() { 200 } else { 400 };
            tracing::info!(target: "pix_ingest::audit", action = "reload", actor = "", peer = "signal:SIGHUP", status, "Admin mutation.");
        }
        app.start_draining();
        tracing::info!(?drain_delay, "Draining: readiness is 503; the listeners keep serving for the drain delay.");
        tokio::select! {
            _ = tokio::time::sleep(drain_delay) => {}
            _ = signals.stop() => tracing::info!("Second stop signal: the drain delay is cut short."),
        }
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

/// What a signal asks for.
#[derive(Debug, PartialEq, Eq)]
enum Signal {
    /// SIGHUP: read the config file again.
    Reload,
    /// SIGTERM or SIGINT: drain and stop.
    Stop,
}

/// The process signals `run` obeys.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self { term: signal(SignalKind::terminate())?, hup: signal(SignalKind::hangup())? })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next signal.
    async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Signal::Stop,
                _ = tokio::signal::ctrl_c() => Signal::Stop,
                _ = self.hup.recv() => Signal::Reload,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Stop
        }
    }

    /// The next stop signal (SIGHUP ignored).
    async fn stop(&mut self) {
        while self.next().await != Signal::Stop {}
    }
}
