//! Creating the topics pix-ingest needs on a real cluster, if they are missing.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::kafka::admin_config;
use crate::kafka::config::{KafkaConfig, TopicsConfig};

/// Why the topics could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum TopicsError {
    /// The admin client could not be created.
    #[error("cannot create the Kafka admin client: {0}")]
    Client(#[source] rdkafka::error::KafkaError),
    /// The CreateTopics request failed as a whole.
    #[error("CreateTopics request failed: {0}")]
    Request(#[source] rdkafka::error::KafkaError),
    /// One topic could not be created.
    #[error("cannot create topic {topic}: {code}")]
    Topic {
        /// The topic.
        topic: String,
        /// The broker's answer.
        code: RDKafkaErrorCode,
    },
}

/// Creates the four configured topics with the configured partitions and replication factor;
/// topics that already exist are left as they are.
pub async fn ensure_topics(kafka: &KafkaConfig, topics: &TopicsConfig, bootstrap: &str) -> Result<(), TopicsError> {
    let ct = &kafka.create_topics;
    if !ct.enabled {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> =
        admin_config(kafka, bootstrap, "pix-ingest-admin").create().map_err(TopicsError::Client)?;
    let new: Vec<NewTopic<'_>> = topics
        .all()
        .iter()
        .map(|t| NewTopic::new(t.as_str(), ct.partitions, TopicReplication::Fixed(ct.replication_factor)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin.create_topics(&new, &opts).await.map_err(TopicsError::Request)?;
    for r in results {
        match r {
            Ok(topic) => tracing::info!(topic = %topic, "Created topic."),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(TopicsError::Topic { topic, code }),
        }
    }
    Ok(())
}
