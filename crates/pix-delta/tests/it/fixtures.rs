//! Canonical-event rows, a writer factory and an independent parquet read-back.

use std::collections::BTreeSet;
use std::path::Path;

use pix_delta::{DeltaSinkConfig, DeltaWriter, Json, Row};
use serde_json::{Value, json};

pub const TOPIC: &str = "pix.pagamentos";
pub const SALT: &str = "integration-test-salt-0123";
pub const CPF: &str = "52998224725";

pub fn config(dir: &Path, checkpoint_interval: u64) -> DeltaSinkConfig {
    DeltaSinkConfig {
        table_uri: dir.join("table").to_string_lossy().into_owned(),
        app_id: "delta-it".into(),
        checkpoint_interval,
        pii_salt: SALT.into(),
        dedupe: None,
        table: pix_delta::TableKind::Events,
    }
}

pub async fn open(dir: &Path, checkpoint_interval: u64) -> DeltaWriter {
    DeltaWriter::open_or_create(config(dir, checkpoint_interval)).await.unwrap()
}

/// A canonical event whose ids derive from `(partition, offset)`; `day` and `category` pick the
/// Delta partition.
pub fn event(partition: i32, offset: i64, day: u32, category: &str) -> Value {
    let e2e = format!("E99999010202611{day:02}1430{partition:03}{offset:08}");
    json!({
        "schema_version": "1",
        "event_id": format!("{}:TRANSFER:SETTLED", &e2e[..32]),
        "event_type": "TRANSFER", "category": category, "direction": "OUTBOUND",
        "end_to_end_id": e2e, "amount": "150.25", "amount_cents": 15025, "currency": "BRL",
        "event_time": format!("2026-11-{day:02}T14:30:05.120Z"),
        "settled_at": format!("2026-11-{day:02}T14:30:06.000Z"),
        "ingested_at": format!("2026-11-{day:02}T14:30:07.000Z"),
        "status": "SETTLED",
        "payer": {"ispb": "99999010", "tax_id": CPF, "tax_id_type": "CPF", "name": "Maria da Silva",
                  "account": {"branch": "1", "number": "123456", "type": "CACC"}},
        "payee": {"ispb": "12345678", "tax_id": "11222333000181", "tax_id_type": "CNPJ"},
        "pix_key": "maria@example.com", "pix_key_type": "EMAIL", "initiation_type": "DICT",
        "is_med": false, "intra_psp": false, "local_hour": 11, "night_period": false,
        "source": {"kind": "canonical", "item_index": 0, "raw_sha256": "0".repeat(64), "id": "http-main"},
        "flags": ["E2E_TIMESTAMP_SKEW"], "remittance_info": "aluguel"
    })
}

pub fn rows(partition: i32, offsets: std::ops::Range<i64>) -> Vec<Row<'static>> {
    offsets
        .map(|offset| Row {
            topic: TOPIC.into(),
            partition,
            offset,
            event: Json::from_value(event(partition, offset, 25, "payment")),
        })
        .collect()
}

/// `(kafka_partition, kafka_offset)` of every row in the table's current files, read with the
/// plain parquet reader (no Delta code), plus the row count, so duplicates show up.
pub async fn read_back(dir: &Path) -> (usize, BTreeSet<(i32, i64)>) {
    use deltalake::arrow::array::{Array, Int32Array, Int64Array};
    use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let url = deltalake::ensure_table_uri(dir.join("table").to_string_lossy()).unwrap();
    let table = deltalake::open_table(url).await.unwrap();
    let mut count = 0;
    let mut keys = BTreeSet::new();
    for uri in table.get_file_uris().unwrap() {
        // Local tables give `file://` URLs (percent-encoded partition values) or plain paths.
        let path = match url::Url::parse(&uri) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().unwrap(),
            _ => std::path::PathBuf::from(&uri),
        };
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for batch in ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap() {
            let batch = batch.unwrap();
            let parts = batch.column_by_name("kafka_partition").unwrap();
            let parts = parts.as_any().downcast_ref::<Int32Array>().unwrap();
            let offs = batch.column_by_name("kafka_offset").unwrap();
            let offs = offs.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..batch.num_rows() {
                count += 1;
                keys.insert((parts.value(i), offs.value(i)));
            }
            assert_eq!(parts.null_count(), 0);
        }
    }
    (count, keys)
}
