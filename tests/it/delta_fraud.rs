//! The fraud reports table against the real broker: every DICT infraction report and MED refund
//! example of the repository (`crates/pix-domain/tests/data/bcb-dict-api/`), posted to a
//! `dict_xml` source, lands exactly once in the table of a delta sink with
//! `topics: [fraud_report]`, partitioned by report date, and joins with the payment it labels
//! (ingested into an events table by a second delta sink) on `end_to_end_id`. Read back by an
//! independent reader, Python's `deltalake`. The examples repeat event ids (a report's id is its
//! kind, id and status): a fraud reports table is exactly once by Kafka offset, not by event id.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rdkafka::Message;
use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::delta::{lake, python_reader};
use crate::fixtures::{self, OWN};
use crate::fraud_reports::post_xml;
use crate::harness::{TestApp, repo};
use crate::kafka::{group_lag, headers, produce_with_headers, read_all, read_all_async, value_json};
use crate::wait::{holds, wait_until, wait_until_blocking};

/// The endToEndId every DICT example reports.
const EXAMPLE_E2E: &str = "E9999901012341234123412345678900";

/// Every infraction and refund example, with the reported endToEndId replaced by `e2e`.
fn dict_examples(e2e: &str) -> Vec<(String, String)> {
    let dir = repo().join("crates/pix-domain/tests/data/bcb-dict-api");
    let mut out = Vec::new();
    for sub in ["infractions", "refunds"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read_to_string(&f).unwrap().replace(EXAMPLE_E2E, e2e)));
        }
    }
    out
}

/// The reports table's rows, and the inner join of its `end_to_end_id` with the events table's.
fn read_tables(reports: &Path, events: &Path) -> Value {
    let script = "r = deltalake.DeltaTable(sys.argv[1]).to_pyarrow_table(columns=['event_id', \
                  'end_to_end_id', 'kafka_partition', 'kafka_offset', 'report_date', 'created_at', 'event_time'])\n\
                  e = deltalake.DeltaTable(sys.argv[2]).to_pyarrow_table(columns=['event_id', 'end_to_end_id'])\n\
                  e = e.rename_columns(['payment_event_id', 'end_to_end_id'])\n\
                  j = r.select(['kafka_partition', 'kafka_offset', 'end_to_end_id'])\n\
                  j = j.join(e, keys='end_to_end_id', join_type='inner')\n\
                  out = {'reports': r.to_pylist(), 'joined': j.to_pylist()}";
    python_reader(script, &[reports, events])
}

/// event id by (Kafka partition, offset).
fn by_coords(rows: &[Value]) -> BTreeMap<(i64, i64), String> {
    let at = |r: &Value, k: &str| r[k].as_i64().unwrap();
    rows.iter().map(|r| ((at(r, "kafka_partition"), at(r, "kafka_offset")), r["event_id"].to_string())).collect()
}

#[actix_rt::test]
async fn the_dict_examples_land_once_each_in_the_fraud_reports_table_and_join_with_their_payment() {
    let dir = tempfile::tempdir().unwrap();
    let (events, reports) = (dir.path().join("pix_events"), dir.path().join("fraud_reports"));
    let mut fraud_sink = lake(&reports, None, 10); // several commits for the 28 reports
    fraud_sink["id"] = json!("reports");
    fraud_sink["topics"] = json!(["fraud_report"]);
    // The HTTP source's index of acknowledged ids is off: the examples repeat event ids (three
    // create responses open the same report), and every copy must reach Kafka and the table.
    let config = ConfigBuilder::for_test("delta-fraud")
        .duplicates_window(Duration::ZERO)
        .source(json!({ "id": "dict", "type": "http", "listen": "127.0.0.1:0", "format": "dict_xml" }))
        .sink(lake(&events, None, 10))
        .sink(fraud_sink);
    let t = TestApp::start_with(&config).await;
    let e2e = fixtures::e2e(OWN);
    assert_eq!(t.post_events(&[fixtures::payment(&e2e)]).await.status, 200);
    let examples = dict_examples(&e2e);
    assert_eq!(examples.len(), 28, "20 infraction and 8 refund examples");
    for (name, body) in examples {
        let (status, answer) = post_xml(&t, body).await;
        assert_eq!(status, 200, "{name}: {answer}");
    }

    let (b, topics, tables) = (config.bootstrap.clone(), config.topics.clone(), (reports.clone(), events));
    let read = tokio::task::spawn_blocking(move || {
        wait_until_blocking("both sinks to commit every record", Duration::from_secs(120), || {
            let lag = group_lag(&b, "pix-ingest.reports", &topics.fraud_report)
                + group_lag(&b, "pix-ingest.lake", &topics.payment);
            holds(lag == 0, lag)
        });
        let in_kafka: Vec<Value> = read_all(&b, &topics.fraud_report)
            .iter()
            .map(|m| {
                let mut v = value_json(m);
                (v["kafka_partition"], v["kafka_offset"]) = (json!(m.partition()), json!(m.offset()));
                v
            })
            .collect();
        let payment = value_json(&read_all(&b, &topics.payment)[0]);
        (in_kafka, payment, read_tables(&tables.0, &tables.1))
    });
    let (in_kafka, payment, tables) = read.await.unwrap();
    t.stop().await;

    // Each Kafka record of the fraud topic is one row, by its coordinates and its event id.
    assert_eq!(in_kafka.len(), 28);
    let rows = tables["reports"].as_array().unwrap();
    assert_eq!(rows.len(), 28, "no report twice: {rows:?}");
    assert_eq!(by_coords(rows), by_coords(&in_kafka), "exactly the records in Kafka");
    // Partitioned by the report's creation date (UTC), else the date of its state.
    for r in rows {
        let dated = if r["created_at"].is_null() { &r["event_time"] } else { &r["created_at"] };
        assert_eq!(r["report_date"].as_str(), dated.as_str().map(|d| &d[..10]), "{r}");
    }
    assert!(std::fs::read_dir(&reports).unwrap().any(|e| e.unwrap().file_name() == "report_date=2020-01-17"));

    // Every report that names the payment's endToEndId joins with it, and only those.
    let naming: Vec<&Value> = in_kafka.iter().filter(|r| r["end_to_end_id"] == e2e.as_str()).collect();
    assert!(naming.len() >= 10, "most examples name the transaction: {}", naming.len());
    let joined = tables["joined"].as_array().unwrap();
    assert_eq!(joined.len(), naming.len(), "{joined:?}");
    for j in joined {
        assert_eq!((j["end_to_end_id"].as_str(), &j["payment_event_id"]), (Some(e2e.as_str()), &payment["event_id"]));
    }
}

#[actix_rt::test]
async fn a_fraud_report_on_a_transaction_topic_is_dead_lettered_by_an_events_sink() {
    let dir = tempfile::tempdir().unwrap();
    let config = ConfigBuilder::for_test("delta-schema")
        .source(json!({ "id": "dict", "type": "http", "listen": "127.0.0.1:0", "format": "dict_xml" }))
        .sink(lake(&dir.path().join("pix_events"), None, 10));
    let t = TestApp::start_with(&config).await;
    let (status, answer) = post_xml(&t, dict_examples(&fixtures::e2e(OWN)).remove(0).1).await;
    assert_eq!(status, 200, "{answer}");
    let report = read_all_async(&t.bootstrap, &t.topics.fraud_report).await[0].payload().unwrap().to_vec();
    // A producer outside pix-ingest puts the report on the payments topic: the events table
    // cannot hold it, so the sink parks it instead of dropping it or stopping.
    let (p, o) =
        produce_with_headers(&t.bootstrap, &t.topics.payment, &report, &[("pix-schema", "fraud_report")]).await;
    let dlq = wait_until("the dead letter", Duration::from_secs(60), async || {
        let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
        if dlq.is_empty() { Err(0) } else { Ok(dlq) }
    })
    .await;
    let h = headers(&dlq[0]);
    assert_eq!((h["pix-dlq-reason"].as_str(), h["pix-dlq-stage"].as_str()), ("sink.schema", "sink_decode"));
    assert_eq!(
        (h["pix-dlq-origin-partition"].clone(), h["pix-dlq-origin-offset"].clone()),
        (p.to_string(), o.to_string())
    );
    assert_eq!(dlq[0].payload().unwrap(), report.as_slice(), "the original bytes");
    t.stop().await;
}
