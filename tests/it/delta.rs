//! The Delta sink against the real broker, read back by an independent reader (the Python
//! `deltalake` package): exactly the accepted events, no duplicates, also after the service is
//! killed with -9 mid-stream and restarted, and after a consumer rebalance between two instances.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::fixtures;
use crate::harness::{LogFormat, TestApp};
use crate::kafka::in_kafka;
use crate::service::{self, sigterm};
use crate::wait::{holds, wait_until_blocking};

const SALT: &str = "a-test-salt-of-32-bytes-or-more!";

/// event_id -> number of rows, read by Python's deltalake (not our code).
pub(crate) fn table_rows(uri: &Path) -> BTreeMap<String, usize> {
    if !uri.join("_delta_log").exists() {
        return BTreeMap::new();
    }
    let script = "t = deltalake.DeltaTable(sys.argv[1])\n\
                  out = t.to_pyarrow_table(columns=['event_id']).column('event_id').to_pylist()";
    let ids: Vec<String> = serde_json::from_value(python_reader(script, &[uri])).unwrap();
    let mut counts = BTreeMap::new();
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// Runs `body` (Python with `os`, `sys`, `json` and `deltalake` imported, `sys.argv[1..]` = `args`,
/// leaving its answer in `out`) and returns `out` as JSON. The reader runs while the service may
/// be committing; a reader process that fails is tried again (3 times).
pub(crate) fn python_reader(body: &str, args: &[&Path]) -> Value {
    // os._exit: the deltalake wheel can abort in interpreter teardown after a correct read
    // ("terminate called without an active exception"); the answer is already printed by then.
    let script = format!(
        "import os, sys, json, deltalake\n{body}\nprint(json.dumps(out, default=str), flush=True)\nos._exit(0)"
    );
    let mut last = String::new();
    for _ in 0..3 {
        let out = Command::new("python3").arg("-c").arg(&script).args(args).output().expect("python3");
        if !out.status.success() {
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        } else {
            match serde_json::from_slice(&out.stdout) {
                Ok(v) => return v,
                Err(e) => last = e.to_string(),
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("python deltalake reader: {last}");
}

/// The Delta sink `lake` writing to `table`.
pub(crate) fn lake(table: &Path, checkpoint_interval: Option<u32>, max_events: u32) -> Value {
    let mut sink = json!({
        "id": "lake", "type": "delta", "table_uri": table, "pii_salt": SALT,
        "batch": { "max_events": max_events, "max_age": "200ms" }
    });
    if let Some(n) = checkpoint_interval {
        sink["checkpoint_interval"] = json!(n);
    }
    sink
}

#[test]
fn delta_holds_exactly_the_accepted_events_after_a_kill_9_mid_stream() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("pix_events");
    // A consumer group of this test alone, joined as a static member: the restarted process takes
    // the killed one's place at once instead of waiting out its 45 s session, and no other test's
    // join waits on the dead member.
    let mut sink = lake(&table, Some(5), 40);
    sink["id"] = json!(format!("lake-kill-{}", std::process::id()));
    let without = ConfigBuilder::for_test("delta-kill").without_api().sink(sink).log(LogFormat::Json, "info");
    let instance = format!("it-{}", std::process::id());
    let spawn =
        |config: &Path, log: &Path| service::spawn_with(config, &[("PIX_INGEST_KAFKA_INSTANCE_ID", &instance)], log);
    let generator = json!({
        "id": "synth", "type": "generator", "rate": 400, "batch": 20, "invalid_ratio": 0.05, "total": 800, "seed": 3
    });
    let with_gen = without.clone().source(generator).write(&dir.path().join("run1.yaml"));
    let (b, topics) = (without.bootstrap.clone(), without.topics.clone());
    let without = without.write(&dir.path().join("run2.yaml"));
    let log = dir.path().join("service.log");

    let mut child = spawn(&with_gen, &log);
    wait_until_blocking("rows in the table", Duration::from_secs(90), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
        let rows = table_rows(&table).len();
        holds(rows >= 100, rows)
    });
    child.kill().unwrap(); // SIGKILL while the generator and the sink are busy
    child.wait().unwrap();

    // Restart without the generator: the sink resumes from the table's own offsets.
    let mut child = spawn(&without, &log);
    let expected = in_kafka(&b, &topics).events;
    assert!(expected.len() >= 100);
    let want = expected.values().sum::<usize>();
    wait_until_blocking("the table to catch up with Kafka", Duration::from_secs(90), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
        let rows = table_rows(&table).values().sum::<usize>();
        holds(rows >= want, format!("{rows} of {want} rows"))
    });
    let rows = table_rows(&table);
    assert!(rows.values().all(|n| *n == 1), "no duplicates");
    assert_eq!(rows, expected, "exactly the accepted events");
    assert!(sigterm(&mut child).success());
}

#[actix_rt::test]
async fn delta_holds_each_event_once_across_a_consumer_rebalance() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("pix_events");
    let config = ConfigBuilder::for_test("delta-rebalance").sink(lake(&table, None, 25));
    let first = TestApp::start_with(&config).await;
    let second = TestApp::start_with(&config).await; // same group: partitions are split
    let post = async |t: &TestApp, n: usize| {
        for _ in 0..n {
            assert_eq!(t.post_events(&fixtures::mixed(20)).await.status, 200);
        }
    };
    post(&first, 5).await;
    second.stop().await; // leaves the group: a rebalance moves its partitions to `first`
    post(&first, 5).await;

    let (b, topics, tab) = (config.bootstrap.clone(), config.topics.clone(), table.clone());
    tokio::task::spawn_blocking(move || {
        let expected = in_kafka(&b, &topics).events;
        assert_eq!(expected.values().sum::<usize>(), 200);
        wait_until_blocking("all 200 events in the table", Duration::from_secs(90), || {
            let rows = table_rows(&tab).values().sum::<usize>();
            holds(rows >= 200, rows)
        });
        let rows = table_rows(&tab);
        assert!(rows.values().all(|n| *n == 1), "no duplicates");
        assert_eq!(rows, expected);
    })
    .await
    .unwrap();
    first.stop().await;
}
