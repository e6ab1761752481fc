//! Prometheus metrics: every family registered once into the app's own `Registry` (never the
//! global default registry: tests run several apps in one process). Names follow
//! `pix_ingest_<name>_<unit>[_total]`; label values come from config ids and closed enums (reason
//! codes, stages, states), never from payloads.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// The metric families of one app.
pub struct Metrics {
    registry: Registry,
    /// Actors failing while they run (a sink retrying its destination): not a metric family,
    /// read by the supervisor for DEGRADED (see `health`).
    pub health: super::health::Health,
    /// Items received by a source (one per event object, array element, line).
    pub received: IntCounterVec,
    /// Records a source got an answer for, by outcome (accepted, rejected, unavailable).
    pub source_records: IntCounterVec,
    /// Rejected items by source and first reason code.
    pub rejected: IntCounterVec,
    /// Records acknowledged by Kafka, by topic.
    pub produced: IntCounterVec,
    /// Records Kafka did not acknowledge, by topic and error (unavailable, refused).
    pub produce_errors: IntCounterVec,
    /// Time from handing a batch to the producer to the last delivery report, by actor.
    pub produce_batch_seconds: HistogramVec,
    /// Dead letters acknowledged, by stage and reason code.
    pub dead_letters: IntCounterVec,
    /// HTTP requests answered by a source, by source, route and status code.
    pub http_requests: IntCounterVec,
    /// HTTP request duration, by source and route.
    pub http_request_seconds: HistogramVec,
    /// Restarts of supervised actors.
    pub actor_restarts: IntCounterVec,
    /// 1 for the current state of each actor (RUNNING, DEGRADED, PAUSED, STOPPED, FAILED, RESTARTING).
    pub actor_state: IntGaugeVec,
    /// Records a sink wrote, by sink.
    pub sink_written: IntCounterVec,
    /// Records a sink's destination refused (dead-lettered), by sink.
    pub sink_failed: IntCounterVec,
    /// Failed write / flush / dead-letter attempts that were retried, by sink.
    pub sink_retries: IntCounterVec,
    /// Duration of a sink's batch write, by sink.
    pub sink_write_seconds: HistogramVec,
    /// Records not yet committed by a sink, by sink, topic and partition.
    pub consumer_lag: IntGaugeVec,
    /// From acceptance at the source (`ingested_at`) to the sink's successful write, by sink.
    pub end_to_end_seconds: HistogramVec,
    /// Messages in librdkafka's producer queues, by producing actor.
    pub kafka_queue_messages: IntGaugeVec,
    /// Average broker round-trip time seen by a producer, by actor and broker.
    pub kafka_broker_rtt_seconds: prometheus::GaugeVec,
    /// 1 while the producers believe the cluster is unreachable (sources answer 503 at once).
    pub breaker_open: prometheus::IntGauge,
    /// Openings and closings of the cluster breaker, by new state (`open`, `closed`).
    pub breaker_transitions: IntCounterVec,
    /// Requests a source refused at once, by source and reason (`in_flight`: 429 past
    /// `max_in_flight_records`; `kafka_unavailable`: 503 while the breaker is open).
    pub backpressure: IntCounterVec,
    /// Records a source has accepted for processing and not answered yet, by source.
    pub in_flight: IntGaugeVec,
    /// Event ids held by a de-duplication index, by owner (`http`, or a sink id).
    pub dedupe_entries: IntGaugeVec,
    /// Copies of an event a sink did not write again because its event id was already written.
    pub dedupe_skipped: IntCounterVec,
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| unreachable_metric(name, e));
    r.register(Box::new(c.clone())).unwrap_or_else(|e| unreachable_metric(name, e));
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|e| unreachable_metric(name, e));
    r.register(Box::new(g.clone())).unwrap_or_else(|e| unreachable_metric(name, e));
    g
}

fn histogram(r: &Registry, name: &str, help: &str, labels: &[&str], buckets: Vec<f64>) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .unwrap_or_else(|e| unreachable_metric(name, e));
    r.register(Box::new(h.clone())).unwrap_or_else(|e| unreachable_metric(name, e));
    h
}

/// Registering a family only fails for a malformed name or a duplicate, both programming errors
/// caught by the unit test below; there is no input that can reach this.
#[allow(clippy::panic)]
fn unreachable_metric(name: &str, e: prometheus::Error) -> ! {
    panic!("metric {name} cannot be registered: {e}")
}

/// What an operator asks first: which build is running (`pix_ingest_build_info{version,commit}`,
/// always 1), and the standard `process_*` families (CPU seconds, resident memory, open file
/// descriptors, start time; Linux only, read from /proc).
fn register_process_families(r: &Registry) {
    let info = gauge(r, "pix_ingest_build_info", "Always 1; the labels name the running build", &["version", "commit"]);
    info.with_label_values(&[crate::base::VERSION, crate::base::COMMIT]).set(1);
    #[cfg(target_os = "linux")]
    r.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))
        .unwrap_or_else(|e| unreachable_metric("process_*", e));
}

const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

impl Metrics {
    /// A fresh registry with every family.
    // sizes: registration list
    pub fn new() -> Self {
        let r = Registry::new();
        let actor_state = IntGaugeVec::new(
            Opts::new("pix_ingest_actor_state", "1 for the current state of each supervised actor"),
            &["actor", "state"],
        )
        .unwrap_or_else(|e| unreachable_metric("pix_ingest_actor_state", e));
        r.register(Box::new(actor_state.clone())).unwrap_or_else(|e| unreachable_metric("pix_ingest_actor_state", e));
        register_process_families(&r);
        Self {
            health: super::health::Health::default(),
            received: counter(&r, "pix_ingest_events_received_total", "Items received by a source", &["source"]),
            source_records: counter(
                &r,
                "pix_ingest_source_records_total",
                "Records a source got a final answer for, by outcome",
                &["source", "outcome"],
            ),
            rejected: counter(
                &r,
                "pix_ingest_events_rejected_total",
                "Rejected items by first reason",
                &["source", "reason"],
            ),
            produced: counter(&r, "pix_ingest_records_produced_total", "Records acknowledged by Kafka", &["topic"]),
            produce_errors: counter(
                &r,
                "pix_ingest_produce_errors_total",
                "Records Kafka did not acknowledge",
                &["topic", "error"],
            ),
            produce_batch_seconds: histogram(
                &r,
                "pix_ingest_produce_batch_duration_seconds",
                "From enqueueing a batch to its last delivery report",
                &["actor"],
                LATENCY_BUCKETS.to_vec(),
            ),
            dead_letters: counter(
                &r,
                "pix_ingest_dead_letters_total",
                "Dead letters acknowledged by Kafka",
                &["stage", "reason"],
            ),
            http_requests: counter(
                &r,
                "pix_ingest_http_requests_total",
                "HTTP requests answered by a source",
                &["source", "route", "status"],
            ),
            http_request_seconds: histogram(
                &r,
                "pix_ingest_http_request_duration_seconds",
                "HTTP request duration",
                &["source", "route"],
                LATENCY_BUCKETS.to_vec(),
            ),
            actor_restarts: counter(&r, "pix_ingest_actor_restarts_total", "Restarts of supervised actors", &["actor"]),
            actor_state,
            sink_written: counter(&r, "pix_ingest_sink_records_written_total", "Records a sink wrote", &["sink"]),
            sink_failed: counter(&r, "pix_ingest_sink_records_failed_total", "Records a sink dead-lettered", &["sink"]),
            sink_retries: counter(&r, "pix_ingest_sink_retries_total", "Sink operations retried", &["sink"]),
            sink_write_seconds: histogram(
                &r,
                "pix_ingest_sink_write_duration_seconds",
                "Duration of a sink batch write",
                &["sink"],
                LATENCY_BUCKETS.to_vec(),
            ),
            consumer_lag: gauge(
                &r,
                "pix_ingest_consumer_lag_records",
                "Records not yet committed by a sink",
                &["sink", "topic", "partition"],
            ),
            end_to_end_seconds: histogram(
                &r,
                "pix_ingest_end_to_end_latency_seconds",
                "From acceptance at the source to the sink's write",
                &["sink"],
                vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
            ),
            kafka_queue_messages: gauge(
                &r,
                "pix_ingest_kafka_producer_queue_messages",
                "Messages in librdkafka's producer queues",
                &["actor"],
            ),
            kafka_broker_rtt_seconds: {
                let name = "pix_ingest_kafka_broker_rtt_seconds";
                let g =
                    prometheus::GaugeVec::new(Opts::new(name, "Average broker round-trip time"), &["actor", "broker"])
                        .unwrap_or_else(|e| unreachable_metric(name, e));
                r.register(Box::new(g.clone())).unwrap_or_else(|e| unreachable_metric(name, e));
                g
            },
            breaker_open: {
                let name = "pix_ingest_kafka_breaker_open";
                let g = prometheus::IntGauge::new(name, "1 while the producers believe Kafka is unreachable")
                    .unwrap_or_else(|e| unreachable_metric(name, e));
                r.register(Box::new(g.clone())).unwrap_or_else(|e| unreachable_metric(name, e));
                g
            },
            breaker_transitions: counter(
                &r,
                "pix_ingest_kafka_breaker_transitions_total",
                "Openings and closings of the cluster breaker",
                &["state"],
            ),
            backpressure: counter(
                &r,
                "pix_ingest_backpressure_rejections_total",
                "Requests refused at once (429 in_flight, 503 kafka_unavailable)",
                &["source", "reason"],
            ),
            in_flight: gauge(
                &r,
                "pix_ingest_source_in_flight_records",
                "Records accepted for processing and not answered yet",
                &["source"],
            ),
            dedupe_entries: gauge(
                &r,
                "pix_ingest_dedupe_index_entries",
                "Event ids held by a de-duplication index",
                &["owner"],
            ),
            dedupe_skipped: counter(
                &r,
                "pix_ingest_sink_duplicates_skipped_total",
                "Copies of an already written event id a sink did not write again",
                &["sink"],
            ),
            registry: r,
        }
    }

    /// The Prometheus text exposition of every family.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "Cannot encode metrics.");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_register_and_render() {
        let m = Metrics::new();
        m.received.with_label_values(&["api"]).inc();
        m.rejected.with_label_values(&["api", "e2e.format"]).inc();
        let text = m.render();
        assert!(text.contains("pix_ingest_events_received_total{source=\"api\"} 1"), "{text}");
        assert!(text.contains("pix_ingest_events_rejected_total{reason=\"e2e.format\",source=\"api\"} 1"), "{text}");
        // two apps in one process each have their own registry
        let other = Metrics::new();
        assert!(!other.render().contains("source=\"api\""));
    }

    #[test]
    fn build_info_and_process_families_are_exposed() {
        let text = Metrics::new().render();
        let info = format!(
            "pix_ingest_build_info{{commit=\"{}\",version=\"{}\"}} 1",
            crate::base::COMMIT,
            env!("CARGO_PKG_VERSION")
        );
        assert!(text.contains(&info), "{text}");
        assert!(!crate::base::COMMIT.is_empty());
        if cfg!(target_os = "linux") {
            for family in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"] {
                assert!(text.contains(&format!("\n{family} ")), "{family} missing:\n{text}");
            }
        }
    }
}
