//! Logs (tracing-subscriber: JSON lines or a terminal format), OpenTelemetry traces exported over
//! OTLP/HTTP when an endpoint is configured, W3C trace-context propagation, and Prometheus metrics.
//!
//! Filters are per layer (docs/engineering-notes.md §3): the log level never disables the spans the trace layer needs.
//! With no endpoint the trace layer is not installed at all.

pub mod config;
pub mod ecs;
pub mod health;
pub mod limit;
pub mod metrics;
pub mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::filter::{FilterExt, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

pub use config::{LogFormat, TelemetryConfig};

/// Flushes and stops the trace exporter when dropped (at the end of `main`).
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take()
            && let Err(error) = p.shutdown()
        {
            tracing::warn!(%error, "Trace exporter did not shut down cleanly.");
        }
    }
}

fn log_layer(cfg: &TelemetryConfig) -> Result<Box<dyn Layer<Registry> + Send + Sync>, TelemetryError> {
    // The Delta kernel logs a nested block_on at INFO on every write, and "No files in log
    // segment" at ERROR when it opens a table it is about to create (docs/engineering-notes.md §1, §2): both are
    // expected, so they are quieted unless the operator's filter names them.
    let directives = format!("buoyant_kernel=warn,buoyant_kernel::snapshot::builder=off,{}", cfg.log_level);
    // librdkafka's repeated lines: once per window, with a count (module `limit`).
    let filter = EnvFilter::try_new(directives)?.and(limit::LogLimit::new(limit::WINDOW));
    Ok(match cfg.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .event_format(ecs::Ecs { service: cfg.service_name().to_owned() })
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(false).with_filter(filter).boxed(),
    })
}

/// The provider for an exporter, with the configured sampling and `service.name`.
pub fn provider<E>(exporter: E, sampling_ratio: f64, service_name: &str) -> SdkTracerProvider
where
    E: opentelemetry_sdk::trace::SpanExporter + 'static,
{
    SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(sampling_ratio))))
        .with_resource(Resource::builder().with_service_name(service_name.to_owned()).build())
        .build()
}

/// The layer that turns pix-ingest's spans into OpenTelemetry spans.
pub fn trace_layer(provider: &SdkTracerProvider) -> Box<dyn Layer<Registry> + Send + Sync> {
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("pix-ingest"))
        .with_filter(Targets::new().with_target("pix_ingest", Level::INFO))
        .boxed()
}

/// Why logging and tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `telemetry.log_level` is not a filter.
    #[error("invalid log filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// The OTLP exporter cannot be built.
    #[error("OTLP exporter for {endpoint}: {source}")]
    Exporter {
        /// The endpoint.
        endpoint: String,
        /// Why.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// A global subscriber is already installed.
    #[error("cannot install the log subscriber: {0}")]
    Install(#[from] tracing_subscriber::util::TryInitError),
}

/// Installs the global subscriber: logs, and traces when `otlp_endpoint` is set. Call once.
pub fn init(cfg: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let logs = log_layer(cfg)?;
    let Some(endpoint) = &cfg.otlp_endpoint else {
        tracing_subscriber::registry().with(vec![logs]).try_init()?;
        return Ok(TelemetryGuard { provider: None });
    };
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .with_timeout(std::time::Duration::from_secs(2))
        .build()
        .map_err(|source| TelemetryError::Exporter { endpoint: endpoint.clone(), source })?;
    let provider = provider(exporter, cfg.sampling_ratio, cfg.service_name());
    tracing_subscriber::registry().with(vec![logs, trace_layer(&provider)]).try_init()?;
    Ok(TelemetryGuard { provider: Some(provider) })
}
