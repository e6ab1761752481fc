//! Reading back what the broker holds, independently of the app's own clients.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Every record in `topic` (all partitions, from the beginning), read until the high watermarks
/// observed at call time are reached. Blocking: call through `spawn_blocking`.
pub fn read_all(bootstrap: &str, topic: &str) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "pix-ingest-it-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    // A topic created a moment ago may still be electing leaders: retry transient metadata errors.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (partitions, expected) = loop {
        let attempt = || -> Result<(Vec<i32>, i64), String> {
            let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).map_err(|e| e.to_string())?;
            let partitions: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
            if partitions.is_empty() {
                return Err(format!("topic {topic} has no partitions yet"));
            }
            let mut expected = 0i64;
            for p in &partitions {
                let (low, high) =
                    consumer.fetch_watermarks(topic, *p, Duration::from_secs(10)).map_err(|e| e.to_string())?;
                expected += high - low;
            }
            Ok((partitions, expected))
        };
        match attempt() {
            Ok(v) => break v,
            Err(e) => assert!(Instant::now() < deadline, "metadata of {topic}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        tpl.add_partition_offset(topic, *p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (out.len() as i64) < expected {
        assert!(Instant::now() < deadline, "read {} of {expected} records of {topic}", out.len());
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            out.push(m.unwrap().detach());
        }
    }
    out
}

pub async fn read_all_async(bootstrap: &str, topic: &str) -> Vec<OwnedMessage> {
    let (b, t) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || read_all(&b, &t)).await.unwrap()
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
