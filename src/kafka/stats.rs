//! The producers' client context: librdkafka's statistics that matter, as Prometheus gauges (the
//! producer queue depth and each broker's round-trip time, every `statistics.interval.ms`, 5 s
//! unless the user's properties say otherwise), and its error callback, which trips the cluster
//! [`Breaker`] when every broker is down.

use std::sync::Arc;

use rdkafka::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;

use super::Breaker;
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
    /// Tripped when librdkafka says every broker is down.
    pub breaker: Arc<Breaker>,
}

impl ClientContext for StatsContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.breaker.trip(super::breaker::Cause::AllBrokersDown);
        }
        tracing::warn!(actor = self.actor, %error, reason, "Kafka client error.");
    }

    fn stats(&self, s: Statistics) {
        let m = &self.metrics;
        m.kafka_queue_messages.with_label_values(&[self.actor]).set(i64::try_from(s.msg_cnt).unwrap_or(i64::MAX));
        if s.brokers.values().any(|b| b.state == "UP") {
            self.breaker.broker_up();
        }
        for (name, broker) in &s.brokers {
            if let Some(rtt) = &broker.rtt {
                // librdkafka reports microseconds.
                m.kafka_broker_rtt_seconds.with_label_values(&[self.actor, name]).set(rtt.avg as f64 / 1e6);
            }
        }
    }
}
