//! Exactly once by event id: a copy of an event on a new offset (a client retry, a webhook retry)
//! adds no row, also after a restart (the ids are read back from the table) and after another
//! writer wrote the partition behind this one's back; other partitions and events older than the
//! window are not affected.

use chrono::{Duration, Utc};
use pix_delta::{DedupeConfig, DeltaWriter, Json, Row};
use serde_json::Value;

use crate::fixtures::{TOPIC, config, event, read_back};

/// A writer that de-duplicates by event id over 7 days.
async fn open(dir: &std::path::Path) -> DeltaWriter {
    let mut cfg = config(dir, 0);
    cfg.dedupe = Some(DedupeConfig { window_days: 7, max_ids: 1_000_000 });
    DeltaWriter::open_or_create(cfg).await.unwrap()
}

/// Event number `n` (its own event id) at `offset` of `partition`, `age_days` before today.
fn copy(n: i64, partition: i32, offset: i64, age_days: i64) -> Row<'static> {
    let mut e: Value = event(0, n, 25, "payment");
    let when = (Utc::now() - Duration::days(age_days)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    e["event_time"] = when.clone().into();
    e["settled_at"] = when.clone().into();
    e["ingested_at"] = when.into();
    Row { topic: TOPIC.into(), partition, offset, event: Json::from_value(e) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_on_a_new_offset_adds_no_row_across_restarts_and_writers() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path()).await;
    let first: Vec<Row<'static>> = (0..5).map(|n| copy(n, 0, n, 0)).collect();
    assert_eq!(a.write(first).await.unwrap().written, 5);

    // The same five events again at offsets 5..10, and a new one at 10: one row.
    let mut again: Vec<Row<'static>> = (0..5).map(|n| copy(n, 0, n + 5, 0)).collect();
    again.push(copy(100, 0, 10, 0));
    let out = a.write(again).await.unwrap();
    assert_eq!((out.written, out.skipped_event_ids, out.skipped_duplicates), (1, 5, 0));
    assert_eq!(a.committed_offsets(TOPIC, &[0]).await.unwrap()[&0], 10, "the copies' offsets are consumed");
    // Twice in one batch: once.
    let out = a.write(vec![copy(101, 0, 11, 0), copy(101, 0, 12, 0)]).await.unwrap();
    assert_eq!((out.written, out.skipped_event_ids), (1, 1));

    // A restart reads the ids back from the table.
    drop(a);
    let mut a = open(dir.path()).await;
    let out = a.write(vec![copy(0, 0, 13, 0), copy(101, 0, 14, 0)]).await.unwrap();
    assert_eq!((out.written, out.skipped_event_ids, out.committed), (0, 2, false));

    // Another partition holds its own ids: the same event id there is another record.
    assert_eq!(a.write(vec![copy(0, 1, 0, 0)]).await.unwrap().written, 1);

    // A second writer (another instance after a rebalance) writes partition 0 behind `a`'s back.
    let mut b = open(dir.path()).await;
    assert_eq!(b.write(vec![copy(200, 0, 15, 0)]).await.unwrap().written, 1);
    let out = a.write(vec![copy(200, 0, 16, 0), copy(201, 0, 17, 0)]).await.unwrap();
    assert_eq!((out.written, out.skipped_event_ids), (1, 1), "a's ids were read again: the txn version moved");

    // An event older than the window is not de-duplicated.
    let out = a.write(vec![copy(300, 0, 18, 30), copy(300, 0, 19, 30)]).await.unwrap();
    assert_eq!((out.written, out.skipped_event_ids), (2, 0));

    let (rows, _) = read_back(dir.path()).await;
    assert_eq!(rows, 5 + 1 + 1 + 1 + 1 + 1 + 2);
    assert!(a.dedupe_ids().0 >= 9);
    a.forget(TOPIC, &[0, 1]);
    assert_eq!(a.dedupe_ids().0, 0, "revoked partitions leave memory");
}
