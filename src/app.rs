//! Building the running service from a `Config`: the broker connection (embedded or real), the
//! topics, the pipeline actors (router, dead letter) and the Supervisor with every source.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::prelude::*;
use backon::{ExponentialBuilder, Retryable};
use rdkafka::producer::FutureProducer;

use crate::admin::api::{apply_paused, reconcile};
use crate::admin::state::DesiredState;
use crate::admin::{self, AdminState};
use crate::config::{Bootstrap, Config, TaxIdCheckDigits};
use crate::dead_letter::DeadLetter;
use crate::kafka::embedded::EmbeddedBroker;
use crate::kafka::{admin_config, ensure_topics, producer_config};
use crate::router::{Flush, RoutingTable, TopicRouter};
use crate::sinks::runner::SinkDeps;
use crate::sources::{SourceDeps, ValidationSettings};
use crate::supervisor::{ChildDeps, ChildInfo, ListChildren, RestartDelay, StartChild, StopAll, Supervisor};
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
        source: std::io::Error,
    },
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
    /// A config value the validator should have refused.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// The running service. Must stay on the thread that started it (the embedded broker is `!Send`).
pub struct AppHandle {
    supervisor: Addr<Supervisor>,
    router: Addr<TopicRouter>,
    bootstrap: String,
    metrics: Arc<Metrics>,
    /// Admin listener handle and address, when enabled.
    admin: Option<(actix_web::dev::ServerHandle, SocketAddr)>,
    /// Readiness drops as soon as shutdown begins.
    draining: Arc<AtomicBool>,
    /// Dropped last, after every client, in `shutdown`.
    embedded: Option<EmbeddedBroker>,
}

impl AppHandle {
    /// Starts everything the config describes.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let (embedded, bootstrap) = match &config.kafka.bootstrap_servers {
            Bootstrap::Embedded => {
                let e = EmbeddedBroker::start(&config).map_err(StartError::Embedded)?;
                let b = e.bootstrap_servers();
                (Some(e), b)
            }
            Bootstrap::Brokers(b) => {
                let attempt = || ensure_topics(&config, b);
                attempt
                    .retry(ExponentialBuilder::default().with_max_times(4).with_jitter())
                    .notify(|error, delay| {
                        tracing::warn!(%error, ?delay, "Kafka not ready for topic creation; retrying.");
                    })
                    .await
                    .map_err(|source| StartError::Topics { bootstrap: b.clone(), source })?;
                (None, b.clone())
            }
        };

        let pconf = producer_config(&config.kafka, &bootstrap, "pix-ingest");
        // Fail fast on a property librdkafka refuses, instead of a restart loop later.
        drop(pconf.create::<FutureProducer>().map_err(StartError::Producer)?);

        let metrics = Arc::new(Metrics::new());
        let policy = config.supervision.clone();
        let table = RoutingTable::new(&config.topics, config.routing.key);
        let (rconf, rpolicy) = (pconf.clone(), policy.clone());
        let rmetrics = Arc::clone(&metrics);
        let router =
            actix::Supervisor::start(move |_| TopicRouter::new(rconf, table, RestartDelay::new(&rpolicy), rmetrics));
        let dlq_topic = config.topics.dead_letter.as_str().to_owned();
        let (dconf, dpolicy) = (pconf.clone(), policy.clone());
        let dmetrics = Arc::clone(&metrics);
        let dead_letter =
            actix::Supervisor::start(move |_| DeadLetter::new(dconf, dlq_topic, RestartDelay::new(&dpolicy), dmetrics));

        let own_ispbs = config
            .pix
            .own_ispbs
            .iter()
            .map(|s| s.parse().map_err(|_| StartError::Config(format!("`{s}` is not an ISPB"))))
            .collect::<Result<Vec<_>, _>>()?;
        let validation = Arc::new(ValidationSettings {
            own_ispbs,
            check_digits: match config.pix.tax_id_check_digits {
                TaxIdCheckDigits::Strict => pix_domain::validate::CheckDigitPolicy::Strict,
                TaxIdCheckDigits::Warn => pix_domain::validate::CheckDigitPolicy::Warn,
            },
        });
        let deps = ChildDeps {
            source: SourceDeps {
                router: router.clone().recipient(),
                dead_letter: dead_letter.clone().recipient(),
                validation,
                metrics: Arc::clone(&metrics),
            },
            sink: SinkDeps {
                dead_letter: dead_letter.recipient(),
                metrics: Arc::clone(&metrics),
                bootstrap: bootstrap.clone(),
                kafka: Arc::new(config.kafka.clone()),
                topics: Arc::new(config.topics.clone()),
                crashes: Arc::default(),
            },
        };
        let supervisor = Supervisor::new(deps, policy).start();
        // The YAML, with what the admin API changed before the last stop laid over it.
        let desired = DesiredState::load(&config.admin.state_file).map_err(StartError::Config)?;
        let (children, paused) = reconcile(&config, &desired).map_err(StartError::Config)?;
        for child in children {
            let id = child.id().to_owned();
            if let Ok(Err(e)) = supervisor.send(StartChild(child)).await {
                return Err(StartError::Config(format!("{id}: {e}")));
            }
        }
        apply_paused(&supervisor, &paused).await;
        let draining = Arc::new(AtomicBool::new(false));
        let admin = if config.admin.enabled {
            let kafka = admin_config(&config.kafka, &bootstrap, "pix-ingest-readiness")
                .create()
                .map_err(StartError::Producer)?;
            let state = AdminState {
                supervisor: supervisor.clone(),
                metrics: Arc::clone(&metrics),
                kafka: Arc::new(kafka),
                draining: Arc::clone(&draining),
                token: config.admin.token.clone(),
                base: Arc::new(config.clone()),
                desired: std::sync::Mutex::new(desired),
            };
            let listen = config.admin.listen;
            Some(admin::start(listen, state).map_err(|source| StartError::Admin { listen, source })?)
        } else {
            None
        };
        Ok(Self { supervisor, router, bootstrap, metrics, admin, draining, embedded })
    }

    /// The bootstrap servers in use (the embedded broker's when embedded).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Whether this runs on the non-durable embedded broker.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The registry of supervised children.
    pub async fn children(&self) -> Vec<ChildInfo> {
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

    /// Graceful shutdown: sources stop taking input and finish in-flight requests, then the
    /// producer flushes, all within `grace`. Returns whether it finished in time.
    pub async fn shutdown(self, grace: Duration) -> bool {
        let start = tokio::time::Instant::now();
        // Readiness drops first, so a load balancer stops sending before the listeners close.
        self.draining.store(true, Ordering::SeqCst);
        let stop_sources = self.supervisor.send(StopAll { grace });
        let in_time = tokio::time::timeout(grace, stop_sources).await.is_ok();
        let left = grace.saturating_sub(start.elapsed());
        let flushed =
            tokio::time::timeout(left + Duration::from_millis(100), self.router.send(Flush { timeout: left }))
                .await
                .is_ok();
        if let Some((handle, _)) = &self.admin {
            handle.stop(true).await;
        }
        drop(self.router);
        drop(self.supervisor);
        if let Some(e) = self.embedded {
            // Let clients notice before the brokers go away (NOTES P11).
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(e);
        }
        in_time && flushed
    }
}
