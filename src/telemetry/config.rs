//! The `telemetry:` config section: log format and level, trace export and sampling, and the
//! standard OpenTelemetry environment variables that fill in what the file leaves unset.
//!
//! Precedence: a value written in the file wins; `OTEL_*` variables are defaults (as the
//! OpenTelemetry specification ranks code configuration above the environment, and because
//! platforms inject them cluster-wide). `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used as it is;
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL to which `/v1/traces` is appended, per the
//! specification of the OTLP/HTTP exporter (`http://jaeger:4318` -> `http://jaeger:4318/v1/traces`).

use serde::{Deserialize, Serialize};

use crate::base::vars::VarSource;

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
    /// None: no trace export, and tracing costs next to nothing. When unset:
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the traces and of the JSON logs. When unset: `OTEL_SERVICE_NAME`, else
    /// `pix-ingest`.
    #[serde(default)]
    pub service_name: Option<String>,
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
            service_name: None,
            sampling_ratio: default_sampling_ratio(),
        }
    }
}

/// The OTLP protocol pix-ingest speaks (`OTEL_EXPORTER_OTLP_PROTOCOL`'s name for it).
const HTTP_PROTOBUF: &str = "http/protobuf";

impl TelemetryConfig {
    /// The service name traces and logs carry.
    pub fn service_name(&self) -> &str {
        self.service_name.as_deref().unwrap_or("pix-ingest")
    }

    /// Fills the fields the file left unset from the standard `OTEL_*` variables. `Err` names the
    /// variable that asks for something pix-ingest cannot do (a protocol other than OTLP/HTTP).
    pub fn apply_otel_env(&mut self, vars: &dyn VarSource) -> Result<(), (&'static str, String)> {
        let set = |name: &str| vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if self.service_name.is_none() {
            self.service_name = set("OTEL_SERVICE_NAME");
        }
        if self.otlp_endpoint.is_none() {
            self.otlp_endpoint = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| traces_url(&base)));
        }
        // The signal-specific variable decides when both are set.
        let protocol = ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"]
            .into_iter()
            .find_map(|var| set(var).map(|p| (var, p)));
        match protocol {
            Some((var, p)) if p != HTTP_PROTOBUF => Err((
                var,
                format!(
                    "`{p}` is not supported: pix-ingest exports traces over OTLP/HTTP ({HTTP_PROTOBUF}, port 4318 by convention)"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The traces URL under an OTLP base URL: the base's path (if any) + `/v1/traces`.
fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_base_endpoint_gets_the_traces_path_and_the_signal_one_is_used_as_is() {
        let mut t = TelemetryConfig::default();
        assert!(t.apply_otel_env(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4318")])).is_ok());
        assert_eq!(t.otlp_endpoint.as_deref(), Some("http://jaeger:4318/v1/traces"));
        let mut t = TelemetryConfig::default();
        t.apply_otel_env(&env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/otlp/")])).unwrap();
        assert_eq!(t.otlp_endpoint.as_deref(), Some("https://collector:4318/otlp/v1/traces"));
        let mut t = TelemetryConfig::default();
        t.apply_otel_env(&env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
        ]))
        .unwrap();
        assert_eq!(t.otlp_endpoint.as_deref(), Some("http://b:4318/custom"));
        assert_eq!(t.service_name(), "pix-ingest");
    }

    #[test]
    fn the_file_wins_over_the_environment() {
        let mut t = TelemetryConfig {
            otlp_endpoint: Some("http://file:4318/v1/traces".into()),
            service_name: Some("from-file".into()),
            ..TelemetryConfig::default()
        };
        let vars = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"), ("OTEL_SERVICE_NAME", "from-env")]);
        assert!(t.apply_otel_env(&vars).is_ok());
        assert_eq!(t.otlp_endpoint.as_deref(), Some("http://file:4318/v1/traces"));
        assert_eq!(t.service_name(), "from-file");
        let mut t = TelemetryConfig::default();
        t.apply_otel_env(&env(&[("OTEL_SERVICE_NAME", "pix-ingest-sinks")])).unwrap();
        assert_eq!(t.service_name(), "pix-ingest-sinks");
        assert_eq!(t.otlp_endpoint, None, "no endpoint anywhere: no export");
    }

    #[test]
    fn a_protocol_other_than_http_protobuf_is_refused_by_name() {
        let mut t = TelemetryConfig::default();
        let (var, message) = t.apply_otel_env(&env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])).unwrap_err();
        assert_eq!(var, "OTEL_EXPORTER_OTLP_PROTOCOL");
        assert!(message.contains("grpc") && message.contains("http/protobuf"), "{message}");
        let mut t = TelemetryConfig::default();
        let vars =
            env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")]);
        assert!(t.apply_otel_env(&vars).is_ok(), "the signal-specific variable decides");
    }
}
