//! The root of the config file and the sections that belong to the service as a whole (admin
//! listener, shutdown). Every other section is defined by the module that owns it (`kafka`,
//! `router`, `sources`, `sinks`, `telemetry`, `lifecycle`) and only composed here. Each field's
//! doc comment is the reference the README repeats.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::base::Secret;
use crate::kafka::{KafkaConfig, TopicsConfig};
use crate::lifecycle::SupervisionConfig;
use crate::router::RoutingConfig;
use crate::sinks::SinkConfig;
use crate::sources::pipeline::DuplicatesConfig;
use crate::sources::{FormatsConfig, PixConfig, SourceConfig};
use crate::telemetry::TelemetryConfig;

/// The whole file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Kafka connection and producer settings.
    pub kafka: KafkaConfig,
    /// Topic names per category.
    #[serde(default)]
    pub topics: TopicsConfig,
    /// Who we are in Pix (decides payment vs receipt) and validation policy.
    pub pix: PixConfig,
    /// Partition-key choice.
    #[serde(default)]
    pub routing: RoutingConfig,
    /// Per-format decoding options (schema evolution of canonical events).
    #[serde(default)]
    pub formats: FormatsConfig,
    /// The index of acknowledged event ids that answers a retried record `duplicate`.
    #[serde(default)]
    pub duplicates: DuplicatesConfig,
    /// Data sources, one actor each.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Downstream destinations, one consumer actor each.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Logs and traces.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// Restart policy of supervised actors.
    #[serde(default)]
    pub supervision: SupervisionConfig,
    /// Graceful shutdown.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// The admin listener.
    #[serde(default)]
    pub admin: AdminConfig,
}

/// `admin:` section: health, readiness, metrics and the actor registry on their own listener.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Serve the admin listener.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address; loopback by default (expose it deliberately, e.g. to a Prometheus scraper).
    #[serde(default = "default_admin_listen")]
    pub listen: std::net::SocketAddr,
    /// Bearer token for mutating admin calls, from `${PIX_INGEST_ADMIN_TOKEN}`; none configured
    /// means mutations are refused.
    #[serde(default)]
    pub token: Option<Secret>,
    /// Where the changes made through the admin API are persisted (overlay on this YAML).
    #[serde(default = "default_state_file")]
    pub state_file: std::path::PathBuf,
    /// HTTPS, and mutual TLS with `client_ca_file`; the audit log then names each caller's client
    /// certificate (subject and serial).
    #[serde(default)]
    pub tls: Option<crate::tls::ListenerTls>,
    /// The only environment variables an entry sent to the admin API (and its copy in the state
    /// file) may reference as `${VAR}`; a reference to any other is refused with 400.
    #[serde(default)]
    pub allowed_env: Vec<String>,
}

impl AdminConfig {
    /// Field problems, as (field below `admin.`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, name) in self.allowed_env.iter().enumerate() {
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                out.push((format!("allowed_env[{i}]"), "expected a variable name: letters, digits and _".into()));
            }
        }
        out
    }
}

const fn default_true() -> bool {
    true
}

fn default_state_file() -> std::path::PathBuf {
    "data/admin-state.json".into()
}

fn default_admin_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 9090))
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: default_admin_listen(),
            token: None,
            state_file: default_state_file(),
            tls: None,
            allowed_env: Vec::new(),
        }
    }
}

/// `shutdown:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// Time allowed for in-flight requests to finish and producers to flush on SIGTERM.
    #[serde(default = "default_grace", with = "humantime_serde")]
    pub grace: Duration,
    /// On SIGTERM, readiness drops at once and the listeners keep serving this long (for a load
    /// balancer to take the instance out) before they stop accepting.
    #[serde(default = "default_drain_delay", with = "humantime_serde")]
    pub drain_delay: Duration,
}

const fn default_grace() -> Duration {
    Duration::from_secs(20)
}

const fn default_drain_delay() -> Duration {
    Duration::from_secs(5)
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { grace: default_grace(), drain_delay: default_drain_delay() }
    }
}
