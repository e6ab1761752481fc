//! W3C trace context (`traceparent`): continued from an incoming request, or started fresh, and
//! handed to every record as a child span id. Parsing and formatting are the OpenTelemetry SDK's
//! `TraceContextPropagator`; ids come from its random generator.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

/// A trace position: the trace id and the span that records should hang under.
#[derive(Debug, Clone)]
pub struct TraceParent {
    cx: SpanContext,
}

struct Single<'a>(&'a str, Option<&'a str>);

impl Extractor for Single<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if key == "traceparent" {
            Some(self.0)
        } else if key == "tracestate" {
            self.1
        } else {
            None
        }
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

impl TraceParent {
    /// Continues `traceparent` (and `tracestate`) when they are valid, else starts a new trace.
    pub fn continue_or_new(traceparent: Option<&str>, tracestate: Option<&str>) -> Self {
        if let Some(tp) = traceparent {
            let cx = TraceContextPropagator::new().extract(&Single(tp, tracestate));
            let span = cx.span().span_context().clone();
            if span.is_valid() {
                return Self { cx: span };
            }
        }
        let ids = RandomIdGenerator::default();
        Self {
            cx: SpanContext::new(
                ids.new_trace_id(),
                ids.new_span_id(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
        }
    }

    /// A new span in the same trace.
    pub fn child(&self) -> Self {
        let span_id = RandomIdGenerator::default().new_span_id();
        Self {
            cx: SpanContext::new(
                self.cx.trace_id(),
                span_id,
                self.cx.trace_flags(),
                false,
                self.cx.trace_state().clone(),
            ),
        }
    }

    /// The trace id as 32 hex digits.
    pub fn trace_id(&self) -> String {
        self.cx.trace_id().to_string()
    }

    /// The `traceparent` header value.
    pub fn to_header(&self) -> String {
        let mut map = HashMap::new();
        let cx = Context::new().with_remote_span_context(self.cx.clone());
        TraceContextPropagator::new().inject_context(&cx, &mut map);
        map.remove("traceparent").unwrap_or_default()
    }
}

// === Spans (when the OpenTelemetry layer is installed) ===

use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C context carried by `headers` (an HTTP request or a Kafka record), as a parent.
pub fn extract(traceparent: Option<&str>, tracestate: Option<&str>) -> Context {
    match traceparent {
        Some(tp) => TraceContextPropagator::new().extract(&Single(tp, tracestate)),
        None => Context::new(),
    }
}

/// `traceparent` of a tracing span, when the OpenTelemetry layer gave it a real span context
/// (no layer installed: `None`, and callers fall back to `TraceParent`).
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut map = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut map);
    map.remove("traceparent")
}

impl TraceParent {
    /// The position of `span` when it has a real span context, else `fallback`.
    pub fn of_span_or(span: &tracing::Span, fallback: TraceParent) -> TraceParent {
        let cx = span.context();
        let sc = cx.span().span_context().clone();
        if sc.is_valid() { TraceParent { cx: sc } } else { fallback }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_incoming_trace() {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let tp = TraceParent::continue_or_new(Some(incoming), None);
        assert_eq!(tp.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let child = tp.child().to_header();
        assert!(child.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{child}");
        assert!(!child.contains("00f067aa0ba902b7"), "a child has its own span id");
        assert!(child.ends_with("-01"));
    }

    #[test]
    fn starts_a_new_trace_on_garbage() {
        let tp = TraceParent::continue_or_new(Some("nonsense"), None);
        let h = tp.to_header();
        assert_eq!(h.len(), 55, "{h}");
        assert_ne!(tp.trace_id(), "00000000000000000000000000000000");
        let other = TraceParent::continue_or_new(None, None);
        assert_ne!(tp.trace_id(), other.trace_id());
    }
}
