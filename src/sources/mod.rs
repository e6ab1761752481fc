//! Sources: one actor each. A source decodes its own wire format, runs the shared validator and
//! hands the result to `pipeline::submit`, which routes the valid events, dead-letters the rest
//! and tells the source what is durable.
//!
//! A kind is a folder (or file) here whose config struct implements [`SourceKind`], plus one line
//! in the `SourceConfig` registry below; the supervisor, the config root and the admin API only
//! ever see `SourceConfig` and the trait.

pub mod api_pix_poll;
pub mod decoding;
pub mod dict_poll;
pub mod file;
pub mod generator;
pub mod http;
pub mod pipeline;
pub mod poll;
pub mod settings;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

pub use settings::{CanonicalFormatConfig, FormatsConfig, PixConfig, ValidationSettings};

use crate::base::kind_registry;
use crate::dead_letter::DeadLetterBatch;
use crate::lifecycle::{ChildGuard, Control};
use crate::router::RouteBatch;

kind_registry! {
    /// One entry of `sources:`; `type` selects the kind.
    pub enum SourceConfig: dyn SourceKind, "a source" {
        /// An HTTP listener (bank APIs, webhooks).
        Http(http::config::HttpSourceConfig) = "http",
        /// Files followed like `tail -F` (system logs), with durable checkpoints.
        File(file::config::FileSourceConfig) = "file",
        /// Synthetic events at a configured rate (demos, load).
        Generator(generator::GeneratorSourceConfig) = "generator",
        /// Pulls the Pix received from a PSP's API Pix (`GET /pix`, OAuth2 over mutual TLS).
        ApiPixPoll(api_pix_poll::config::ApiPixPollConfig) = "api_pix_poll",
        /// Pulls the DICT's infraction reports and MED refunds changed since its cursor.
        DictPoll(dict_poll::config::DictPollConfig) = "dict_poll",
    }
}

/// The format of a source entry that names none.
pub(crate) fn default_format() -> pix_domain::formats::Format {
    pix_domain::formats::Format::Canonical
}

/// The names of the formats `fit` accepts, for an error message.
pub(crate) fn format_names(fit: impl Fn(pix_domain::formats::Format) -> bool) -> String {
    let names: Vec<&str> = pix_domain::formats::Format::ALL.iter().filter(|f| fit(**f)).map(|f| f.name()).collect();
    names.join(", ")
}

/// What the checks of a source entry may need from the rest of the config.
#[derive(Debug, Clone)]
pub struct CheckContext {
    /// `kafka.delivery_timeout`: a request deadline must be longer.
    pub delivery_timeout: Duration,
    /// The largest record the producer sends (`message.max.bytes`): an input's dead letter
    /// carries its bytes, so a body or line limit must leave room for the headers.
    pub max_record_bytes: usize,
}

impl CheckContext {
    /// Why an input limit of `limit` bytes does not fit in one dead letter, if it does not.
    pub fn record_size_problem(&self, limit: usize) -> Option<String> {
        let room = self.max_record_bytes.saturating_sub(crate::kafka::RECORD_HEADROOM);
        (limit > room).then(|| {
            format!(
                "{limit} bytes do not fit in one dead letter: kafka.properties.message.max.bytes ({}) minus {} for \
                 key and headers leaves {room}; lower this limit or raise message.max.bytes (and the topics' \
                 max.message.bytes)",
                self.max_record_bytes,
                crate::kafka::RECORD_HEADROOM
            )
        })
    }
}

/// What each source kind's config provides; `SourceConfig::kind` dispatches to it.
pub trait SourceKind {
    /// The source id.
    fn id(&self) -> &str;
    /// The wire format its inputs are in (a redrive decodes its dead letters with it again).
    fn format(&self) -> pix_domain::formats::Format;
    /// Kind-specific field problems, as (field below the entry, message).
    fn problems(&self, _ctx: &CheckContext) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// The address a listener binds, when the kind has one (checked for clashes).
    fn listen(&self) -> Option<SocketAddr> {
        None
    }
    /// Starts the source's actor; the guard reports its exit to the supervisor.
    fn start(&self, deps: SourceDeps, guard: ChildGuard) -> Recipient<Control>;
}

impl SourceConfig {
    /// The source id.
    pub fn id(&self) -> &str {
        self.kind().id()
    }

    /// The wire format of its inputs.
    pub fn format(&self) -> pix_domain::formats::Format {
        self.kind().format()
    }

    /// Starts the actor of this source.
    pub fn start(&self, deps: SourceDeps, guard: ChildGuard) -> Recipient<Control> {
        self.kind().start(deps, guard)
    }
}

/// What every source needs from the rest of the app.
#[derive(Clone)]
pub struct SourceDeps {
    /// The router (stable across its restarts).
    pub router: Recipient<RouteBatch>,
    /// The dead-letter actor (stable across its restarts).
    pub dead_letter: Recipient<DeadLetterBatch>,
    /// Shared validation settings.
    pub validation: Arc<ValidationSettings>,
    /// The app's metrics.
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
    /// What the producers know of the cluster: while open, an HTTP source answers 503 at once.
    pub breaker: Arc<crate::kafka::Breaker>,
    /// The events this instance acknowledged (a copy is answered `duplicate`, not produced).
    pub acked: Arc<pipeline::AckIndex>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_type_name_parses_to_its_kind() {
        for name in SourceConfig::TYPE_NAMES {
            let err = serde_json::from_str::<SourceConfig>(&format!(r#"{{"type": "{name}"}}"#)).unwrap_err();
            assert!(!err.to_string().contains("unknown variant"), "{name} is not registered: {err}");
        }
        let err = serde_json::from_str::<SourceConfig>(r#"{"type": "nope"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }

    #[test]
    fn a_source_takes_only_the_formats_its_transport_can_carry() {
        let ctx = CheckContext { delivery_timeout: Duration::from_secs(5), max_record_bytes: 2 << 20 };
        let problems = |yaml: &str| {
            let s: SourceConfig = serde_saphyr::from_str(yaml).unwrap();
            s.kind().problems(&ctx).into_iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>()
        };
        let http = problems("{id: a, type: http, listen: 127.0.0.1:1, format: log_line}");
        assert!(http.iter().any(|p| p.starts_with("format: `log_line` is not served over HTTP")), "{http:?}");
        let file = problems("{id: b, type: file, path: x, checkpoint_dir: d, format: spi_xml}");
        assert!(file.iter().any(|p| p.starts_with("format: `spi_xml` is not read line by line")), "{file:?}");
        assert!(problems("{id: c, type: http, listen: 127.0.0.1:1, format: spi_xml}").is_empty());
        assert!(problems("{id: d, type: file, path: x, checkpoint_dir: d, format: log_line}").is_empty());
    }

    #[test]
    fn serialised_type_is_the_registered_name() {
        let yaml = "[{id: a, type: http, listen: 127.0.0.1:1}, {id: b, type: file, path: x, checkpoint_dir: d}, {id: c, type: generator}, \
                    {id: e, type: api_pix_poll, base_url: 'https://psp.example/v2', token_url: 'https://psp.example/oauth/token', \
                     client_id: '**redacted**', client_secret: '**redacted**', state_dir: d}, \
                    {id: f, type: dict_poll, base_url: 'https://dict.example/api/v2', token_url: 'https://dict.example/oauth/token', \
                     client_id: '**redacted**', client_secret: '**redacted**', participant: '99999010', state_dir: d}]"; // secrets serialise redacted
        let all: Vec<SourceConfig> = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(all.len(), SourceConfig::TYPE_NAMES.len(), "one example per registered kind");
        for s in &all {
            let v = serde_json::to_value(s).unwrap();
            assert_eq!(v["type"], s.type_name());
            assert!(SourceConfig::TYPE_NAMES.contains(&s.type_name()));
            let back: SourceConfig = serde_json::from_value(v).unwrap();
            assert_eq!(&back, s);
        }
    }
}
