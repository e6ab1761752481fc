//! The Delta sink against the real broker, read back by an independent reader (the Python
//! `deltalake` package): exactly the accepted events, no duplicates, also after the service is
//! killed with -9 mid-stream and restarted, and after a consumer rebalance between two instances.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::fixtures::{self, OTHER, OWN};
use crate::harness::{TestApp, Topics, bootstrap, config_yaml, unique};
use crate::kafka::{read_all, value_json};

use crate::service::{sigterm, spawn, wait_until};
const SALT: &str = "a-test-salt-of-32-bytes-or-more!";

/// event_id -> number of rows, read by Python's deltalake (not our code). The reader runs while
/// the service may be committing; a reader process that fails is tried again (3 times).
fn table_rows(uri: &Path) -> BTreeMap<String, usize> {
    let mut last = String::new();
    for _ in 0..3 {
        match try_table_rows(uri) {
            Ok(rows) => return rows,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("python deltalake reader: {last}");
}

fn try_table_rows(uri: &Path) -> Result<BTreeMap<String, usize>, String> {
    if !uri.join("_delta_log").exists() {
        return Ok(BTreeMap::new());
    }
    // os._exit: the deltalake wheel can abort in interpreter teardown after a correct read
    // ("terminate called without an active exception"); the answer is already printed by then.
    let script = "import os, sys, json, deltalake\n\
                  t = deltalake.DeltaTable(sys.argv[1])\n\
                  print(json.dumps(t.to_pyarrow_table(columns=['event_id']).column('event_id').to_pylist()), flush=True)\n\
                  os._exit(0)";
    let out = Command::new("python3").args(["-c", script]).arg(uri).output().expect("python3");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let ids: Vec<String> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let mut counts = BTreeMap::new();
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    Ok(counts)
}

/// event_id -> records across the three category topics.
fn kafka_events(b: &str, t: &Topics) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for topic in [&t.payment, &t.receipt, &t.refund] {
        for m in read_all(b, topic) {
            *counts.entry(value_json(&m)["event_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    counts
}

fn config(b: &str, t: &Topics, table: &Path, with_generator: bool) -> String {
    let generator = if with_generator {
        "sources:\n  - { id: synth, type: generator, rate: 400, batch: 20, invalid_ratio: 0.05, total: 800, seed: 3 }\n"
    } else {
        ""
    };
    format!(
        "kafka:\n  bootstrap_servers: \"{b}\"\n  create_topics: {{ partitions: 3, replication_factor: 1 }}\n\
         topics: {{ payment: {}, receipt: {}, refund: {}, dead_letter: {} }}\n\
         pix: {{ own_ispbs: [\"{OWN}\"] }}\n{generator}\
         sinks:\n  - {{ id: lake, type: delta, table_uri: \"{}\", pii_salt: \"{SALT}\", checkpoint_interval: 5, batch: {{ max_events: 40, max_age: 200ms }} }}\n\
         telemetry: {{ log_format: json, log_level: info }}\nadmin: {{ listen: \"127.0.0.1:0\" }}\n",
        t.payment,
        t.receipt,
        t.refund,
        t.dlq,
        table.display()
    )
}

#[test]
fn delta_holds_exactly_the_accepted_events_after_a_kill_9_mid_stream() {
    let b = bootstrap();
    let topics = Topics::new(&unique("delta-kill"));
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("pix_events");
    let (with_gen, without) = (dir.path().join("run1.yaml"), dir.path().join("run2.yaml"));
    std::fs::write(&with_gen, config(&b, &topics, &table, true)).unwrap();
    std::fs::write(&without, config(&b, &topics, &table, false)).unwrap();
    let log = dir.path().join("service.log");

    let mut child = spawn(&with_gen, &log);
    wait_until("rows in the table", Duration::from_secs(90), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
        table_rows(&table).len() >= 100
    });
    child.kill().unwrap(); // SIGKILL while the generator and the sink are busy
    child.wait().unwrap();

    // Restart without the generator: the sink resumes from the table's own offsets.
    let mut child = spawn(&without, &log);
    let expected = kafka_events(&b, &topics);
    assert!(expected.len() >= 100);
    wait_until("the table to catch up with Kafka", Duration::from_secs(90), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap_or_default());
        table_rows(&table).values().sum::<usize>() >= expected.values().sum::<usize>()
    });
    let rows = table_rows(&table);
    assert!(rows.values().all(|n| *n == 1), "no duplicates");
    assert_eq!(rows, expected, "exactly the accepted events");
    assert!(sigterm(&mut child).success());
}

#[actix_rt::test]
async fn delta_holds_each_event_once_across_a_consumer_rebalance() {
    let b = bootstrap();
    let topics = Topics::new(&unique("delta-rebalance"));
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("pix_events");
    let sink = format!(
        "  - {{ id: lake, type: delta, table_uri: \"{}\", pii_salt: \"{SALT}\", batch: {{ max_events: 25, max_age: 200ms }} }}",
        table.display()
    );
    let yaml = config_yaml(&b, &topics, "", "").replace("telemetry:", &format!("sinks:\n{sink}\ntelemetry:"));
    let first = TestApp::start_yaml(&b, topics.clone(), &yaml).await;
    let second = TestApp::start_yaml(&b, topics.clone(), &yaml).await; // same group: partitions are split
    let post = async |t: &TestApp, n: usize| {
        for _ in 0..n {
            let events: Vec<_> = (0..20)
                .map(|i| {
                    if i % 2 == 0 {
                        fixtures::payment(&fixtures::e2e(OWN))
                    } else {
                        fixtures::receipt(&fixtures::e2e(OTHER))
                    }
                })
                .collect();
            assert_eq!(t.post("application/json", serde_json::json!(events).to_string()).await.status, 200);
        }
    };
    post(&first, 5).await;
    second.stop().await; // leaves the group: a rebalance moves its partitions to `first`
    post(&first, 5).await;

    let (b2, t2, tab) = (b.clone(), topics.clone(), table.clone());
    tokio::task::spawn_blocking(move || {
        let expected = kafka_events(&b2, &t2);
        assert_eq!(expected.values().sum::<usize>(), 200);
        wait_until("all 200 events in the table", Duration::from_secs(90), || {
            table_rows(&tab).values().sum::<usize>() >= 200
        });
        let rows = table_rows(&tab);
        assert!(rows.values().all(|n| *n == 1), "no duplicates");
        assert_eq!(rows, expected);
    })
    .await
    .unwrap();
    first.stop().await;
}
