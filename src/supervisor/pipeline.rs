//! The pipeline actors the supervisor owns besides sources and sinks: the TopicRouter and the
//! DeadLetter actor. They run under actix's own `Supervisor` (their addresses outlive restarts,
//! so no source has to be re-wired) and report restarts and errors through an `ActorStatus` the
//! registry reads; the admin API may restart them, nothing else.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use rdkafka::ClientConfig;

use super::registry::{ChildInfo, ChildState, Origin};
use crate::dead_letter::{self, DeadLetter};
use crate::lifecycle::{ActorStatus, Flush, Restart, RestartDelay, SupervisionConfig};
use crate::router::{self, RoutingTable, TopicRouter};
use crate::telemetry::metrics::Metrics;

/// How to build the pipeline actors.
pub struct PipelineSpec {
    /// Producer settings (acks=all, idempotence) of both actors.
    pub producer: ClientConfig,
    /// Category -> topic and key.
    pub routing: RoutingTable,
    /// `topics.dead_letter`.
    pub dead_letter_topic: String,
    /// What both producers report the cluster's reachability to.
    pub breaker: Arc<crate::kafka::Breaker>,
}

/// The running pipeline actors.
pub(super) struct Pipeline {
    pub(super) router: Addr<TopicRouter>,
    pub(super) dead_letter: Addr<DeadLetter>,
    router_status: Arc<ActorStatus>,
    dead_letter_status: Arc<ActorStatus>,
}

impl Pipeline {
    /// Starts both actors under actix supervisors.
    pub(super) fn start(spec: PipelineSpec, policy: &SupervisionConfig, metrics: &Arc<Metrics>) -> Self {
        let router_status = Arc::new(ActorStatus::default());
        let dead_letter_status = Arc::new(ActorStatus::default());
        let (conf, pol, m, st, table) =
            (spec.producer.clone(), policy.clone(), Arc::clone(metrics), Arc::clone(&router_status), spec.routing);
        let b = Arc::clone(&spec.breaker);
        let router =
            actix::Supervisor::start(move |_| TopicRouter::new(conf, table, RestartDelay::new(&pol), m, b, st));
        let (conf, pol, m, st, topic) = (
            spec.producer,
            policy.clone(),
            Arc::clone(metrics),
            Arc::clone(&dead_letter_status),
            spec.dead_letter_topic,
        );
        let b = spec.breaker;
        let dead_letter =
            actix::Supervisor::start(move |_| DeadLetter::new(conf, topic, RestartDelay::new(&pol), m, b, st));
        Self { router, dead_letter, router_status, dead_letter_status }
    }

    /// Whether `id` names a pipeline actor.
    pub(super) fn owns(id: &str) -> bool {
        id == router::ACTOR_ID || id == dead_letter::ACTOR_ID
    }

    /// Registry entries of both actors.
    pub(super) fn infos(&self) -> Vec<ChildInfo> {
        [
            (router::ACTOR_ID, "router", &self.router_status),
            (dead_letter::ACTOR_ID, "dead_letter", &self.dead_letter_status),
        ]
        .into_iter()
        .map(|(id, ty, status)| {
            let last = status.last_error();
            ChildInfo {
                id: id.to_owned(),
                kind: "pipeline",
                r#type: ty,
                state: if status.is_restarting() { ChildState::Restarting } else { ChildState::Running },
                restarts: status.restarts(),
                last_error: last.as_ref().map(|(e, _)| e.clone()),
                last_error_at: last.map(|(_, t)| t),
                listen: None,
                degraded_since: None,
                origin: Origin::Config,
                progress: None,
            }
        })
        .collect()
    }

    /// Asks one of them to restart (it gets a fresh producer).
    pub(super) fn restart(&self, id: &str) {
        if id == router::ACTOR_ID {
            self.router.do_send(Restart);
        } else if id == dead_letter::ACTOR_ID {
            self.dead_letter.do_send(Restart);
        }
    }

    /// Flushes both producers, within `timeout`.
    pub(super) async fn flush(router: Addr<TopicRouter>, dead_letter: Addr<DeadLetter>, timeout: Duration) -> bool {
        let flush = async {
            let (a, b) = futures::join!(router.send(Flush { timeout }), dead_letter.send(Flush { timeout }));
            a.is_ok() && b.is_ok()
        };
        tokio::time::timeout(timeout + Duration::from_millis(100), flush).await.unwrap_or(false)
    }
}
