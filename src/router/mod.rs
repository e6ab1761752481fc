//! The TopicRouter actor: owns the producer and the routing table (category -> topic, partition
//! key), and answers a `RouteBatch` only when Kafka has acknowledged or refused every record.
//!
//! It runs under actix's `Supervisor`, so its address survives a restart; a panic while building
//! a batch is caught and turned into `ctx.stop()`, which makes the supervisor rebuild the actor
//! (and its producer) from config. A restart waits a backon backoff before taking messages again.

mod messages;
mod table;

pub use messages::{RouteBatch, RoutedEvent};
pub use table::{RoutingConfig, RoutingTable};

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use actix::prelude::*;
use futures::FutureExt;
use rdkafka::ClientConfig;

use crate::kafka::produce::observe;
use crate::kafka::{Breaker, DeliveryError, DeliveryOutcome, OwnedProducer, produce_all};
use crate::lifecycle::{ActorStatus, Flush, Restart, RestartDelay};
use crate::telemetry::metrics::Metrics;

/// The router's id in the supervisor's registry (reserved: no source or sink may take it).
pub const ACTOR_ID: &str = "router";

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
        breaker: Arc<Breaker>,
        status: Arc<ActorStatus>,
    ) -> Self {
        Self {
            producer: OwnedProducer::new("router", producer_config, restart, Arc::clone(&metrics), breaker, status),
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
                self.producer.status().error("panic while routing a batch");
                ctx.stop();
                return Box::pin(futures::future::ready(unavailable("the router restarted")));
            }
        };
        let deadline = msg.deadline;
        let metrics = Arc::clone(&self.metrics);
        let breaker = self.producer.breaker();
        Box::pin(async move {
            let topics: Vec<String> = records.iter().map(|r| r.topic.clone()).collect();
            let started = tokio::time::Instant::now();
            let outcomes = AssertUnwindSafe(produce_all(&producer, &breaker, &records, deadline))
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

impl Handler<Restart> for TopicRouter {
    type Result = ();
    fn handle(&mut self, _: Restart, ctx: &mut Self::Context) {
        tracing::info!(actor = "router", "Restart requested.");
        ctx.stop();
    }
}

impl Handler<Flush> for TopicRouter {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, msg: Flush, _ctx: &mut Self::Context) -> Self::Result {
        self.producer.flush(msg.timeout)
    }
}
