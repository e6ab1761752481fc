//! The `telemetry:` config section: log format and level, trace export and sampling.

use serde::{Deserialize, Serialize};

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
