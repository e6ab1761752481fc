//! JSON log lines in the Elastic Common Schema, as Filebeat and Logstash expect them:
//! `@timestamp`, `log.level`, `log.logger`, `message`, `service.name`, `ecs.version`, `trace.id`
//! and `span.id` (when the line is written inside a traced span), then the event's own fields.
//! Field values are what call sites log: identifiers and codes, and PII only through types whose
//! `Display` masks it (pix-domain's `Cpf`, `Cnpj`, `PixKey`...).

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The ECS event formatter; `service` is the `service.name` of every line.
pub struct Ecs {
    /// `telemetry.service_name` (or `OTEL_SERVICE_NAME`, or `pix-ingest`).
    pub service: String,
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(name(field), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(name(field), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(name(field), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(name(field), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(name(field), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(name(field), Value::String(value.to_string()));
    }
}

fn name(field: &Field) -> String {
    match field.name() {
        "message" => "message".into(),
        "error" => "error.message".into(),
        other => other.to_owned(),
    }
}

impl<S, N> FormatEvent<S, N> for Ecs
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let mut map = Map::new();
        map.insert(
            "@timestamp".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
        map.insert("log.level".into(), Value::String(meta.level().as_str().to_ascii_lowercase()));
        map.insert("log.logger".into(), Value::String(meta.target().to_owned()));
        map.insert("service.name".into(), Value::String(self.service.clone()));
        map.insert("ecs.version".into(), Value::String("8.11.0".into()));
        let cx = tracing::Span::current().context();
        let sc = cx.span().span_context().clone();
        if sc.is_valid() {
            map.insert("trace.id".into(), Value::String(sc.trace_id().to_string()));
            map.insert("span.id".into(), Value::String(sc.span_id().to_string()));
        }
        event.record(&mut Fields(&mut map));
        let line = serde_json::to_string(&map).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}
