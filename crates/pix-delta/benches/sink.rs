//! The Delta writer alone, as the Delta sink drives it: `BENCH_ROWS` canonical events (default
//! 200,000) appended to a temporary local table in batches of `BENCH_BATCH` (default 50,000,
//! the Delta sink's default `batch.max_events`), event-id dedupe and PII hashing on; prints rows/s
//! and CPU-µs per row of this process (parsing the payloads, Arrow building, Parquet, commits). The
//! payloads are serialized before the clock starts. Run with `cargo bench -p pix-delta --bench sink` (scripts/bench does); the
//! whole sink with Kafka is `scripts/bench delta`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

mod common;

use std::time::Instant;

use pix_delta::{DeltaWriter, Json};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(rows: usize, batch: usize) -> (f64, f64, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut w = DeltaWriter::open_or_create(common::config(dir.path(), true)).await.unwrap();
    let payloads = common::payloads(rows);
    let (started, cpu) = (Instant::now(), common::cpu_seconds());
    let mut commits = 0;
    for (at, chunk) in payloads.chunks(batch).enumerate() {
        let len = chunk.len();
        let parsed = chunk.iter().enumerate().map(|(i, p)| common::row(at * batch + i, Json::parse(p).unwrap()));
        let outcome = w.write(parsed.collect()).await.unwrap();
        assert_eq!(outcome.written, len);
        commits += usize::from(outcome.committed);
    }
    let (wall, cpu) = (started.elapsed().as_secs_f64(), common::cpu_seconds() - cpu);
    (rows as f64 / wall, cpu * 1e6 / rows as f64, commits)
}

fn main() {
    let (rows, batch) = (env("BENCH_ROWS", 200_000), env("BENCH_BATCH", 50_000));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for round in 1..=2 {
        let (rate, cpu_us, commits) = rt.block_on(run(rows, batch));
        println!(
            "pix-delta writer round {round}: {rows} rows in batches of {batch} ({commits} commits): {rate:.0} rows/s, {cpu_us:.1} CPU-µs/row"
        );
    }
}
