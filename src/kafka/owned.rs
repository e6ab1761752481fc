//! A producer owned by a supervised actor (router, dead letter): built from config when the actor
//! starts, dropped when it restarts, and rebuilt only after the restart backoff has passed.

use super::{Breaker, Producer, StatsContext};
use actix::prelude::*;
use rdkafka::ClientConfig;

use crate::lifecycle::{ActorStatus, RestartDelay};
use std::sync::Arc;

/// The producer slot of one actor.
pub struct OwnedProducer {
    /// Actor name for logs.
    name: &'static str,
    /// How to build the producer; kept so a restart rebuilds it from config.
    config: ClientConfig,
    /// `None` before `start`, after a failed creation and during a restart.
    producer: Option<Producer>,
    /// Exports librdkafka statistics.
    context: StatsContext,
    /// Delay before a restarted actor takes messages again.
    restart: RestartDelay,
    /// What the supervisor's registry shows of the actor.
    status: Arc<ActorStatus>,
}

impl OwnedProducer {
    /// An empty slot; `start` fills it.
    pub fn new(
        name: &'static str,
        config: ClientConfig,
        restart: RestartDelay,
        metrics: Arc<crate::telemetry::metrics::Metrics>,
        breaker: Arc<Breaker>,
        status: Arc<ActorStatus>,
    ) -> Self {
        let context = StatsContext { actor: name, metrics, breaker };
        Self { name, config, producer: None, restart, context, status }
    }

    /// The status the registry shows.
    pub fn status(&self) -> &ActorStatus {
        &self.status
    }

    /// Call from `Actor::started`: waits out a pending restart backoff (messages stay queued in
    /// the mailbox, none are lost), then creates the producer; stops the actor if it cannot.
    pub fn start<A>(&mut self, ctx: &mut Context<A>)
    where
        A: Actor<Context = Context<A>>,
    {
        if let Some(delay) = self.restart.next_delay() {
            ctx.wait(actix::fut::wrap_future::<_, A>(actix::clock::sleep(delay)));
        }
        match self.config.create_with_context::<_, Producer>(self.context.clone()) {
            Ok(p) => {
                self.producer = Some(p);
                self.status.up();
            }
            Err(error) => {
                tracing::error!(actor = self.name, %error, "Cannot create the Kafka producer; restarting.");
                self.status.error(&format!("cannot create the Kafka producer: {error}"));
                ctx.stop();
            }
        }
    }

    /// Call from `Supervised::restarting`.
    pub fn restarting(&mut self) {
        tracing::warn!(actor = self.name, "Restarting.");
        self.restart.record_restart();
        self.status.restarting("restarted after a failure");
        self.producer = None;
    }

    /// Waits up to `timeout` for the queued records (at shutdown); off the event loop.
    pub fn flush(&self, timeout: std::time::Duration) -> futures::future::BoxFuture<'static, ()> {
        let producer = self.producer.clone();
        Box::pin(async move {
            if let Some(p) = producer {
                super::flush_blocking(p, timeout).await;
            }
        })
    }

    /// The cluster breaker this producer reports to.
    pub fn breaker(&self) -> Arc<Breaker> {
        Arc::clone(&self.context.breaker)
    }

    /// The producer, when there is one (cheap clone of an `Arc`).
    pub fn get(&self) -> Option<Producer> {
        self.producer.clone()
    }
}
