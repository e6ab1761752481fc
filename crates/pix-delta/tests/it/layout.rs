//! Table layout: partition directories, checkpoints, and refusing a foreign table.

use deltalake::kernel::DataType;
use pix_delta::{DeltaSinkError, DeltaWriter, Json, Row};

use crate::fixtures::{TOPIC, config, event, open, rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_land_under_event_date_and_category_directories() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 0).await;
    let batch = vec![
        Row { topic: TOPIC.into(), partition: 0, offset: 0, event: Json::from_value(event(0, 0, 24, "payment")) },
        Row { topic: TOPIC.into(), partition: 0, offset: 1, event: Json::from_value(event(0, 1, 25, "payment")) },
        Row {
            topic: "pix.recebimentos".into(),
            partition: 0,
            offset: 0,
            event: Json::from_value(event(0, 0, 25, "receipt")),
        },
    ];
    assert_eq!(writer.write(batch).await.unwrap().written, 3);
    let table = dir.path().join("table");
    for sub in [
        "event_date=2026-11-24/category=payment",
        "event_date=2026-11-25/category=payment",
        "event_date=2026-11-25/category=receipt",
    ] {
        let files: Vec<_> = std::fs::read_dir(table.join(sub))
            .unwrap_or_else(|e| panic!("{sub}: {e}"))
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
            .collect();
        assert_eq!(files.len(), 1, "{sub}");
    }
    // One txn per topic-partition, both topics.
    assert_eq!(writer.committed_offsets("pix.recebimentos", &[0]).await.unwrap()[&0], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_is_written_every_n_commits_and_offsets_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 2).await;
    let log = dir.path().join("table/_delta_log");
    let checkpoints = || {
        let mut names: Vec<String> = std::fs::read_dir(&log)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.ends_with(".checkpoint.parquet"))
            .collect();
        names.sort();
        names
    };
    let first = writer.write(rows(0, 0..2)).await.unwrap();
    assert_eq!((first.version, first.checkpointed), (1, false));
    assert!(checkpoints().is_empty());
    let second = writer.write(rows(0, 2..4)).await.unwrap();
    assert_eq!((second.version, second.checkpointed), (2, true));
    assert_eq!(checkpoints(), vec!["00000000000000000002.checkpoint.parquet".to_owned()]);

    // Offsets come back through the checkpoint once the JSON commits before it are gone.
    for v in 0..=2 {
        std::fs::remove_file(log.join(format!("{v:020}.json"))).unwrap();
    }
    let mut reopened = open(dir.path(), 2).await;
    assert_eq!(reopened.committed_offsets(TOPIC, &[0]).await.unwrap()[&0], 3);
    assert_eq!(reopened.write(rows(0, 0..4)).await.unwrap().written, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_with_another_schema_is_refused_permanently() {
    let dir = tempfile::tempdir().unwrap();
    let url = deltalake::ensure_table_uri(dir.path().join("table").to_string_lossy()).unwrap();
    deltalake::DeltaTable::try_from_url(url)
        .await
        .unwrap()
        .create()
        .with_column("id", DataType::STRING, true, None)
        .await
        .unwrap();
    let error = DeltaWriter::open_or_create(config(dir.path(), 0)).await.unwrap_err();
    assert!(matches!(error, DeltaSinkError::SchemaMismatch { .. }), "{error:?}");
    assert!(!error.is_retryable());

    let mut bad = config(dir.path(), 0);
    bad.pii_salt = "short".into();
    assert!(matches!(DeltaWriter::open_or_create(bad).await, Err(DeltaSinkError::Config { .. })));
}

/// The txn layout other tools rely on: one `txn` action per topic-partition in the data commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_commit_carries_one_txn_action_per_topic_partition() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(dir.path(), 0).await;
    let batch: Vec<_> = rows(0, 0..3).into_iter().chain(rows(5, 10..12)).collect();
    writer.write(batch).await.unwrap();
    let log = std::fs::read_to_string(dir.path().join("table/_delta_log/00000000000000000001.json")).unwrap();
    let actions: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut txns: Vec<(String, i64)> = actions
        .iter()
        .filter_map(|a| a.get("txn"))
        .map(|t| (t["appId"].as_str().unwrap().to_owned(), t["version"].as_i64().unwrap()))
        .collect();
    txns.sort();
    assert_eq!(txns, vec![(format!("delta-it-{TOPIC}-0"), 2), (format!("delta-it-{TOPIC}-5"), 11)]);
    assert_eq!(actions.iter().filter(|a| a.get("add").is_some()).count(), 1);
}
