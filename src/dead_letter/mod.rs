//! The DeadLetter actor: publishes records that could not be routed to the dead-letter topic with
//! their original bytes unchanged and headers that say why. It never drops a record: a record
//! Kafka could not take is retried with backoff (backon) until the caller's deadline, and the
//! caller learns the outcome of every record, so a source only says "rejected" once the dead
//! letter is durable. A dead letter always fits in one record: bytes over the producer's
//! `message.max.bytes` are cut (with the original's length and SHA-256 in headers), and one the
//! broker still refuses as too large (a dead-letter topic with a smaller `max.message.bytes`) is
//! written again cut to a few KiB, so a size is never a "retry later".

mod record;

pub use record::{DeadLetterRecord, DlqReason, Origin, Stage};

use std::panic::AssertUnwindSafe;

use actix::prelude::*;
use backon::{BackoffBuilder, ExponentialBuilder};
use futures::FutureExt;
use rdkafka::ClientConfig;
use tokio::time::Instant;

use crate::kafka::produce::observe;
use crate::kafka::{Breaker, DeliveryError, DeliveryOutcome, OwnedProducer, produce_all};
use crate::lifecycle::{ActorStatus, Flush, Restart, RestartDelay};
use crate::telemetry::metrics::Metrics;

/// Publish these dead letters; one outcome per record, in order.
#[derive(Message)]
#[rtype(result = "Vec<DeliveryOutcome>")]
pub struct DeadLetterBatch {
    /// The records.
    pub records: Vec<DeadLetterRecord>,
    /// Retries stop at this instant; what is still not acknowledged is reported unavailable.
    pub deadline: Instant,
}

/// The dead-letter actor's id in the supervisor's registry (reserved for it).
pub const ACTOR_ID: &str = "dead-letter";

/// The dead-letter actor.
pub struct DeadLetter {
    producer: OwnedProducer,
    topic: String,
    metrics: std::sync::Arc<Metrics>,
    /// The producer's `message.max.bytes`: no dead letter is built larger.
    max_record_bytes: usize,
}

/// The size a dead letter is cut to when the broker refused it as too large even so (a topic
/// whose `max.message.bytes` is below the producer's limit): its first bytes, the reasons, and the
/// original's length and digest (`docs/engineering-notes.md §14`).
const REFERENCE_BYTES: usize = 16 * 1024;

impl DeadLetter {
    /// A dead-letter actor publishing to `topic`.
    pub fn new(
        producer_config: ClientConfig,
        topic: String,
        restart: RestartDelay,
        metrics: std::sync::Arc<Metrics>,
        breaker: std::sync::Arc<Breaker>,
        status: std::sync::Arc<ActorStatus>,
    ) -> Self {
        let max_record_bytes = producer_config
            .get("message.max.bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::kafka::DEFAULT_MAX_RECORD_BYTES);
        Self {
            max_record_bytes,
            producer: OwnedProducer::new(
                "dead_letter",
                producer_config,
                restart,
                std::sync::Arc::clone(&metrics),
                breaker,
                status,
            ),
            topic,
            metrics,
        }
    }
}

impl Actor for DeadLetter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.producer.start(ctx);
    }
}

impl Supervised for DeadLetter {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.metrics.actor_restarts.with_label_values(&["dead_letter"]).inc();
        self.producer.restarting();
    }
}

impl Handler<DeadLetterBatch> for DeadLetter {
    type Result = ResponseFuture<Vec<DeliveryOutcome>>;

    fn handle(&mut self, msg: DeadLetterBatch, ctx: &mut Self::Context) -> Self::Result {
        let n = msg.records.len();
        let unavailable = move |why: &str| vec![Err(DeliveryError::Unavailable(why.to_owned())); n];
        let Some(producer) = self.producer.get() else {
            return Box::pin(futures::future::ready(unavailable("the dead-letter actor has no producer")));
        };
        let (topic, max) = (self.topic.clone(), self.max_record_bytes);
        let records = std::panic::catch_unwind(AssertUnwindSafe(|| {
            msg.records.iter().map(|r| r.to_out_record(&topic, max)).collect::<Vec<_>>()
        }));
        let Ok(records) = records else {
            tracing::error!(actor = "dead_letter", "Panic while building dead letters; restarting.");
            self.producer.status().error("panic while building dead letters");
            ctx.stop();
            return Box::pin(futures::future::ready(unavailable("the dead-letter actor restarted")));
        };
        let deadline = msg.deadline;
        let metrics = std::sync::Arc::clone(&self.metrics);
        let breaker = self.producer.breaker();
        Box::pin(async move {
            let topics = vec![topic.clone(); records.len()];
            let started = Instant::now();
            let publish = async {
                let mut outcomes = publish_with_retry(producer.clone(), &breaker, records, deadline).await;
                let refused: Vec<usize> = (0..outcomes.len()).filter(|&i| too_large(&outcomes[i])).collect();
                if !refused.is_empty() {
                    tracing::warn!(records = refused.len(), "Dead letters refused as too large; writing them cut.");
                    let cut = refused.iter().map(|&i| msg.records[i].to_out_record(&topic, REFERENCE_BYTES));
                    let again = publish_with_retry(producer, &breaker, cut.collect(), deadline).await;
                    for (i, o) in refused.into_iter().zip(again) {
                        outcomes[i] = o;
                    }
                }
                outcomes
            };
            let outcomes = AssertUnwindSafe(publish)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| unavailable("the dead-letter actor failed while producing"));
            observe(&metrics, "dead_letter", &topics, &outcomes, started);
            outcomes
        })
    }
}

impl Handler<Restart> for DeadLetter {
    type Result = ();
    fn handle(&mut self, _: Restart, ctx: &mut Self::Context) {
        tracing::info!(actor = "dead_letter", "Restart requested.");
        ctx.stop();
    }
}

impl Handler<Flush> for DeadLetter {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: Flush, _ctx: &mut Self::Context) -> Self::Result {
        self.producer.flush(msg.timeout)
    }
}

fn too_large(outcome: &DeliveryOutcome) -> bool {
    matches!(
        outcome,
        Err(DeliveryError::Refused {
            code: rdkafka::types::RDKafkaErrorCode::MessageSizeTooLarge
                | rdkafka::types::RDKafkaErrorCode::InvalidMessageSize
        })
    )
}

/// Produces all records; those Kafka could not take in time are retried with exponential backoff
/// and jitter until `deadline`.
async fn publish_with_retry(
    producer: crate::kafka::Producer,
    breaker: &Breaker,
    records: Vec<crate::kafka::produce::OutRecord>,
    deadline: Instant,
) -> Vec<DeliveryOutcome> {
    let mut outcomes = produce_all(&producer, breaker, &records, deadline).await;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_millis(50))
        .with_max_delay(std::time::Duration::from_secs(2))
        .with_jitter()
        .without_max_times()
        .build();
    loop {
        let retry: Vec<usize> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o, Err(DeliveryError::Unavailable(_))))
            .map(|(i, _)| i)
            .collect();
        if retry.is_empty() {
            return outcomes;
        }
        let Some(delay) = delays.next() else { return outcomes };
        if Instant::now() + delay >= deadline {
            tracing::error!(records = retry.len(), "Dead letters not acknowledged before the deadline.");
            return outcomes;
        }
        tracing::warn!(records = retry.len(), ?delay, "Retrying dead letters Kafka did not acknowledge.");
        tokio::time::sleep(delay).await;
        let again =
            produce_all(&producer, breaker, &retry.iter().map(|&i| records[i].clone()).collect::<Vec<_>>(), deadline)
                .await;
        for (i, o) in retry.into_iter().zip(again) {
            outcomes[i] = o;
        }
    }
}
