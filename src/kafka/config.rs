//! The `kafka:` and `topics:` config sections: where the brokers are, librdkafka pass-through
//! properties, the delivery timeout, topic creation, and the topic of each category.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use pix_domain::Category;
use serde::{Deserialize, Deserializer, Serialize};

/// `kafka:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `embedded` (in-process, NON-DURABLE dev broker) or `host:port[,host:port...]`.
    /// Override: `PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS`.
    pub bootstrap_servers: Bootstrap,
    /// librdkafka properties passed through as is (`security.protocol`, `sasl.*`, `ssl.*`,
    /// `compression.type`, `linger.ms`, ...). Durability settings (`acks`,
    /// `enable.idempotence`) and timeouts with a dedicated field cannot be weakened here.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// How long the producer may try to deliver a record before giving up (librdkafka
    /// `message.timeout.ms`). Must be shorter than every HTTP source's `request_timeout`, so that a
    /// 503 answer means the record was not acknowledged.
    #[serde(default = "default_delivery_timeout", with = "humantime_serde")]
    pub delivery_timeout: Duration,
    /// Topic creation at start.
    #[serde(default)]
    pub create_topics: CreateTopicsConfig,
    /// How long the start waits for the cluster to answer (metadata request, after TLS and SASL)
    /// before it fails, naming the broker and the cause (auth failed, TLS, refused, DNS).
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// This instance's stable name, for static consumer-group membership: every sink's consumer
    /// joins with `group.instance.id` = `pix-ingest.<sink id>.<instance_id>`, so a restarted or
    /// crashed sink takes its partitions back at once instead of after the broker's session
    /// timeout. Must be unique among running instances and the same across restarts (a pod name of
    /// a StatefulSet, `${HOSTNAME}`); unset or empty: dynamic membership. Override:
    /// `PIX_INGEST_KAFKA_INSTANCE_ID`. Ignored with the embedded broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// librdkafka properties that have a dedicated field or that would weaken durability.
const GUARDED_PROPERTIES: &[(&str, &str)] = &[
    ("bootstrap.servers", "set kafka.bootstrap_servers instead"),
    ("metadata.broker.list", "set kafka.bootstrap_servers instead"),
    ("acks", "pix-ingest always produces with acks=all"),
    ("request.required.acks", "pix-ingest always produces with acks=all"),
    ("enable.idempotence", "pix-ingest always uses the idempotent producer"),
    ("message.timeout.ms", "set kafka.delivery_timeout instead"),
    ("delivery.timeout.ms", "set kafka.delivery_timeout instead"),
    ("transactional.id", "transactions are not used by the source side"),
];

impl KafkaConfig {
    /// The largest record the producer sends: `properties.message.max.bytes`, else
    /// [`super::DEFAULT_MAX_RECORD_BYTES`].
    pub fn max_record_bytes(&self) -> usize {
        self.properties
            .get("message.max.bytes")
            .and_then(|v| v.0.trim().parse().ok())
            .unwrap_or(super::DEFAULT_MAX_RECORD_BYTES)
    }

    /// Field problems, as (field path below `kafka.`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for key in self.properties.keys() {
            if let Some((_, why)) = GUARDED_PROPERTIES.iter().find(|(k, _)| k == key) {
                out.push((format!("properties.{key}"), format!("cannot be set here: {why}")));
            }
        }
        if self.delivery_timeout < Duration::from_millis(500) {
            out.push(("delivery_timeout".into(), "expected at least 500ms".into()));
        }
        if self.connect_timeout < Duration::from_secs(1) || self.connect_timeout > Duration::from_secs(300) {
            out.push(("connect_timeout".into(), "expected 1s to 5m".into()));
        }
        if !out.iter().any(|(f, _)| f.starts_with("properties.")) {
            out.extend(super::security::property_problems(self));
        }
        if let Some(id) = &self.instance_id
            && let Err(e) = check_instance_id(id)
        {
            out.push(("instance_id".into(), e.0));
        }
        if self.create_topics.partitions < 1 {
            out.push(("create_topics.partitions".into(), "expected a positive number".into()));
        }
        if self.create_topics.replication_factor < 1 {
            out.push(("create_topics.replication_factor".into(), "expected a positive number".into()));
        }
        out
    }
}

/// An instance id: empty (no static membership) or 1-200 of `[A-Za-z0-9._-]`.
pub fn check_instance_id(id: &str) -> Result<(), InvalidValue> {
    let ok = id.len() <= 200 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(InvalidValue(format!("`{id}` is not an instance id: expected up to 200 of [A-Za-z0-9._-]")))
    }
}

impl KafkaConfig {
    /// The `group.instance.id` of a consumer in `group`, when static membership is on.
    pub fn group_instance_id(&self, group: &str) -> Option<String> {
        let id = self.instance_id.as_deref().filter(|s| !s.is_empty())?;
        (self.bootstrap_servers != Bootstrap::Embedded).then(|| format!("{group}.{id}"))
    }
}

const fn default_connect_timeout() -> Duration {
    Duration::from_secs(15)
}

const fn default_delivery_timeout() -> Duration {
    Duration::from_secs(10)
}

/// A value that does not parse, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

/// Where the brokers are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Bootstrap {
    /// librdkafka's in-process mock cluster: loses everything at exit; for a first look only.
    Embedded,
    /// A real cluster: comma-separated `host:port` list.
    Brokers(String),
}

impl From<Bootstrap> for String {
    fn from(b: Bootstrap) -> String {
        match b {
            Bootstrap::Embedded => "embedded".into(),
            Bootstrap::Brokers(s) => s,
        }
    }
}

impl Bootstrap {
    /// Parses `embedded` or a broker list; the list is checked for `host:port` shape.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s == "embedded" {
            return Ok(Self::Embedded);
        }
        if s.is_empty() {
            return Err(InvalidValue("expected `embedded` or a list `host:port[,host:port...]`".into()));
        }
        for part in s.split(',') {
            let part = part.trim();
            let ok = part.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(InvalidValue(format!(
                    "`{part}` is not `host:port`; expected `embedded` or `host:port[,host:port...]`"
                )));
            }
        }
        Ok(Self::Brokers(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Bootstrap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A librdkafka property value: YAML strings, numbers and booleans are all passed as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct PropertyValue(pub String);

impl From<PropertyValue> for String {
    fn from(v: PropertyValue) -> String {
        v.0
    }
}

impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PropertyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(PropertyValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `kafka.create_topics:` — create missing topics at start (existing ones are left alone).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTopicsConfig {
    /// Create the four topics if they are missing.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Partitions of a created topic.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Replication factor of a created topic (3 in production; 1 for a single-node broker).
    #[serde(default = "default_replication")]
    pub replication_factor: i32,
}

const fn default_true() -> bool {
    true
}
const fn default_partitions() -> i32 {
    6
}
const fn default_replication() -> i32 {
    1
}

impl Default for CreateTopicsConfig {
    fn default() -> Self {
        Self { enabled: true, partitions: default_partitions(), replication_factor: default_replication() }
    }
}

/// `topics:` — the topic of each category and the dead-letter topic.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsConfig {
    /// Payments we send (OUTBOUND transfers and their statuses).
    #[serde(default = "default_payment")]
    pub payment: TopicName,
    /// Receipts (INBOUND transfers and their statuses).
    #[serde(default = "default_receipt")]
    pub receipt: TopicName,
    /// Refunds / devoluções, both directions.
    #[serde(default = "default_refund")]
    pub refund: TopicName,
    /// Fraud reports: DICT infraction reports and MED refund requests (schema `fraud_report` v1).
    #[serde(default = "default_fraud_report")]
    pub fraud_report: TopicName,
    /// Dead letters: invalid or undeliverable records with their reason and original bytes.
    #[serde(default = "default_dead_letter")]
    pub dead_letter: TopicName,
}

fn default_payment() -> TopicName {
    TopicName("pix.pagamentos".into())
}
fn default_receipt() -> TopicName {
    TopicName("pix.recebimentos".into())
}
fn default_refund() -> TopicName {
    TopicName("pix.estornos".into())
}
fn default_fraud_report() -> TopicName {
    TopicName("pix.infracoes".into())
}
fn default_dead_letter() -> TopicName {
    TopicName("pix.dlq".into())
}

impl Default for TopicsConfig {
    fn default() -> Self {
        Self {
            payment: default_payment(),
            receipt: default_receipt(),
            refund: default_refund(),
            fraud_report: default_fraud_report(),
            dead_letter: default_dead_letter(),
        }
    }
}

impl TopicsConfig {
    /// All five topic names.
    pub fn all(&self) -> [&TopicName; 5] {
        [&self.payment, &self.receipt, &self.refund, &self.fraud_report, &self.dead_letter]
    }

    /// The topic of a category.
    pub fn of(&self, category: Category) -> &TopicName {
        match category {
            Category::Payment => &self.payment,
            Category::Receipt => &self.receipt,
            Category::Refund => &self.refund,
            Category::FraudReport => &self.fraud_report,
        }
    }

    /// Field problems, as (field path below `topics.`, message): one topic per role.
    pub fn problems(&self) -> Vec<(String, String)> {
        let named = [
            ("payment", &self.payment),
            ("receipt", &self.receipt),
            ("refund", &self.refund),
            ("fraud_report", &self.fraud_report),
            ("dead_letter", &self.dead_letter),
        ];
        let mut seen = std::collections::HashSet::new();
        named
            .iter()
            .filter(|(_, topic)| !seen.insert(topic.as_str()))
            .map(|(name, topic)| ((*name).to_owned(), format!("`{topic}` is used for two categories")))
            .collect()
    }
}

/// A legal Kafka topic name (`[a-zA-Z0-9._-]{1,249}`, not `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct TopicName(String);

impl TopicName {
    /// Validates a topic name.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = !s.is_empty()
            && s.len() <= 249
            && s != "."
            && s != ".."
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue(format!("`{s}` is not a Kafka topic name: expected 1-249 of [a-zA-Z0-9._-]")))
        }
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<TopicName> for String {
    fn from(t: TopicName) -> String {
        t.0
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TopicName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka(yaml: &str) -> KafkaConfig {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn static_membership_only_with_an_instance_id_and_a_real_cluster() {
        let on = kafka("bootstrap_servers: b:9092\ninstance_id: pod-0\n");
        assert_eq!(on.group_instance_id("pix-ingest.lake").as_deref(), Some("pix-ingest.lake.pod-0"));
        assert!(on.problems().is_empty());
        assert_eq!(kafka("bootstrap_servers: b:9092\ninstance_id: ''\n").group_instance_id("g"), None);
        assert_eq!(kafka("bootstrap_servers: b:9092\n").group_instance_id("g"), None);
        assert_eq!(kafka("bootstrap_servers: embedded\ninstance_id: pod-0\n").group_instance_id("g"), None);
        let bad = kafka("bootstrap_servers: b:9092\ninstance_id: 'pod 0/x'\n");
        assert_eq!(bad.problems().first().map(|p| p.0.as_str()), Some("instance_id"));
    }
}
