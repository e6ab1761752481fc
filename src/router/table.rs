//! The routing table: category -> topic, and which field is the partition key (with the
//! `routing:` config section that chooses it).

use pix_domain::{Category, KeyField};
use serde::{Deserialize, Serialize};

use crate::kafka::config::TopicsConfig;
use crate::kafka::headers;
use crate::kafka::produce::OutRecord;
use crate::router::messages::RouteBatch;

/// `routing:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Kafka key: `end_to_end_id` (default: a payment, its statuses and refunds stay in one
    /// partition, in order), `payer_account`, or `event_id`.
    #[serde(default = "default_key")]
    pub key: KeyField,
}

fn default_key() -> KeyField {
    KeyField::EndToEndId
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self { key: default_key() }
    }
}

/// Category -> topic and key choice.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    topics: TopicsConfig,
    key: KeyField,
}

impl RoutingTable {
    /// From the `topics:` and `routing:` config.
    pub fn new(topics: &TopicsConfig, routing: &RoutingConfig) -> Self {
        Self { topics: topics.clone(), key: routing.key }
    }

    /// The topic of a category.
    pub fn topic(&self, category: Category) -> &str {
        self.topics.of(category).as_str()
    }

    /// One producer span per event, under the event's parent (OpenTelemetry messaging
    /// conventions); partition and offset are recorded once Kafka acknowledged.
    pub(crate) fn spans(&self, batch: &RouteBatch) -> Vec<tracing::Span> {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        batch
            .events
            .iter()
            .map(|e| {
                let topic = self.topic(e.event.category());
                let span = tracing::info_span!(
                    "kafka.publish",
                    otel.name = %format!("{topic} publish"),
                    otel.kind = "producer",
                    messaging.system = "kafka",
                    messaging.operation.type = "publish",
                    messaging.operation.name = "send",
                    messaging.destination.name = %topic,
                    messaging.destination.partition.id = tracing::field::Empty,
                    messaging.kafka.offset = tracing::field::Empty,
                    messaging.kafka.message.key = %e.event.partition_key(self.key),
                    pix.event_id = %e.event.event_id(),
                    pix.category = e.event.category().as_str(),
                    error.type = tracing::field::Empty,
                );
                let _ = span.set_parent(e.parent.clone());
                span
            })
            .collect()
    }

    /// The Kafka records of a batch, in order; each carries its publish span's context.
    pub(crate) fn records(&self, batch: &RouteBatch, spans: &[tracing::Span]) -> Vec<OutRecord> {
        batch
            .events
            .iter()
            .zip(spans)
            .map(|(e, span)| {
                let traceparent =
                    crate::telemetry::propagation::traceparent_of(span).unwrap_or_else(|| e.traceparent.clone());
                let event_id = e.event.event_id();
                let payload = e.event.to_json();
                OutRecord {
                    topic: self.topic(e.event.category()).to_owned(),
                    key: Some(e.event.partition_key(self.key).into_bytes()),
                    payload,
                    headers: headers::build(
                        [
                            (headers::TRACEPARENT, traceparent.as_str()),
                            (headers::EVENT_ID, event_id),
                            (headers::SOURCE, &*batch.source_id),
                            (headers::SCHEMA, e.event.schema()),
                            (headers::SCHEMA_VERSION, e.event.schema_version()),
                            (headers::CONTENT_TYPE, "application/json"),
                        ]
                        .into_iter()
                        .chain(client_headers(batch.client.as_deref())),
                    ),
                }
            })
            .collect()
    }
}

/// The client certificate headers of a record, when it came over mutual TLS.
pub(crate) fn client_headers(client: Option<&crate::tls::PeerIdentity>) -> impl Iterator<Item = (&str, &str)> {
    client
        .into_iter()
        .flat_map(|c| [(headers::CLIENT_SUBJECT, c.subject.as_str()), (headers::CLIENT_SERIAL, c.serial.as_str())])
}
