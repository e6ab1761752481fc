//! The dedupe stage's topics: the clean topic of each input topic (`<topic><suffix>`, as many
//! partitions as the input, so partition `p` of both hold the same events) and its changelog
//! (`pix-ingest.<stage id>.<topic>.changelog`: key = event id, value = its event date, compacted
//! and deleted past the window), and the read-back of a partition's ids from its changelog.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::kafka::{KafkaConfig, admin_config, is_connection_property};

/// How long a metadata or admin round trip may take.
const ROUND_TRIP: Duration = Duration::from_secs(30);

/// The changelog topic of input `topic` for stage `id`.
pub(super) fn changelog_topic(id: &str, topic: &str) -> String {
    format!("pix-ingest.{id}.{topic}.changelog")
}

/// The partitions of `topic`.
pub(super) fn partitions(kafka: &KafkaConfig, bootstrap: &str, topic: &str) -> Result<i32, KafkaError> {
    let c: BaseConsumer = admin_config(kafka, bootstrap, "pix-ingest-dedupe-meta").create()?;
    let md = c.fetch_metadata(Some(topic), ROUND_TRIP)?;
    let n = md.topics().first().map_or(0, |t| t.partitions().len());
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Creates the clean topic and the changelog of one input topic when they are missing.
pub(super) async fn ensure(
    kafka: &KafkaConfig,
    bootstrap: &str,
    clean: &str,
    changelog: &str,
    partitions: i32,
    window: Duration,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> =
        admin_config(kafka, bootstrap, "pix-ingest-dedupe-admin").create()?;
    let rf = || TopicReplication::Fixed(kafka.create_topics.replication_factor);
    let retention = window.as_millis().to_string();
    let new = [
        NewTopic::new(clean, partitions, rf()),
        NewTopic::new(changelog, partitions, rf())
            .set("cleanup.policy", "compact,delete")
            .set("retention.ms", &retention),
    ];
    let opts = AdminOptions::new().operation_timeout(Some(ROUND_TRIP));
    for outcome in admin.create_topics(&new, &opts).await? {
        match outcome {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(KafkaError::AdminOp(code)),
        }
    }
    Ok(())
}

/// Every `(event id, date)` the changelog holds for `partitions`, read (committed only) to its end.
/// Blocking: runs on the stage's own thread.
pub(super) fn read_back(
    kafka: &KafkaConfig,
    bootstrap: &str,
    changelog: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, Vec<(String, String)>>, KafkaError> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", bootstrap)
        .set("group.id", "pix-ingest-dedupe-restore")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true");
    for (k, v) in &kafka.properties {
        if is_connection_property(k) {
            cfg.set(k, &v.0);
        }
    }
    let consumer: BaseConsumer = cfg.create()?;
    let mut tpl = TopicPartitionList::new();
    let mut todo = Vec::new();
    for p in partitions {
        let (low, high) = consumer.fetch_watermarks(changelog, *p, ROUND_TRIP)?;
        if high > low {
            tpl.add_partition_offset(changelog, *p, Offset::Beginning)?;
            todo.push(*p);
        }
    }
    let mut out: HashMap<i32, Vec<(String, String)>> = HashMap::new();
    if todo.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    while !todo.is_empty() && std::time::Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                if let (Some(k), Some(v)) = (m.key(), m.payload()) {
                    let (k, v) = (String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned());
                    out.entry(m.partition()).or_default().push((k, v));
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => todo.retain(|x| *x != p),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    if todo.is_empty() { Ok(out) } else { Err(KafkaError::Canceled) }
}
