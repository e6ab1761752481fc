//! One trace per event, end to end, with an in-memory span exporter (feature `otel-testing`):
//! the HTTP request (continuing the caller's traceparent), the publish to Kafka (context in the
//! record headers), the sink's consume (context extracted from the headers), and the batch write
//! that links the events it contains; a dead letter carries the trace too.

use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt;

use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER, OWN};
use crate::harness::{TestApp, trace_layer};
use crate::kafka::{headers, read_all_async};
use crate::wait::{holds, wait_until};

/// The process-wide subscriber of this test binary, with the app's own trace layer.
fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let subscriber = tracing_subscriber::registry().with(vec![trace_layer(&provider)]);
        tracing::subscriber::set_global_default(subscriber).expect("the trace test owns the global subscriber");
        std::mem::forget(provider); // lives as long as the test process
        exporter
    })
}

fn spans_of(trace: TraceId) -> Vec<SpanData> {
    exporter().get_finished_spans().unwrap().into_iter().filter(|s| s.span_context.trace_id() == trace).collect()
}

#[actix_rt::test]
async fn one_trace_per_event_from_the_http_request_to_the_sink_write() {
    let exporter = exporter();
    let dir = tempfile::tempdir().unwrap();
    let sink = json!({ "id": "landing", "type": "file", "dir": dir.path(), "batch": { "max_age": "100ms" } });
    let t = TestApp::start_with(&ConfigBuilder::for_test("traces").sink(sink)).await;

    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let trace_id = TraceId::from_hex(trace).unwrap();
    let body = serde_json::json!([fixtures::receipt(&fixtures::e2e(OTHER)), fixtures::bad_cpf(&fixtures::e2e(OWN))]);
    let r = reqwest::Client::new()
        .post(t.url("/v1/events"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 207);

    let spans = wait_until("the sink's consumer span", Duration::from_secs(30), async || {
        let spans = spans_of(trace_id);
        if spans.iter().any(|s| s.span_kind == SpanKind::Consumer) {
            Ok(spans)
        } else {
            Err(spans.into_iter().map(|s| s.name).collect::<Vec<_>>())
        }
    })
    .await;
    let find =
        |kind: SpanKind| spans.iter().find(|s| s.span_kind == kind).unwrap_or_else(|| panic!("no {kind:?} span"));
    let server = find(SpanKind::Server);
    let producer = find(SpanKind::Producer);
    let consumer = find(SpanKind::Consumer);
    assert_eq!(server.name, "POST /v1/events");
    assert_eq!(server.parent_span_id.to_string(), "00f067aa0ba902b7", "the incoming traceparent is continued");
    assert_eq!(producer.parent_span_id, server.span_context.span_id());
    let validate = spans.iter().find(|s| s.name == "pix.decode_validate").expect("a decode/validate span");
    assert_eq!(validate.parent_span_id, server.span_context.span_id());
    assert_eq!(producer.name, format!("{} publish", t.topics.receipt));
    assert_eq!(consumer.parent_span_id, producer.span_context.span_id(), "the context crossed Kafka in the headers");
    let attr = |s: &SpanData, k: &str| s.attributes.iter().find(|a| a.key.as_str() == k).map(|a| a.value.to_string());
    assert_eq!(attr(producer, "messaging.system").as_deref(), Some("kafka"));
    assert_eq!(attr(producer, "messaging.destination.name"), Some(t.topics.receipt.clone()));
    assert!(attr(producer, "messaging.kafka.offset").is_some(), "offset recorded after the ack");
    assert_eq!(attr(consumer, "messaging.consumer.group.name").as_deref(), Some("pix-ingest.landing"));
    assert_eq!(attr(consumer, "messaging.kafka.offset"), attr(producer, "messaging.kafka.offset"));

    // the batch write links the consumer span of the event it wrote
    wait_until("a write span linking the consumer span", Duration::from_secs(10), async || {
        let all = exporter.get_finished_spans().unwrap();
        let linked = all.iter().any(|s| {
            s.name == "landing write"
                && s.links.iter().any(|l| l.span_context.span_id() == consumer.span_context.span_id())
        });
        holds(linked, format!("{} finished spans, none linking it", all.len()))
    })
    .await;

    // the dead letter of the invalid event carries the same trace
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 1);
    assert!(headers(&dlq[0])["traceparent"].starts_with(&format!("00-{trace}-")));
    t.stop().await;
}
