//! The TopicRouter actor: owns the producer and the routing table (category -> topic, partition
//! key), and answers a `RouteBatch` only when Kafka has acknowledged or refused every record.
//!
//! It runs under actix's `Supervisor`, so its address survives a restart; a panic while building
//! a batch is caught and turned into `ctx.stop()`, which makes the supervisor rebuild the actor
//! (and its producer) from config. A restart waits a backon backoff before taking messages again.

mod messages;
mod table;

pub use messages::{RouteBatch, RoutedEvent};
pub use table::RoutingTable;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix::prelude::*;
use futures::FutureExt;
use rdkafka::ClientConfig;

use crate::kafka::produce::observe;
use crate::kafka::{DeliveryError, DeliveryOutcome, OwnedProducer, produce_all};
use crate::supervisor::RestartDelay;
use crate::telemetry::metrics::Metrics;

/// The router actor.
pub struct TopicRouter {
    producer: OwnedProducer,
    metrics: Arc<Metrics>,
    /// Category -> topic and key choice; replaced as a whole on update.
    table: Arc<RoutingTable>,
}

impl TopicRouter {
    /// A router that will build its producer from `producer_config` when started.
    pub fn new(
        producer_config: ClientConfig,
        table: RoutingTable,
        restart: RestartDelay,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            producer: OwnedProducer::new("router", producer_config, restart, Arc::clone(&metrics)),
            table: Arc::new(table),
            metrics,
        }
    }
}

impl Actor for TopicRouter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.producer.start(ctx);
    }
}

impl Supervised for TopicRouter {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.metrics.actor_restarts.with_label_values(&["router"]).inc();
        self.producer.restarting();
    }
}

impl Handler<RouteBatch> for TopicRouter {
    type Result = ResponseFuture<Vec<DeliveryOutcome>>;

    fn handle(&mut self, msg: RouteBatch, ctx: &mut Self::Context) -> Self::Result {
        let n = msg.events.len();
        let unavailable = move |why: &str| vec![Err(DeliveryError::Unavailable(why.to_owned())); n];
        let Some(producer) = self.producer.get() else {
            return Box::pin(futures::future::ready(unavailable("the router has no producer")));
        };
        // Building records touches only our own code, but a bug there must cost one restart of
        // this actor, not a dead mailbox.
        let table = Arc::clone(&self.table);
        let spans = table.spans(&msg);
        let records = std::panic::catch_unwind(AssertUnwindSafe(|| table.records(&msg, &spans)));
        let records = match records {
            Ok(r) => r,
            Err(_) => {
                tracing::error!(actor = "router", "Panic while routing a batch; restarting the router.");
                ctx.stop();
                return Box::pin(futures::future::ready(unavailable("the router restarted")));
            }
        };
        let deadline = msg.deadline;
        let metrics = Arc::clone(&self.metrics);
        Box::pin(async move {
            let topics: Vec<String> = records.iter().map(|r| r.topic.clone()).collect();
            let started = tokio::time::Instant::now();
            let outcomes = AssertUnwindSafe(produce_all(&producer, records, deadline))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| unavailable("the router failed while producing"));
            observe(&metrics, "router", &topics, &outcomes, started);
            for (span, out) in spans.iter().zip(&outcomes) {
                match out {
                    Ok(p) => {
                        span.record("messaging.destination.partition.id", p.partition.to_string());
                        span.record("messaging.kafka.offset", p.offset);
                    }
                    Err(e) => {
                        span.record("error.type", e.reason_code());
                    }
                }
            }
            outcomes
        })
    }
}

/// Flushes the producer (at shutdown): waits up to `timeout` for queued records.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Flush {
    /// How long to wait.
    pub timeout: std::time::Duration,
}

impl Handler<Flush> for TopicRouter {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: Flush, _ctx: &mut Self::Context) -> Self::Result {
        let producer = self.producer.get();
        Box::pin(async move {
            if let Some(p) = producer {
                flush_blocking(p, msg.timeout).await;
            }
        })
    }
}

/// `Producer::flush` blocks its thread; run it off the event loop.
pub(crate) async fn flush_blocking(producer: crate::kafka::Producer, timeout: std::time::Duration) {
    use rdkafka::producer::Producer;
    let r = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
    match r {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "Producer flush did not complete."),
        Err(error) => tracing::warn!(%error, "Producer flush task failed."),
    }
}
