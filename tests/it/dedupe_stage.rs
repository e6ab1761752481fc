//! The dedupe stage against the real broker: the category topics hold every copy, the clean
//! topics (read `read_committed`) hold each event id once per category, also after the stage
//! restarts (its state comes back from the changelog) and after a rebalance between two
//! instances. The HTTP index of acknowledged ids is off, so every copy reaches Kafka.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::{TestApp, send_copies};
use crate::kafka::{group_lag, value_json};
use crate::wait::{holds, wait_until_blocking};

/// event_id -> committed records in `topic`, read with `read_committed` to the end.
fn committed(bootstrap: &str, topic: &str) -> BTreeMap<String, usize> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "pix-ingest-it-committed")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let md = c.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
    let parts: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
    let mut tpl = TopicPartitionList::new();
    for p in &parts {
        tpl.add_partition_offset(topic, *p, Offset::Beginning).unwrap();
    }
    c.assign(&tpl).unwrap();
    let (mut left, mut out) = (parts.len(), BTreeMap::new());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while left > 0 && std::time::Instant::now() < deadline {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                *out.entry(value_json(&m.detach())["event_id"].as_str().unwrap().to_owned()).or_default() += 1
            }
            Some(Err(KafkaError::PartitionEOF(_))) => left -= 1,
            _ => {}
        }
    }
    out
}

fn stage(transactional_id: &str) -> serde_json::Value {
    json!({ "id": "clean", "type": "dedupe", "transactional_id": transactional_id,
            "batch": { "max_events": 25, "max_age": "200ms" } })
}

#[actix_rt::test]
async fn the_clean_topics_hold_each_event_id_once_across_restarts_and_rebalances() {
    let base = ConfigBuilder::for_test("stage").duplicates_window(Duration::ZERO);
    let (a, b) = (base.clone().sink(stage("it-stage-a")), base.clone().sink(stage("it-stage-b")));
    let first = TestApp::start_with(&a).await;
    let second = TestApp::start_with(&b).await; // same group: the partitions are split
    let batch = fixtures::mixed(20);
    let single = fixtures::payment(&fixtures::e2e(OWN));
    // The restarted stage's ids come back from its changelog.
    let restarted = send_copies(first, second, &a, &batch, &single).await;
    let info = restarted.child("clean").await;
    assert_eq!((info.kind, info.r#type), ("sink", "dedupe"), "a supervised actor like any sink");

    let (bs, topics) = (a.bootstrap.clone(), a.topics.clone());
    tokio::task::spawn_blocking(move || {
        wait_until_blocking("the stage to commit every record", Duration::from_secs(120), || {
            let lag: i64 =
                [&topics.payment, &topics.receipt].iter().map(|t| group_lag(&bs, "pix-ingest.clean", t)).sum();
            holds(lag == 0, lag)
        });
        let raw: usize = committed(&bs, &topics.payment).values().sum::<usize>()
            + committed(&bs, &topics.receipt).values().sum::<usize>();
        assert_eq!(raw, 2 + 20 * 6, "every copy is in the category topics");
        let mut clean = committed(&bs, &format!("{}.unique", topics.payment));
        clean.extend(committed(&bs, &format!("{}.unique", topics.receipt)));
        assert_eq!(clean.len(), 21, "{clean:?}");
        assert!(clean.values().all(|n| *n == 1), "each event id once: {clean:?}");
    })
    .await
    .unwrap();
    restarted.stop().await;
}
