//! Each event id once in the Delta table whatever the copies in Kafka: the same event twice, the
//! same batch twice, a copy after a consumer rebalance between two instances and after a restart
//! of the sink, and a batch retried after a 503 while the broker was frozen. The HTTP index of
//! acknowledged ids is off in the first test (`duplicates.window: 0s`), so every copy reaches
//! Kafka and only the sink stands between them and the table. Read back with Python's deltalake.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::config_builder::ConfigBuilder;
use crate::delta::{lake, table_rows};
use crate::fixtures::{self, OWN};
use crate::harness::{TestApp, Topics, repo, send_copies, unique};
use crate::kafka::{group_lag, in_kafka};
use crate::wait::{holds, wait_until_blocking};

/// Waits until the sink `lake` committed everything in the category topics, then returns the
/// table's rows per event id.
fn settled_rows(bootstrap: &str, topics: &Topics, table: &Path) -> std::collections::BTreeMap<String, usize> {
    wait_until_blocking("the sink to commit every record", Duration::from_secs(120), || {
        let lag: i64 = topics.categories().iter().map(|t| group_lag(bootstrap, "pix-ingest.lake", t)).sum();
        holds(lag == 0, lag)
    });
    table_rows(table)
}

fn ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}",
                e["end_to_end_id"].as_str().unwrap(),
                e["event_type"].as_str().unwrap(),
                e["status"].as_str().unwrap()
            )
        })
        .collect()
}

#[actix_rt::test]
async fn delta_holds_each_event_id_once_across_copies_rebalances_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("pix_events");
    let config = ConfigBuilder::for_test("delta-dedupe").duplicates_window(Duration::ZERO).sink(lake(&table, None, 25));
    let first = TestApp::start_with(&config).await;
    let second = TestApp::start_with(&config).await; // same group: the partitions are split
    let batch = fixtures::mixed(20);
    let single = fixtures::payment(&fixtures::e2e(OWN));
    // The restarted sink's ids come back from the table.
    let restarted = send_copies(first, second, &config, &batch, &single).await;

    let (b, topics, tab) = (config.bootstrap.clone(), config.topics.clone(), table.clone());
    let mut expected = ids(&batch);
    expected.extend(ids(std::slice::from_ref(&single)));
    tokio::task::spawn_blocking(move || {
        let copies = in_kafka(&b, &topics).events.values().sum::<usize>();
        assert_eq!(copies, 2 + 20 * 6, "every copy is in Kafka");
        let rows = settled_rows(&b, &topics, &tab);
        assert_eq!(rows.keys().cloned().collect::<BTreeSet<_>>(), expected);
        assert!(rows.values().all(|n| *n == 1), "each event id once: {rows:?}");
    })
    .await
    .unwrap();
    restarted.stop().await;
}

fn kafka_script(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/kafka")).args(args).output().expect("scripts/kafka");
    assert!(out.status.success(), "scripts/kafka {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn signal(dir: &Path, sig: &str) {
    let pid = std::fs::read_to_string(dir.join("pid")).unwrap();
    assert!(Command::new("kill").args([sig, pid.trim()]).status().unwrap().success());
}

#[actix_rt::test]
async fn a_batch_retried_after_a_503_is_in_the_table_once() {
    let dir = tempfile::tempdir().unwrap();
    let broker = dir.path().join("broker");
    let bootstrap = kafka_script(&["start", broker.to_str().unwrap()]);
    let table = dir.path().join("pix_events");
    let config = ConfigBuilder::new(&bootstrap, Topics::new(&unique("delta-503")))
        .delivery_timeout(Duration::from_secs(2))
        .api_request_timeout(Duration::from_secs(4))
        .sink(lake(&table, None, 25));
    let t = TestApp::start_with(&config).await;
    let batch = fixtures::mixed(20);
    // Frozen, not dead: what was on the wire may still land after it thaws, so Kafka may hold a
    // copy of records the client was told were not acknowledged.
    signal(&broker, "-STOP");
    let r = t.post_events(&batch).await;
    signal(&broker, "-CONT");
    assert_eq!(r.status, 503, "{}", r.json);
    assert_eq!(r.json["accepted"], 0, "{}", r.json);
    // The client retries until it is told the records are durable.
    let mut answer = None;
    for _ in 0..60 {
        let r = t.post_events(&batch).await;
        if r.status == 200 {
            answer = Some(r);
            break;
        }
        assert_eq!(r.status, 503, "{}", r.json);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answer = answer.expect("a retry is acknowledged once the broker is back");
    assert_eq!(answer.json["accepted"].as_u64().unwrap() + answer.json["duplicate"].as_u64().unwrap(), 20);

    let (topics, tab, expected) = (config.topics.clone(), table.clone(), ids(&batch));
    let b = bootstrap.clone();
    tokio::task::spawn_blocking(move || {
        let copies = in_kafka(&b, &topics).events.values().sum::<usize>();
        eprintln!("copies of the 20 events in Kafka after the 503 and the retry: {copies}");
        let rows = settled_rows(&b, &topics, &tab);
        assert_eq!(rows.keys().cloned().collect::<BTreeSet<_>>(), expected);
        assert!(rows.values().all(|n| *n == 1), "each event id once: {rows:?}");
    })
    .await
    .unwrap();
    t.stop().await;
    kafka_script(&["stop", broker.to_str().unwrap()]);
}
