//! The config structs. Each field's doc comment is the reference the README repeats.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

pub use crate::sources::file::config::{FileFormat, FileSourceConfig, StartAt};
pub use crate::sources::generator::GeneratorSourceConfig;
pub use crate::sources::http::config::{HttpFormat, HttpSourceConfig};

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
    /// Data sources, one actor each.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Downstream destinations, one consumer actor each.
    #[serde(default)]
    pub sinks: Vec<crate::sinks::SinkConfig>,
    /// Logs (and, later, traces).
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
    pub token: Option<crate::config::Secret>,
    /// Where the changes made through the admin API are persisted (overlay on this YAML).
    #[serde(default = "default_state_file")]
    pub state_file: std::path::PathBuf,
}

fn default_state_file() -> std::path::PathBuf {
    "data/admin-state.json".into()
}

fn default_admin_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 9090))
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { enabled: true, listen: default_admin_listen(), token: None, state_file: default_state_file() }
    }
}

// === Kafka ===

/// `kafka:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `embedded` (in-process, NON-DURABLE dev broker) or `host:port[,host:port...]`.
    /// Override: `PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS`.
    pub bootstrap_servers: Bootstrap,
    /// librdkafka properties passed through as is (`security.protocol`, `sasl.*`, `ssl.*`,
    /// `compression.type`, `linger.ms`, ...). Durability settings (`acks`,
    /// `enable.idempotence`) and timeouts with a dedicated field cannot be weakened here.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// How long the producer may try to deliver a record before giving up (librdkafka
    /// `message.timeout.ms`). Must be shorter than every HTTP source's `request_timeout`, so that a
    /// 503 answer means the record was not acknowledged.
    #[serde(default = "default_delivery_timeout", with = "humantime_serde")]
    pub delivery_timeout: Duration,
    /// Topic creation at start.
    #[serde(default)]
    pub create_topics: CreateTopicsConfig,
}

const fn default_delivery_timeout() -> Duration {
    Duration::from_secs(10)
}

/// Where the brokers are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Bootstrap {
    /// librdkafka's in-process mock cluster: loses everything at exit; for a first look only.
    Embedded,
    /// A real cluster: comma-separated `host:port` list.
    Brokers(String),
}

impl From<Bootstrap> for String {
    fn from(b: Bootstrap) -> String {
        match b {
            Bootstrap::Embedded => "embedded".into(),
            Bootstrap::Brokers(s) => s,
        }
    }
}

impl Bootstrap {
    /// Parses `embedded` or a broker list; the list is checked for `host:port` shape.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "embedded" {
            return Ok(Self::Embedded);
        }
        if s.is_empty() {
            return Err("expected `embedded` or a list `host:port[,host:port...]`".into());
        }
        for part in s.split(',') {
            let part = part.trim();
            let ok = part.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(format!("`{part}` is not `host:port`; expected `embedded` or `host:port[,host:port...]`"));
            }
        }
        Ok(Self::Brokers(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Bootstrap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A librdkafka property value: YAML strings, numbers and booleans are all passed as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct PropertyValue(pub String);

impl From<PropertyValue> for String {
    fn from(v: PropertyValue) -> String {
        v.0
    }
}

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PropertyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `kafka.create_topics:` — create missing topics at start (existing ones are left alone).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTopicsConfig {
    /// Create the four topics if they are missing.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Partitions of a created topic.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Replication factor of a created topic (3 in production; 1 for a single-node broker).
    #[serde(default = "default_replication")]
    pub replication_factor: i32,
}

const fn default_true() -> bool {
    true
}
const fn default_partitions() -> i32 {
    6
}
const fn default_replication() -> i32 {
    1
}

impl Default for CreateTopicsConfig {
    fn default() -> Self {
        Self { enabled: true, partitions: default_partitions(), replication_factor: default_replication() }
    }
}

// === Topics ===

/// `topics:` — the topic of each category and the dead-letter topic.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsConfig {
    /// Payments we send (OUTBOUND transfers and their statuses).
    #[serde(default = "default_payment")]
    pub payment: TopicName,
    /// Receipts (INBOUND transfers and their statuses).
    #[serde(default = "default_receipt")]
    pub receipt: TopicName,
    /// Refunds / devoluções, both directions.
    #[serde(default = "default_refund")]
    pub refund: TopicName,
    /// Dead letters: invalid or undeliverable records with their reason and original bytes.
    #[serde(default = "default_dead_letter")]
    pub dead_letter: TopicName,
}

fn default_payment() -> TopicName {
    TopicName("pix.pagamentos".into())
}
fn default_receipt() -> TopicName {
    TopicName("pix.recebimentos".into())
}
fn default_refund() -> TopicName {
    TopicName("pix.estornos".into())
}
fn default_dead_letter() -> TopicName {
    TopicName("pix.dlq".into())
}

impl Default for TopicsConfig {
    fn default() -> Self {
        Self {
            payment: default_payment(),
            receipt: default_receipt(),
            refund: default_refund(),
            dead_letter: default_dead_letter(),
        }
    }
}

impl TopicsConfig {
    /// All four topic names.
    pub fn all(&self) -> [&TopicName; 4] {
        [&self.payment, &self.receipt, &self.refund, &self.dead_letter]
    }
}

/// A legal Kafka topic name (`[a-zA-Z0-9._-]{1,249}`, not `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct TopicName(String);

impl TopicName {
    /// Validates a topic name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 249
            && s != "."
            && s != ".."
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!("`{s}` is not a Kafka topic name: expected 1-249 of [a-zA-Z0-9._-]"))
        }
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<TopicName> for String {
    fn from(t: TopicName) -> String {
        t.0
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TopicName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

// === Pix ===

/// `pix:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PixConfig {
    /// Our ISPB(s), including indirect participants we settle for. A transfer whose payer is one
    /// of these is a payment; whose payee is one of these, a receipt.
    pub own_ispbs: Vec<String>,
    /// `strict` rejects a CPF/CNPJ whose check digits are wrong; `warn` publishes it with the
    /// flag `TAX_ID_CHECK_DIGIT`.
    #[serde(default)]
    pub tax_id_check_digits: TaxIdCheckDigits,
}

/// Check-digit policy for CPF/CNPJ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxIdCheckDigits {
    /// Wrong check digits reject the event.
    #[default]
    Strict,
    /// Wrong check digits become a flag.
    Warn,
}

// === Routing ===

/// `routing:` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Kafka key: `end_to_end_id` (default: a payment, its statuses and refunds stay in one
    /// partition, in order), `payer_account`, or `event_id`.
    #[serde(default)]
    pub key: RoutingKey,
}

/// Which field becomes the Kafka key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingKey {
    /// The original endToEndId (also for refunds).
    #[default]
    EndToEndId,
    /// Payer ISPB, branch and account number.
    PayerAccount,
    /// The derived event id.
    EventId,
}

// === Sources ===

/// One entry of `sources:`; `type` selects the kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceConfig {
    /// An HTTP listener (bank APIs, webhooks).
    Http(HttpSourceConfig),
    /// Files followed like `tail -F` (system logs), with durable checkpoints.
    File(FileSourceConfig),
    /// Synthetic events at a configured rate (demos, load).
    Generator(GeneratorSourceConfig),
}

impl<'de> Deserialize<'de> for SourceConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SourceConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a source: a map with `type: http | file | generator`")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<SourceConfig, M::Error> {
                super::tagged::visit_tagged(map, |tag, rest| match tag {
                    "http" => HttpSourceConfig::deserialize(rest).map(SourceConfig::Http),
                    "file" => FileSourceConfig::deserialize(rest).map(SourceConfig::File),
                    "generator" => GeneratorSourceConfig::deserialize(rest).map(SourceConfig::Generator),
                    other => Err(serde::de::Error::unknown_variant(other, &["http", "file", "generator"])),
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl SourceConfig {
    /// The source id.
    pub fn id(&self) -> &str {
        match self {
            Self::Http(c) => &c.id,
            Self::File(c) => &c.id,
            Self::Generator(c) => &c.id,
        }
    }
}

// === Telemetry ===

/// `telemetry:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `json` (one JSON object per line, for log shippers) or `pretty` (a terminal).
    /// Override: `PIX_INGEST_LOG_FORMAT`.
    #[serde(default)]
    pub log_format: LogFormat,
    /// tracing filter directive, e.g. `info` or `info,pix_ingest=debug`.
    /// Override: `PIX_INGEST_LOG_LEVEL`.
    #[serde(default = "default_log_level")]
    pub log_level: String,
    /// OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces` (Jaeger accepts OTLP).
    /// None: no trace export, and tracing costs next to nothing.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// Share of new traces sampled (a continued trace follows its parent's decision).
    #[serde(default = "default_sampling_ratio")]
    pub sampling_ratio: f64,
}

fn default_log_level() -> String {
    "info".into()
}

fn default_sampling_ratio() -> f64 {
    1.0
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::default(),
            log_level: default_log_level(),
            otlp_endpoint: None,
            sampling_ratio: default_sampling_ratio(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// JSON lines.
    #[default]
    Json,
    /// Human-readable.
    Pretty,
}

// === Supervision and shutdown ===

/// `supervision:` — how a crashed actor is restarted.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionConfig {
    /// First restart delay.
    #[serde(default = "default_backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// Largest restart delay.
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// More restarts than this within `window` marks the actor FAILED.
    #[serde(default = "default_max_restarts")]
    pub max_restarts: u32,
    /// The window for `max_restarts`.
    #[serde(default = "default_window", with = "humantime_serde")]
    pub window: Duration,
}

const fn default_backoff_initial() -> Duration {
    Duration::from_millis(100)
}
const fn default_backoff_max() -> Duration {
    Duration::from_secs(30)
}
const fn default_max_restarts() -> u32 {
    10
}
const fn default_window() -> Duration {
    Duration::from_secs(60)
}

impl Default for SupervisionConfig {
    fn default() -> Self {
        Self {
            backoff_initial: default_backoff_initial(),
            backoff_max: default_backoff_max(),
            max_restarts: default_max_restarts(),
            window: default_window(),
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
}

const fn default_grace() -> Duration {
    Duration::from_secs(20)
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { grace: default_grace() }
    }
}
