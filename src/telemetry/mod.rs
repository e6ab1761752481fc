//! Logs (tracing-subscriber, JSON lines or a terminal format) and W3C trace-context propagation.
//! OpenTelemetry export and Prometheus metrics plug in here.

pub mod metrics;
pub mod propagation;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, TelemetryConfig};

/// Installs the global log subscriber. Call once, from `main`.
pub fn init_logging(cfg: &TelemetryConfig) -> Result<(), String> {
    // The Delta kernel logs a nested block_on at INFO on every write, and "No files in log
    // segment" at ERROR when it opens a table it is about to create (NOTES P6/P7): both are
    // expected, so they are quieted unless the operator's filter names them.
    let directives = format!("buoyant_kernel=warn,buoyant_kernel::snapshot::builder=off,{}", cfg.log_level);
    let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
    let registry = tracing_subscriber::registry();
    let result = match cfg.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Pretty => {
            registry.with(tracing_subscriber::fmt::layer().with_target(false).with_filter(filter)).try_init()
        }
    };
    result.map_err(|e| e.to_string())
}

use tracing_subscriber::Layer as _;
