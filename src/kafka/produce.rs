//! Sending a batch of records and waiting for every delivery report at once.
//!
//! All records are enqueued first and the delivery futures are awaited together, so a batch costs
//! one round of broker acknowledgements, not one per record. An outcome is `Ok` only when the
//! broker acknowledged the record under acks=all.

use std::time::Duration;

use futures::future::join_all;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::FutureRecord;

use super::Producer;
use rdkafka::types::RDKafkaErrorCode;
use tokio::time::Instant;

/// A record ready to be produced.
#[derive(Debug, Clone)]
pub struct OutRecord {
    /// Destination topic.
    pub topic: String,
    /// Partition key.
    pub key: Option<Vec<u8>>,
    /// Value bytes.
    pub payload: Vec<u8>,
    /// Headers.
    pub headers: OwnedHeaders,
}

/// Where an acknowledged record was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Produced {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// Why a record was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Kafka could not take the record in time (broker down, timeout, queue full): retrying the
    /// same record later may succeed.
    #[error("Kafka did not acknowledge the record in time: {0}")]
    Unavailable(String),
    /// The broker refused this record and will refuse it again (too large, not authorised,
    /// invalid): it belongs in the dead-letter topic.
    #[error("Kafka refused the record: {code:?}")]
    Refused {
        /// librdkafka / broker error code.
        code: RDKafkaErrorCode,
    },
}

impl DeliveryError {
    /// Stable reason code for a refused record.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "produce.unavailable",
            Self::Refused { code: RDKafkaErrorCode::MessageSizeTooLarge } => "produce.too_large",
            Self::Refused { code: RDKafkaErrorCode::TopicAuthorizationFailed } => "produce.not_authorized",
            Self::Refused { .. } => "produce.refused",
        }
    }
}

/// The outcome of one record.
pub type DeliveryOutcome = Result<Produced, DeliveryError>;

fn classify(err: &KafkaError) -> DeliveryError {
    let code = match err {
        KafkaError::MessageProduction(code) => Some(*code),
        _ => err.rdkafka_error_code(),
    };
    match code {
        Some(
            c @ (RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::PolicyViolation
            | RDKafkaErrorCode::InvalidTopic),
        ) => DeliveryError::Refused { code: c },
        _ => DeliveryError::Unavailable(err.to_string()),
    }
}

/// What a record whose delivery report did not come before the caller's deadline is told.
pub const PAST_DEADLINE: &str = "Kafka did not acknowledge the record before the request deadline; its fate is \
                                 unknown (it may still be written: a retry is deduplicated by event id)";

/// Enqueues every record, then awaits all delivery reports, none past `deadline`: the time spent
/// waiting for room in a full local queue and for each delivery report (otherwise bounded only by
/// `message.timeout.ms`, counted from the enqueue) both stop there, so a caller answers on time
/// whatever the broker does (down, frozen, slow). A record still in flight at the deadline is
/// [`DeliveryError::Unavailable`] with [`PAST_DEADLINE`]; librdkafka keeps it and may deliver it
/// later (the idempotent producer writes it once). `breaker` learns from the batch: closed by any
/// delivery, opened by a delivery timeout.
pub async fn produce_all(
    producer: &Producer,
    breaker: &super::Breaker,
    records: &[OutRecord],
    deadline: Instant,
) -> Vec<DeliveryOutcome> {
    let mut pending = Vec::with_capacity(records.len());
    for rec in records {
        let topic = rec.topic.clone();
        pending.push(enqueue(producer, rec, deadline).await.map(|f| (topic, f)).map_err(Failed::from));
    }
    // Every record is in librdkafka's queue now (or failed to get there); wait for all reports.
    let reports = join_all(pending.into_iter().map(|p| async move {
        let (topic, fut) = p?;
        let Ok(report) = tokio::time::timeout_at(deadline, fut).await else {
            return Err(DeliveryError::Unavailable(PAST_DEADLINE.into()).into());
        };
        match report {
            Ok(Ok(d)) => Ok(Produced { topic, partition: d.partition, offset: d.offset }),
            Ok(Err((e, _msg))) => Err(Failed { timed_out: timed_out(&e), error: classify(&e) }),
            Err(_canceled) => Err(DeliveryError::Unavailable("the producer was closed".into()).into()),
        }
    }))
    .await;
    // The breaker learns once per batch: any delivery closes it, a timed-out one opens it.
    if reports.iter().any(Result::is_ok) {
        breaker.reset();
    } else if reports.iter().any(|r| matches!(r, Err(Failed { timed_out: true, .. }))) {
        breaker.trip(super::breaker::Cause::DeliveryTimeout);
    }
    reports.into_iter().map(|r| r.map_err(|f| f.error)).collect()
}

/// A record that was not delivered, and whether its delivery timed out.
struct Failed {
    timed_out: bool,
    error: DeliveryError,
}

impl From<DeliveryError> for Failed {
    fn from(error: DeliveryError) -> Self {
        Self { timed_out: false, error }
    }
}

fn timed_out(err: &KafkaError) -> bool {
    let code = match err {
        KafkaError::MessageProduction(code) => Some(*code),
        _ => err.rdkafka_error_code(),
    };
    matches!(code, Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::RequestTimedOut))
}

async fn enqueue(
    producer: &Producer,
    rec: &OutRecord,
    deadline: Instant,
) -> Result<rdkafka::producer::DeliveryFuture, DeliveryError> {
    loop {
        let mut record = FutureRecord::to(&rec.topic).payload(&rec.payload).headers(rec.headers.clone());
        if let Some(k) = &rec.key {
            record = record.key(k);
        }
        match producer.send_result(record) {
            Ok(f) => return Ok(f),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                // Backpressure: librdkafka's local queue is full. Wait for room, but not past the
                // caller's deadline.
                if Instant::now() >= deadline {
                    return Err(DeliveryError::Unavailable("the producer queue stayed full".into()));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err((e, _)) => return Err(classify(&e)),
        }
    }
}

/// Records the outcomes of one produced batch in the metrics (`actor` labels the batch latency).
pub fn observe(
    metrics: &crate::telemetry::metrics::Metrics,
    actor: &str,
    topics: &[String],
    outcomes: &[DeliveryOutcome],
    started: Instant,
) {
    metrics.produce_batch_seconds.with_label_values(&[actor]).observe(started.elapsed().as_secs_f64());
    for (topic, o) in topics.iter().zip(outcomes) {
        match o {
            Ok(_) => metrics.produced.with_label_values(&[topic]).inc(),
            Err(DeliveryError::Unavailable(_)) => {
                metrics.produce_errors.with_label_values(&[topic, "unavailable"]).inc()
            }
            Err(DeliveryError::Refused { .. }) => metrics.produce_errors.with_label_values(&[topic, "refused"]).inc(),
        }
    }
}
