//! Kafka plumbing shared by the router, the dead-letter actor and (later) the sinks: client
//! configuration with the durability settings we never weaken, topic creation, the embedded
//! dev broker, record headers, and the classification of delivery errors.

mod breaker;
pub mod config;
pub mod connect;
pub mod embedded;
pub mod headers;
mod owned;
mod probe;
pub(crate) mod produce;
pub mod security;
mod stats;
pub mod topics;

pub use breaker::{Admission, Breaker, ProbeSlot};
pub use owned::OwnedProducer;
pub use probe::MetadataProbe;
pub use produce::{DeliveryError, DeliveryOutcome, Produced, produce_all};
pub use stats::{Producer, StatsContext};
pub use topics::ensure_topics;

use rdkafka::ClientConfig;

pub use config::{Bootstrap, CreateTopicsConfig, KafkaConfig, PropertyValue, TopicName, TopicsConfig};

/// `message.max.bytes` of the producer unless `kafka.properties` sets it: a default body
/// (`max_body_bytes`, 1 MiB) plus [`RECORD_HEADROOM`], so the dead letter of any body that passes
/// the size limit fits in one record. The topics pix-ingest creates get it as their
/// `max.message.bytes`.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024 + RECORD_HEADROOM;

/// Room kept in a record for its key and headers (reasons, trace, client certificate...) above
/// the bytes of an input, when sizing input limits against `message.max.bytes`.
pub const RECORD_HEADROOM: usize = 64 * 1024;

/// The producer configuration: the user's pass-through properties, then the settings that make an
/// acknowledgement mean "durable" (acks=all, idempotence), which always win.
pub fn producer_config(kafka: &KafkaConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base_config(kafka, bootstrap, client_id);
    c.set("message.max.bytes", DEFAULT_MAX_RECORD_BYTES.to_string());
    c.set("compression.type", "zstd");
    c.set("linger.ms", "5");
    c.set("queue.buffering.max.messages", "500000");
    c.set("statistics.interval.ms", "5000");
    for (k, v) in &kafka.properties {
        c.set(k, &v.0);
    }
    // Set after the pass-through on purpose: config validation refuses these keys, and even if a
    // future change forgot that, a user property can never weaken what a 2xx promises.
    c.set("acks", "all");
    c.set("enable.idempotence", "true");
    c.set("message.timeout.ms", kafka.delivery_timeout.as_millis().to_string());
    c
}

/// Configuration for admin and metadata clients.
pub fn admin_config(kafka: &KafkaConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base_config(kafka, bootstrap, client_id);
    for (k, v) in &kafka.properties {
        // Producer-only tuning would make an admin client log warnings; keep the connection ones.
        if is_connection_property(k) {
            c.set(k, &v.0);
        }
    }
    c
}

fn base_config(_kafka: &KafkaConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    c.set("client.id", client_id);
    c
}

/// The settings of a sink's consumer in group `group`: manual commits only (offsets move after the
/// write succeeded), offsets stored by us, earliest when the group has none, and the connection
/// properties of the cluster. Rebalances are cooperative (`cooperative-sticky`: a member joining
/// or leaving moves only the partitions that must move, the others keep being consumed), and with
/// `kafka.instance_id` the membership is static (`group.instance.id`): a consumer that comes back
/// under the same id gets its partitions back without waiting for the broker to expire the old
/// session. A static member does not leave the group when it closes, so its partitions wait for
/// it up to `session.timeout.ms` (librdkafka default 45 s) if it does not come back.
pub fn consumer_config(kafka: &KafkaConfig, bootstrap: &str, group: &str) -> ClientConfig {
    let mut c = base_config(kafka, bootstrap, group);
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("partition.assignment.strategy", "cooperative-sticky");
    if let Some(instance) = kafka.group_instance_id(group) {
        c.set("group.instance.id", instance);
    }
    for (k, v) in &kafka.properties {
        if is_connection_property(k) {
            c.set(k, &v.0);
        }
    }
    c
}

/// Properties that describe how to reach and authenticate to the cluster.
pub fn is_connection_property(key: &str) -> bool {
    key.starts_with("security.")
        || key.starts_with("sasl.")
        || key.starts_with("ssl.")
        || key.starts_with("socket.")
        || key.starts_with("broker.")
        || key == "client.rack"
        || key == "client.dns.lookup"
        || key == "enable.ssl.certificate.verification"
        || key == "https.ca.location"
        || key == "https.ca.pem"
}

/// `Producer::flush` blocks its thread; run it off the event loop.
pub async fn flush_blocking(producer: Producer, timeout: std::time::Duration) {
    use rdkafka::producer::Producer;
    let r = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
    match r {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "Producer flush did not complete."),
        Err(error) => tracing::warn!(%error, "Producer flush task failed."),
    }
}
