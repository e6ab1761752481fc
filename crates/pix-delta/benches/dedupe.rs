//! The cost of exactly once by event id in the Delta writer: rows per second appended to a local
//! table in batches of `BENCH_BATCH` (default 5,000, the Delta sink's default batch), with the
//! de-duplication off and on, and the time to read a partition's ids back from the table (what
//! a restart or a rebalance costs). Run with `cargo bench -p pix-delta` (scripts/bench does).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

mod common;

use std::time::Instant;

use pix_delta::{DeltaWriter, Row};

async fn run(rows: usize, batch: usize, dedupe: bool) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(dir.path(), dedupe);
    let mut w = DeltaWriter::open_or_create(cfg.clone()).await.unwrap();
    let all: Vec<Row<'_>> = common::rows(rows);
    let started = Instant::now();
    for chunk in all.chunks(batch) {
        assert_eq!(w.write(chunk.to_vec()).await.unwrap().written, chunk.len());
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    // A fresh writer reads the ids of every partition back (a restart; a rebalance reads its share).
    drop(w);
    let mut w = DeltaWriter::open_or_create(cfg).await.unwrap();
    let started = Instant::now();
    let probe: Vec<Row<'_>> = (0..6).map(|p| Row { offset: 1_000_000, ..all[p].clone() }).collect();
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
