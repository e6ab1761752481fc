//! The cost of exactly once by event id in the Delta writer: rows per second appended to a local
//! table in batches of `BENCH_BATCH` (default 5,000, the Delta sink's default batch), with the
//! de-duplication off and on, and the time to read a partition's ids back from the table (what
//! a restart or a rebalance costs). Run with `cargo bench -p pix-delta` (scripts/bench does).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

use std::time::Instant;

use pix_delta::{DedupeConfig, DeltaSinkConfig, DeltaWriter, Row};
use serde_json::json;

fn event(n: usize) -> serde_json::Value {
    let e2e = format!("E99999010{}{n:011}", chrono::Utc::now().format("%Y%m%d%H%M"));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "schema_version": "1", "event_id": format!("{e2e}:TRANSFER:PENDING"), "event_type": "TRANSFER",
        "category": "payment", "direction": "OUTBOUND", "end_to_end_id": e2e, "amount": "150.25",
        "amount_cents": 15025, "currency": "BRL", "event_time": now, "ingested_at": now, "status": "PENDING",
        "payer": {"ispb": "99999010", "tax_id": "52998224725", "tax_id_type": "CPF",
                  "account": {"branch": "1", "number": "123456", "type": "CACC"}},
        "payee": {"ispb": "12345678"}, "pix_key": "11222333000181", "pix_key_type": "CNPJ",
        "initiation_type": "DICT", "is_med": false, "intra_psp": false, "local_hour": 11, "night_period": false,
        "source": {"kind": "canonical", "item_index": 0, "raw_sha256": "0", "id": "bench"}, "flags": []
    })
}

async fn run(rows: usize, batch: usize, dedupe: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DeltaSinkConfig {
        table_uri: dir.path().join("t").to_string_lossy().into_owned(),
        app_id: "bench".into(),
        checkpoint_interval: 10,
        pii_salt: "bench-salt-0123456789abcdef".into(),
        dedupe: dedupe.then_some(DedupeConfig { window_days: 7, max_ids: usize::MAX }),
        table: pix_delta::TableKind::Events,
    };
    let mut w = DeltaWriter::open_or_create(cfg.clone()).await.unwrap();
    let all: Vec<Row> = (0..rows)
        .map(|n| Row {
            topic: "pix.pagamentos".into(),
            partition: (n % 6) as i32,
            offset: (n / 6) as i64,
            event: event(n),
        })
        .collect();
    let started = Instant::now();
    for chunk in all.chunks(batch) {
        assert_eq!(w.write(chunk.to_vec()).await.unwrap().written, chunk.len());
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    // A fresh writer reads the ids of every partition back (a restart; a rebalance reads its share).
    drop(w);
    let mut w = DeltaWriter::open_or_create(cfg).await.unwrap();
    let started = Instant::now();
    let probe: Vec<Row> = (0..6).map(|p| Row { offset: 1_000_000, ..all[p].clone() }).collect();
    w.write(probe).await.unwrap();
    (rate, started.elapsed().as_secs_f64())
}

fn main() {
    let rows: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let batch: usize = std::env::var("BENCH_BATCH").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for round in 1..=2 {
        let (off, _) = rt.block_on(run(rows, batch, false));
        let (on, reload) = rt.block_on(run(rows, batch, true));
        println!(
            "pix-delta round {round}: {rows} rows in batches of {batch}: {off:.0} rows/s by offset only, {on:.0} rows/s with event-id dedupe ({:.0}%); reading {rows} ids back from the table: {reload:.2} s",
            100.0 * on / off
        );
    }
}
