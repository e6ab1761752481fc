//! librdkafka's statistics that matter, as Prometheus gauges: the producer queue depth and each
//! broker's round-trip time. librdkafka emits them every `statistics.interval.ms` (5 s unless the
//! user's properties say otherwise) to this client context.

use std::sync::Arc;

use rdkafka::ClientContext;
use rdkafka::producer::FutureProducer;
use rdkafka::statistics::Statistics;

use crate::telemetry::metrics::Metrics;

/// The producer type of pix-ingest: a `FutureProducer` whose context exports statistics.
pub type Producer = FutureProducer<StatsContext>;

/// Client context of the producers; `actor` labels the gauges.
#[derive(Clone)]
pub struct StatsContext {
    /// `router` or `dead_letter`.
    pub actor: &'static str,
    /// The app's metrics.
    pub metrics: Arc<Metrics>,
}

impl ClientContext for StatsContext {
    fn stats(&self, s: Statistics) {
        let m = &self.metrics;
        m.kafka_queue_messages.with_label_values(&[self.actor]).set(i64::try_from(s.msg_cnt).unwrap_or(i64::MAX));
        for (name, broker) in &s.brokers {
            if let Some(rtt) = &broker.rtt {
                // librdkafka reports microseconds.
                m.kafka_broker_rtt_seconds.with_label_values(&[self.actor, name]).set(rtt.avg as f64 / 1e6);
            }
        }
    }
}
