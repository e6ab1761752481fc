//! The embedded dev broker: librdkafka's in-process mock cluster (`rdkafka::mocking`).
//!
//! It speaks the Kafka protocol, so the whole pipeline runs unchanged, but it keeps everything in
//! memory: every record is lost when the process exits. `EmbeddedBroker::start` logs that loudly.
//! The mock cluster is `!Send`; it lives on the main thread for the life of the process and is
//! dropped only after every client using it.

use rdkafka::error::KafkaResult;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use crate::kafka::config::{KafkaConfig, TopicsConfig};

/// The running mock cluster.
pub struct EmbeddedBroker {
    /// Owned here so it outlives the clients; dropping it shuts the brokers down.
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster and creates the configured topics on it (the mock broker
    /// does not implement the CreateTopics admin API).
    pub fn start(kafka: &KafkaConfig, topics: &TopicsConfig) -> KafkaResult<Self> {
        let cluster = MockCluster::new(1)?;
        let partitions = kafka.create_topics.partitions;
        for topic in topics.all() {
            cluster.create_topic(topic.as_str(), partitions, 1)?;
        }
        tracing::warn!(
            bootstrap = %cluster.bootstrap_servers(),
            "EMBEDDED KAFKA: NON-DURABLE DEV MODE. An in-process mock broker holds every record in \
             memory and loses it at exit; acknowledgements mean nothing for durability. Set \
             kafka.bootstrap_servers (or PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS) to use a real cluster."
        );
        Ok(Self { cluster })
    }

    /// `host:port` list of the mock brokers.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }
}
