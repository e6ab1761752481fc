//! Reading back what the broker holds (and writing to it around the app), independently of the
//! app's own clients. Every test that looks into Kafka goes through here.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::harness::Topics;
use crate::wait::{holds, wait_until_blocking};

const TIMEOUT: Duration = Duration::from_secs(10);

fn consumer(bootstrap: &str, group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap()
}

/// The partitions of `topic` and how many records they hold (high - low watermark).
fn extent(consumer: &BaseConsumer, topic: &str) -> Result<(Vec<i32>, i64), String> {
    let md = consumer.fetch_metadata(Some(topic), TIMEOUT).map_err(|e| e.to_string())?;
    let partitions: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
    if partitions.is_empty() {
        return Err(format!("topic {topic} has no partitions yet"));
    }
    let mut records = 0i64;
    for p in &partitions {
        let (low, high) = consumer.fetch_watermarks(topic, *p, TIMEOUT).map_err(|e| e.to_string())?;
        records += high - low;
    }
    Ok((partitions, records))
}

/// Every record in `topic` (all partitions, from the beginning), read until the high watermarks
/// observed at call time are reached. Blocking: call through `spawn_blocking` from async code.
pub fn read_all(bootstrap: &str, topic: &str) -> Vec<OwnedMessage> {
    let consumer = consumer(bootstrap, "pix-ingest-it-reader");
    // A topic created a moment ago may still be electing leaders: retry transient metadata errors.
    let (partitions, expected) =
        wait_until_blocking(&format!("the metadata of {topic}"), Duration::from_secs(30), || extent(&consumer, topic));
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    wait_until_blocking(&format!("the {expected} records of {topic}"), Duration::from_secs(30), || {
        while (out.len() as i64) < expected {
            match consumer.poll(Duration::from_millis(200)) {
                Some(m) => out.push(m.unwrap().detach()),
                None => break,
            }
        }
        holds(out.len() as i64 >= expected, format!("read {} of {expected}", out.len()))
    });
    out
}

pub async fn read_all_async(bootstrap: &str, topic: &str) -> Vec<OwnedMessage> {
    let (b, t) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || read_all(&b, &t)).await.unwrap()
}

/// What the app published for a test: the events in the category topics and the dead letters.
#[derive(Debug)]
pub struct InKafka {
    /// event_id -> records carrying it, across the three category topics.
    pub events: BTreeMap<String, usize>,
    pub dead_letters: Vec<OwnedMessage>,
}

impl InKafka {
    /// Records in the category topics.
    pub fn published(&self) -> usize {
        self.events.values().sum()
    }
}

/// Reads the four topics of a test. Blocking: see `in_kafka_async`.
pub fn in_kafka(bootstrap: &str, topics: &Topics) -> InKafka {
    let mut events = BTreeMap::new();
    for topic in topics.categories() {
        for m in read_all(bootstrap, topic) {
            *events.entry(value_json(&m)["event_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    InKafka { events, dead_letters: read_all(bootstrap, &topics.dlq) }
}

pub async fn in_kafka_async(bootstrap: &str, topics: &Topics) -> InKafka {
    let (b, t) = (bootstrap.to_owned(), topics.clone());
    tokio::task::spawn_blocking(move || in_kafka(&b, &t)).await.unwrap()
}

/// Records of `topic` not yet committed by consumer group `group` (all partitions). Blocking.
pub fn group_lag(bootstrap: &str, group: &str, topic: &str) -> i64 {
    let c = consumer(bootstrap, group);
    let md = c.fetch_metadata(Some(topic), TIMEOUT).unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in md.topics()[0].partitions() {
        tpl.add_partition(topic, p.id());
    }
    let committed = c.committed_offsets(tpl, TIMEOUT).unwrap();
    let mut lag = 0;
    for e in committed.elements() {
        let (_, high) = c.fetch_watermarks(topic, e.partition(), TIMEOUT).unwrap();
        let at = match e.offset() {
            Offset::Offset(o) => o,
            _ => 0,
        };
        lag += high - at;
    }
    lag
}

/// Produces `payload` (no key) straight into `topic`, past the app; returns (partition, offset).
pub async fn produce_raw(bootstrap: &str, topic: &str, payload: &[u8]) -> (i32, i64) {
    produce_with_headers(bootstrap, topic, payload, &[]).await
}

/// [`produce_raw`] with record headers.
pub async fn produce_with_headers(
    bootstrap: &str,
    topic: &str,
    payload: &[u8],
    headers: &[(&str, &str)],
) -> (i32, i64) {
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let h = headers.iter().fold(rdkafka::message::OwnedHeaders::new(), |h, (key, v)| {
        h.insert(rdkafka::message::Header { key, value: Some(*v) })
    });
    let record = FutureRecord::<(), _>::to(topic).payload(payload).headers(h);
    let delivery = producer.send(record, TIMEOUT).await.unwrap();
    producer.flush(Duration::from_secs(5)).unwrap();
    (delivery.partition, delivery.offset)
}

/// Headers of a record as a map (string values).
pub fn headers(m: &OwnedMessage) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let Some(h) = m.headers() {
        for header in h.iter() {
            let v = header.value.map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
            out.insert(header.key.to_owned(), v);
        }
    }
    out
}

pub fn key(m: &OwnedMessage) -> String {
    String::from_utf8(m.key().unwrap_or_default().to_vec()).unwrap()
}

pub fn value_json(m: &OwnedMessage) -> serde_json::Value {
    serde_json::from_slice(m.payload().unwrap_or_default()).unwrap()
}
