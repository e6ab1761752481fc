//! The txn round trip: offsets recorded with the data, read back after a restart, duplicates
//! and overlaps skipped, a stale second writer deduplicated inside `write`.

use std::collections::{BTreeSet, HashMap};

use crate::fixtures::{TOPIC, open, read_back, rows};

fn keys(ranges: &[(i32, std::ops::Range<i64>)]) -> BTreeSet<(i32, i64)> {
    ranges.iter().flat_map(|(p, r)| r.clone().map(move |o| (*p, o))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_round_trip_and_replays_write_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 0).await;
    assert!(writer.committed_offsets(TOPIC, &[0, 1]).await.unwrap().is_empty());

    let first: Vec<_> = rows(0, 0..5).into_iter().chain(rows(1, 0..3)).collect();
    let outcome = writer.write(first.clone()).await.unwrap();
    assert!(outcome.committed);
    assert_eq!((outcome.written, outcome.skipped_duplicates, outcome.version), (8, 0, 1));
    let expected = HashMap::from([(0, 4), (1, 2)]);
    assert_eq!(writer.committed_offsets(TOPIC, &[0, 1, 2]).await.unwrap(), expected);
    assert_eq!(read_back(dir.path()).await, (8, keys(&[(0, 0..5), (1, 0..3)])));

    // A restart: a fresh writer reads the same offsets from the table.
    drop(writer);
    let mut writer = open(dir.path(), 0).await;
    assert_eq!(writer.committed_offsets(TOPIC, &[0, 1, 2]).await.unwrap(), expected);

    // Replaying the whole batch (crash before the Kafka commit) writes nothing and commits nothing.
    let outcome = writer.write(first).await.unwrap();
    assert_eq!((outcome.committed, outcome.written, outcome.skipped_duplicates, outcome.version), (false, 0, 8, 1));

    // An overlapping batch writes only the new offsets.
    let overlap: Vec<_> = rows(0, 3..8).into_iter().chain(rows(1, 2..3)).collect();
    let outcome = writer.write(overlap).await.unwrap();
    assert_eq!((outcome.committed, outcome.written, outcome.skipped_duplicates), (true, 3, 3));
    assert_eq!(writer.committed_offsets(TOPIC, &[0, 1]).await.unwrap(), HashMap::from([(0, 7), (1, 2)]));
    assert_eq!(read_back(dir.path()).await, (11, keys(&[(0, 0..8), (1, 0..3)])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_second_writer_skips_what_the_first_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), 0).await;
    // Opened before `a` writes: its loaded state does not know about the commit below.
    let mut b = open(dir.path(), 0).await;
    assert_eq!(a.write(rows(0, 0..4)).await.unwrap().written, 4);

    let outcome = b.write(rows(0, 2..6)).await.unwrap();
    assert_eq!((outcome.written, outcome.skipped_duplicates), (2, 2));
    assert_eq!(read_back(dir.path()).await, (6, keys(&[(0, 0..6)])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_row_fails_the_batch_permanently_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 0).await;
    let mut batch = rows(0, 0..3);
    let pix_delta::Json::Object(members) = &mut batch[1].event else { panic!("an object") };
    members.retain(|(name, _)| name != "event_time");
    let error = writer.write(batch.clone()).await.unwrap_err();
    assert!(!error.is_retryable());
    let pix_delta::DeltaSinkError::InvalidRows { rejects, .. } = &error else { panic!("{error:?}") };
    assert_eq!(rejects.len(), 1);
    assert_eq!((rejects[0].offset, rejects[0].reason.as_str()), (1, "missing:event_time"));
    assert_eq!(writer.version(), Some(0));

    // The sink dead-letters offset 1 and retries without it; offset 1 is then covered.
    batch.remove(1);
    assert_eq!(writer.write(batch).await.unwrap().written, 2);
    assert_eq!(writer.committed_offsets(crate::fixtures::TOPIC, &[0]).await.unwrap()[&0], 2);
}

/// An actix `Arbiter` runs a current-thread runtime; the kernel's nested `block_on` must still work
/// there (it blocks the thread, hence the dedicated arbiter).
#[tokio::test(flavor = "current_thread")]
async fn works_on_a_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 1).await;
    assert_eq!(writer.write(rows(3, 0..2)).await.unwrap().written, 2);
    assert_eq!(writer.committed_offsets(TOPIC, &[3]).await.unwrap()[&3], 1);
}
