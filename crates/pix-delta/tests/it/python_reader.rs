//! An independent reader: the Python `deltalake` package (delta-rs's Python binding, a separate
//! build with its own kernel) reads the table back.

use std::collections::BTreeSet;
use std::process::Command;

use crate::fixtures::{CPF, SALT, TOPIC, open, rows};

const SCRIPT: &str = r#"
import json, sys
from deltalake import DeltaTable
dt = DeltaTable(sys.argv[1])
t = dt.to_pyarrow_table()
cols = t.to_pydict()
print(json.dumps({
    "count": t.num_rows,
    "event_ids": cols["event_id"],
    "keys": [[p, o] for p, o in zip(cols["kafka_partition"], cols["kafka_offset"])],
    "dates": sorted(set(cols["event_date"])),
    "columns": t.column_names,
    "txn": [dt.transaction_version(sys.argv[2] + "-0"), dt.transaction_version(sys.argv[2] + "-1")],
    "all": json.dumps(cols, default=str),
}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_deltalake_reads_every_row_once_and_the_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 0).await;
    let written: Vec<_> = rows(0, 0..6).into_iter().chain(rows(1, 0..4)).collect();
    let expected_ids: BTreeSet<String> =
        written.iter().map(|r| r.event.get("event_id").and_then(pix_delta::Json::as_str).unwrap().to_owned()).collect();
    writer.write(written.clone()).await.unwrap();
    assert_eq!(writer.write(written).await.unwrap().written, 0, "replay must write nothing");
    writer.write(rows(0, 4..8)).await.unwrap();

    let table = dir.path().join("table");
    let output = match Command::new("python3")
        .args(["-c", SCRIPT, &table.to_string_lossy(), &format!("delta-it-{TOPIC}")])
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!("python3 is required for the independent Delta reader test ({e}); install python3"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python reader failed (needs `pip install deltalake==1.6.6 pyarrow`):\n{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let ids: Vec<String> = serde_json::from_value(report["event_ids"].clone()).unwrap();
    let keys: Vec<(i32, i64)> = serde_json::from_value(report["keys"].clone()).unwrap();
    let unique_keys: BTreeSet<_> = keys.iter().copied().collect();
    let mut all_ids = expected_ids.clone();
    all_ids.extend(
        rows(0, 6..8).iter().map(|r| r.event.get("event_id").and_then(pix_delta::Json::as_str).unwrap().to_owned()),
    );
    assert_eq!(report["count"], 12);
    assert_eq!(keys.len(), unique_keys.len(), "duplicate rows");
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), all_ids);
    assert_eq!(ids.len(), 12);
    assert_eq!(report["dates"], serde_json::json!(["2026-11-25"]));
    assert_eq!(report["txn"], serde_json::json!([7, 3]));

    // No personal value in clear anywhere in the table's rows; hashes are there instead.
    let all = report["all"].as_str().unwrap();
    for secret in [CPF, "11222333000181", "Maria", "123456\"", "maria@example.com", "aluguel", SALT] {
        assert!(!all.contains(secret), "{secret} is in the table");
    }
    let columns: Vec<String> = serde_json::from_value(report["columns"].clone()).unwrap();
    assert!(columns.contains(&"payer_tax_id_hash".to_owned()));
    assert!(!columns.iter().any(|c| c == "payer_tax_id" || c.contains("name") || c == "pix_key"));
}
