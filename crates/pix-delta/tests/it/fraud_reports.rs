//! A fraud reports table: its own layout, partitioned by `report_date`, exactly once by offset,
//! read back by the Python `deltalake` reader (an independent build of the Delta kernel).

use std::process::Command;

use pix_delta::{DeltaSinkConfig, DeltaSinkError, DeltaWriter, Json, Row, TableKind};
use serde_json::{Value, json};

use crate::fixtures::{config, open};

const TOPIC: &str = "pix.infracoes";

fn report_config(dir: &std::path::Path) -> DeltaSinkConfig {
    DeltaSinkConfig { table: TableKind::FraudReports, ..config(dir, 0) }
}

/// An infraction report (even offsets) or a MED refund request (odd ones), created on `day`.
fn report(offset: i64, day: u32) -> Value {
    let id = format!("91d65e98-97c0-4b0f-b577-{offset:012}");
    let (kind, extra) = if offset % 2 == 0 {
        ("INFRACTION_REPORT", json!({"infraction_type": "FRAUD", "reported_by": "DEBITED_PARTICIPANT"}))
    } else {
        (
            "REFUND_REQUEST",
            json!({"refund_reason": "FRAUD", "amount": "150.25", "amount_cents": 15025, "currency": "BRL"}),
        )
    };
    let mut r = json!({
        "schema": "fraud_report", "schema_version": "1", "category": "fraud_report",
        "event_id": format!("{kind}:{id}:OPEN"), "report_kind": kind, "report_id": id,
        "end_to_end_id": format!("E99999010202611{day:02}1430000{offset:08}"),
        "reporter_ispb": "99999010", "status": "OPEN",
        "details_sha256": "ab".repeat(32),
        "created_at": format!("2026-11-{day:02}T14:30:05.120Z"),
        "event_time": format!("2026-11-{day:02}T14:30:05.120Z"),
        "ingested_at": "2026-11-30T10:00:00.000Z",
        "source": {"kind": "dict_xml", "item_index": 0, "raw_sha256": "00".repeat(32), "id": "dict"},
        "flags": []
    });
    r.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    r
}

fn rows(offsets: std::ops::Range<i64>) -> Vec<Row<'static>> {
    offsets
        .map(|o| Row {
            topic: TOPIC.into(),
            partition: 0,
            offset: o,
            event: Json::from_value(report(o, 24 + (o % 2) as u32)),
        })
        .collect()
}

const SCRIPT: &str = r#"
import json, sys
from deltalake import DeltaTable
dt = DeltaTable(sys.argv[1])
t = dt.to_pyarrow_table()
cols = t.to_pydict()
print(json.dumps({
    "count": t.num_rows,
    "offsets": sorted(cols["kafka_offset"]),
    "kinds": sorted(set(cols["report_kind"])),
    "e2e": sorted(cols["end_to_end_id"]),
    "cents": sorted(c for c in cols["amount_cents"] if c is not None),
    "dates": sorted(set(cols["report_date"])),
    "partitions": dt.metadata().partition_columns,
    "txn": dt.transaction_version(sys.argv[2]),
}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_deltalake_reads_fraud_reports_once_partitioned_by_report_date() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = DeltaWriter::open_or_create(report_config(dir.path())).await.unwrap();
    assert_eq!(writer.write(rows(0..4)).await.unwrap().written, 4);
    assert_eq!(writer.write(rows(0..4)).await.unwrap().written, 0, "replay must write nothing");
    assert_eq!(writer.write(rows(2..6)).await.unwrap().written, 2);

    let table = dir.path().join("table");
    let output = Command::new("python3")
        .args(["-c", SCRIPT, &table.to_string_lossy(), &format!("delta-it-{TOPIC}-0")])
        .output()
        .expect("python3 is required for the independent Delta reader test");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python reader failed (needs `pip install deltalake==1.6.6 pyarrow`):\n{stderr}");
    let got: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got["count"], 6);
    assert_eq!(got["offsets"], json!([0, 1, 2, 3, 4, 5]));
    assert_eq!(got["kinds"], json!(["INFRACTION_REPORT", "REFUND_REQUEST"]));
    let mut e2e: Vec<String> =
        rows(0..6).iter().map(|r| r.event.get("end_to_end_id").and_then(Json::as_str).unwrap().to_owned()).collect();
    e2e.sort();
    assert_eq!(got["e2e"], json!(e2e));
    assert_eq!(got["cents"], json!([15025, 15025, 15025]));
    assert_eq!(got["dates"], json!(["2026-11-24", "2026-11-25"]));
    assert_eq!(got["partitions"], json!(["report_date"]));
    assert_eq!(got["txn"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_table_is_refused_as_a_fraud_reports_table_and_a_pix_event_is_an_invalid_row() {
    let events = tempfile::tempdir().unwrap();
    drop(open(events.path(), 0).await);
    let err = DeltaWriter::open_or_create(report_config(events.path())).await.unwrap_err();
    assert!(matches!(err, DeltaSinkError::SchemaMismatch { .. }), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let mut writer = DeltaWriter::open_or_create(report_config(dir.path())).await.unwrap();
    let pix_event = crate::fixtures::event(0, 9, 25, "payment");
    let err = writer
        .write(vec![Row { topic: TOPIC.into(), partition: 0, offset: 9, event: Json::from_value(pix_event) }])
        .await;
    let Err(DeltaSinkError::InvalidRows { rejects, .. }) = err else { panic!("{err:?}") };
    assert_eq!(rejects[0].reason, "missing:report_kind");
}
