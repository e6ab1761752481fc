//! Creating the topics pix-ingest needs on a real cluster, if they are missing, sized for the
//! producer's records, and checking the dead-letter topic's record size limit.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
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

/// Creates the four configured topics with the configured partitions and replication factor and
/// `max.message.bytes` = the producer's `message.max.bytes` (so what the producer sends, the
/// broker takes); topics that already exist are left as they are. Then compares the dead-letter
/// topic's `max.message.bytes` with the producer's limit and warns when it is smaller (dead
/// letters over it are then written truncated, see `dead_letter`).
pub async fn ensure_topics(kafka: &KafkaConfig, topics: &TopicsConfig, bootstrap: &str) -> Result<(), TopicsError> {
    let ct = &kafka.create_topics;
    let admin: AdminClient<DefaultClientContext> =
        admin_config(kafka, bootstrap, "pix-ingest-admin").create().map_err(TopicsError::Client)?;
    if ct.enabled {
        create(&admin, kafka, topics).await?;
    }
    check_dead_letter_limit(&admin, kafka, topics.dead_letter.as_str()).await;
    Ok(())
}

async fn create(
    admin: &AdminClient<DefaultClientContext>,
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
) -> Result<(), TopicsError> {
    let ct = &kafka.create_topics;
    let max = kafka.max_record_bytes().to_string();
    let new: Vec<NewTopic<'_>> = topics
        .all()
        .iter()
        .map(|t| {
            NewTopic::new(t.as_str(), ct.partitions, TopicReplication::Fixed(ct.replication_factor))
                .set("max.message.bytes", &max)
        })
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

/// Warns when the dead-letter topic takes smaller records than the producer sends.
async fn check_dead_letter_limit(admin: &AdminClient<DefaultClientContext>, kafka: &KafkaConfig, topic: &str) {
    let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let described = admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &opts).await;
    let limit = described.ok().and_then(|mut all| all.pop()).and_then(Result::ok).and_then(|r| {
        r.entries.iter().find(|e| e.name == "max.message.bytes").and_then(|e| e.value.as_deref()?.parse::<usize>().ok())
    });
    match limit {
        Some(topic_max) if topic_max < kafka.max_record_bytes() => tracing::warn!(
            topic,
            topic_max_message_bytes = topic_max,
            producer_message_max_bytes = kafka.max_record_bytes(),
            "The dead-letter topic takes smaller records than the producer sends: dead letters over its \
             max.message.bytes are written truncated (pix-dlq-truncated). Raise the topic's max.message.bytes."
        ),
        Some(_) => {}
        None => tracing::debug!(topic, "Could not read the dead-letter topic's max.message.bytes."),
    }
}
