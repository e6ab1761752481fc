//! Publishing redriven records the way the router does: the records are built by the routing
//! table (topic of the category, partition key, the same headers and event id) and produced with
//! the durable producer settings (acks=all, idempotence), plus `pix-redriven-from`. A repeated
//! redrive publishes the same event id again, which the dedupe downstream drops.

use std::sync::Arc;
use std::time::Duration;

use pix_domain::Published;
use rdkafka::ClientConfig;
use rdkafka::message::Header;

use super::RedriveError;
use super::letter::Letter;
use crate::kafka::produce::OutRecord;
use crate::kafka::{Breaker, DeliveryOutcome, Producer, StatsContext, headers, produce_all};
use crate::router::{RouteBatch, RoutedEvent, RoutingTable};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::propagation::TraceParent;

/// The producer of a redrive run.
pub(crate) struct Publisher {
    producer: Producer,
    breaker: Arc<Breaker>,
    table: RoutingTable,
    /// How long a chunk's delivery reports are waited for (`kafka.delivery_timeout` and a margin).
    wait: Duration,
}

impl Publisher {
    /// A producer from `config` (the instance's producer settings) routing with `table`. Its
    /// statistics and circuit breaker are its own (a registry of their own): a redrive's troubles
    /// must not make the instance's sources answer 503, nor move the instance's gauges.
    pub fn new(config: ClientConfig, table: RoutingTable, wait: Duration) -> Result<Self, RedriveError> {
        let metrics = Arc::new(Metrics::new());
        let breaker = Arc::new(Breaker::new(Arc::clone(&metrics)));
        let context = StatsContext { actor: "redrive", metrics, breaker: Arc::clone(&breaker) };
        let producer = config.create_with_context(context).map_err(RedriveError::Kafka)?;
        Ok(Self { producer, breaker, table, wait })
    }

    /// Publishes the records of each dead letter, `pix-redriven-from` naming it; the outcomes of
    /// each letter's records, in order. Returns when every record was acknowledged or refused.
    pub async fn publish(&self, dlq_topic: &str, letters: &[(&Letter, &[Published])]) -> Vec<Vec<DeliveryOutcome>> {
        let mut records: Vec<OutRecord> = Vec::new();
        let mut counts = Vec::with_capacity(letters.len());
        let deadline = tokio::time::Instant::now() + self.wait;
        for (letter, events) in letters {
            let batch = RouteBatch {
                source_id: source_of(letter, events).into(),
                events: events.iter().map(|e| routed(letter, e)).collect(),
                deadline,
                client: None,
            };
            let spans = self.table.spans(&batch);
            let from = letter.coordinates(dlq_topic);
            for mut r in self.table.records(&batch, &spans) {
                r.headers = r.headers.insert(Header { key: headers::REDRIVEN_FROM, value: Some(from.as_str()) });
                records.push(r);
            }
            counts.push(events.len());
        }
        let mut outcomes = produce_all(&self.producer, &self.breaker, &records, deadline).await.into_iter();
        counts.into_iter().map(|n| outcomes.by_ref().take(n).collect()).collect()
    }
}

/// The `pix-source` of a redriven record: the source that received the bytes (for a sink-stage
/// dead letter, the one the event itself names; the dead letter names the sink).
fn source_of(letter: &Letter, events: &[Published]) -> String {
    match letter.stage.as_deref() {
        Some("sink_decode" | "sink_write") => {
            events.first().and_then(Published::as_pix).map_or_else(|| letter.source.clone(), |e| e.source.id.clone())
        }
        _ => letter.source.clone(),
    }
}

/// The event with the dead letter's trace continued.
fn routed(letter: &Letter, event: &Published) -> RoutedEvent {
    RoutedEvent {
        event: event.clone(),
        traceparent: TraceParent::continue_or_new(letter.traceparent.as_deref(), None).child().to_header(),
        parent: opentelemetry::Context::new(),
    }
}
