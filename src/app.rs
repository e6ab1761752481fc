//! Building the running service from a `Config`: the broker connection (embedded or real), the
//! topics, the Supervisor (which starts the pipeline actors and every source and sink) and the
//! admin listener; and the graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use backon::{ExponentialBuilder, Retryable};
use rdkafka::producer::FutureProducer;

use crate::admin::{self, AdminState};
use crate::base::vars::{AllowedEnv, ProcessEnv, VarSource};
use crate::config::{Config, ConfigErrors};
use crate::kafka::embedded::EmbeddedBroker;
use crate::kafka::{Bootstrap, Breaker, MetadataProbe, ensure_topics, producer_config};
use crate::router::RoutingTable;
use crate::sinks::runner::SinkEnv;
use crate::sources::ValidationSettings;
use crate::sources::pipeline::AckIndex;
use crate::supervisor::reconcile::reconcile;
use crate::supervisor::reload::{ConfigSource, ReloadError, ReloadReport, Reloader};
use crate::supervisor::state::{DesiredState, StateError};
use crate::supervisor::{
    ChildInfo, Command, ListChildren, Op, PipelineSpec, StartChild, StopAll, Supervisor, SupervisorSpec, Wiring,
};
use crate::telemetry::metrics::Metrics;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The embedded broker could not start.
    #[error("cannot start the embedded Kafka broker: {0}")]
    Embedded(#[source] rdkafka::error::KafkaError),
    /// The admin listener could not bind.
    #[error("cannot start the admin listener on {listen}: {source}")]
    Admin {
        /// Where.
        listen: std::net::SocketAddr,
        /// Why.
        #[source]
        source: crate::admin::AdminError,
    },
    /// The cluster does not answer through TLS and SASL (named broker and cause).
    #[error(transparent)]
    Connect(#[from] crate::kafka::connect::ConnectError),
    /// Topics could not be created or checked.
    #[error("cannot prepare the topics on {bootstrap}: {source}")]
    Topics {
        /// Where.
        bootstrap: String,
        /// Why.
        #[source]
        source: crate::kafka::topics::TopicsError,
    },
    /// The producer configuration is refused by librdkafka.
    #[error("invalid Kafka producer configuration: {0}")]
    Producer(#[source] rdkafka::error::KafkaError),
    /// The admin state file cannot be read.
    #[error("cannot read the admin state: {0}")]
    State(#[from] StateError),
    /// An entry of the admin state does not parse any more.
    #[error("invalid entry in the admin state: {0}")]
    Overlay(#[from] ConfigErrors),
    /// A config value the validator should have refused.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// The running service. Must stay on the thread that started it (the embedded broker is `!Send`).
pub struct AppHandle {
    supervisor: Addr<Supervisor>,
    bootstrap: String,
    metrics: Arc<Metrics>,
    /// Admin listener handle and address, when enabled.
    admin: Option<(actix_web::dev::ServerHandle, SocketAddr)>,
    /// SIGHUP and `POST /api/v1/reload`.
    reloader: Arc<Reloader>,
    /// Dropped last, after every client, in `shutdown`.
    embedded: Option<EmbeddedBroker>,
}

impl AppHandle {
    /// Starts everything the config describes (no reload: there is no file to read again).
    pub async fn start(config: Config) -> Result<Self, StartError> {
        Self::start_reloadable(config, None).await
    }

    /// Starts everything the config describes; `source` reads the config again for a reload.
    pub async fn start_reloadable(config: Config, source: Option<ConfigSource>) -> Result<Self, StartError> {
        let (embedded, bootstrap) = connect(&config).await?;
        let pconf = producer_config(&config.kafka, &bootstrap, "pix-ingest");
        // Fail fast on a property librdkafka refuses, instead of a restart loop later.
        drop(pconf.create::<FutureProducer>().map_err(StartError::Producer)?);

        let metrics = Arc::new(Metrics::new());
        let validation = ValidationSettings::from_config(&config.pix, &config.formats)
            .map_err(|e| StartError::Config(e.to_string()))?;
        let breaker = Arc::new(Breaker::new(Arc::clone(&metrics)));
        // Admin-submitted entries and their persisted copies read `${VAR}` from here: only the
        // variables `admin.allowed_env` names.
        let vars: Arc<dyn VarSource + Send + Sync> =
            Arc::new(AllowedEnv::new(ProcessEnv, config.admin.allowed_env.clone()));
        let desired = if config.admin.enabled {
            DesiredState::load(&config.admin.state_file)?
        } else {
            DesiredState::in_memory()
        };
        let plan = reconcile(&config.sources, &config.sinks, &desired, &*vars)?;
        let spec = SupervisorSpec {
            policy: config.supervision.clone(),
            wiring: Wiring::Pipeline(PipelineSpec {
                producer: pconf,
                routing: RoutingTable::new(&config.topics, &config.routing),
                dead_letter_topic: config.topics.dead_letter.as_str().to_owned(),
                breaker: Arc::clone(&breaker),
            }),
            validation: Arc::new(validation),
            breaker,
            acked: Arc::new(AckIndex::new(config.duplicates.clone(), Some(Arc::clone(&metrics)))),
            metrics: Arc::clone(&metrics),
            sinks: SinkEnv {
                bootstrap: bootstrap.clone(),
                kafka: Arc::new(config.kafka.clone()),
                topics: Arc::new(config.topics.clone()),
            },
            probe: Some(MetadataProbe::new(&config.kafka, &bootstrap).map_err(StartError::Producer)?),
            desired,
        };
        let supervisor = Supervisor::new(spec).start();
        for child in plan.children {
            let id = child.id().to_owned();
            if let Ok(Err(e)) = supervisor.send(StartChild(child)).await {
                return Err(StartError::Config(format!("{id}: {e}")));
            }
        }
        for id in plan.paused {
            let _ = supervisor.send(Command { id: id.clone(), op: Op::Pause, grace: Duration::from_secs(30) }).await;
            tracing::info!(actor = %id, "Started paused, as the admin API left it.");
        }
        let reloader = Arc::new(Reloader::new(supervisor.clone(), source, Arc::clone(&vars), config.clone()));
        let admin = if config.admin.enabled {
            let state = AdminState {
                supervisor: supervisor.clone(),
                metrics: Arc::clone(&metrics),
                reloader: Arc::clone(&reloader),
                token: config.admin.token.clone(),
                base: Arc::new(config.clone()),
                vars,
                bootstrap: bootstrap.clone(),
            };
            let listen = config.admin.listen;
            let tls = config.admin.tls.as_ref();
            Some(admin::start(listen, tls, state).map_err(|source| StartError::Admin { listen, source })?)
        } else {
            None
        };
        Ok(Self { supervisor, bootstrap, metrics, admin, reloader, embedded })
    }

    /// The bootstrap servers in use (the embedded broker's when embedded).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Whether this runs on the non-durable embedded broker.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The registry's sources and sinks (what the config and the admin API add and remove).
    pub async fn children(&self) -> Vec<ChildInfo> {
        let mut all = self.actors().await;
        all.retain(|c| c.kind != "pipeline");
        all
    }

    /// The whole registry: sources and sinks, then the pipeline actors (router, dead letter).
    pub async fn actors(&self) -> Vec<ChildInfo> {
        self.supervisor.send(ListChildren).await.unwrap_or_default()
    }

    /// Where the admin listener is bound, when enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, a)| *a)
    }

    /// The app's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The supervisor's address (for the admin API).
    pub fn supervisor(&self) -> &Addr<Supervisor> {
        &self.supervisor
    }

    /// Waits until source `id` is listening and returns its address.
    pub async fn source_addr(&self, id: &str, timeout: Duration) -> Option<SocketAddr> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(addr) = self.children().await.into_iter().find(|c| c.id == id).and_then(|c| c.listen) {
                return Some(addr);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads the config file again and applies its sources and sinks (SIGHUP).
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        self.reloader.reload().await
    }

    /// The start of a drain (SIGTERM): every readiness (admin and each listener's `/readyz`)
    /// answers 503 from now on, while the listeners keep serving until `shutdown`.
    pub fn start_draining(&self) {
        self.metrics.health.start_draining();
    }

    /// Graceful shutdown: sources stop taking input and finish in-flight requests, sinks flush
    /// and commit, then the producers flush, all within `grace`. Returns whether it finished in
    /// time.
    pub async fn shutdown(self, grace: Duration) -> bool {
        // Readiness drops first, so a load balancer stops sending before the listeners close.
        self.start_draining();
        let stopped = self.supervisor.send(StopAll { grace });
        let in_time = tokio::time::timeout(grace + Duration::from_millis(200), stopped).await;
        if let Some((handle, _)) = &self.admin {
            handle.stop(true).await;
        }
        drop(self.supervisor);
        if let Some(e) = self.embedded {
            // Let clients notice before the brokers go away (docs/engineering-notes.md §7).
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(e);
        }
        matches!(in_time, Ok(Ok(true)))
    }
}

/// The embedded broker, or the topics prepared on the real cluster; the bootstrap in use.
async fn connect(config: &Config) -> Result<(Option<EmbeddedBroker>, String), StartError> {
    match &config.kafka.bootstrap_servers {
        Bootstrap::Embedded => {
            let e = EmbeddedBroker::start(&config.kafka, &config.topics).map_err(StartError::Embedded)?;
            let b = e.bootstrap_servers();
            Ok((Some(e), b))
        }
        Bootstrap::Brokers(b) => {
            crate::kafka::connect::check_connection(&config.kafka, b).await?;
            let attempt = || ensure_topics(&config.kafka, &config.topics, b);
            attempt
                .retry(ExponentialBuilder::default().with_max_times(4).with_jitter())
                .notify(|error, delay| {
                    tracing::warn!(%error, ?delay, "Kafka not ready for topic creation; retrying.");
                })
                .await
                .map_err(|source| StartError::Topics { bootstrap: b.clone(), source })?;
            Ok((None, b.clone()))
        }
    }
}
