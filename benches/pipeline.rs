//! End-to-end throughput and latency of the ingest path against a real broker:
//! HTTP POST (arrays of canonical events) -> validate -> route -> Kafka acks=all -> 200.
//!
//! Run with `scripts/bench` (starts a broker), or `PIX_INGEST_BENCH_BOOTSTRAP=host:port cargo bench`.
//! Knobs: BENCH_REQUESTS (default 400), BENCH_BATCH (events per request, 250), BENCH_CONCURRENCY (8).
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, missing_docs)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use pix_ingest::app::AppHandle;
use pix_ingest::config;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn event(i: usize) -> serde_json::Value {
    let now = chrono::Utc::now();
    serde_json::json!({
        "schema_version": "1", "event_type": "TRANSFER",
        "end_to_end_id": format!("E99999010{}{:011}", now.format("%Y%m%d%H%M"), i),
        "amount": "150.25", "event_time": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "status": "PENDING",
        "payer": {"ispb": "99999010", "tax_id": "52998224725", "account": {"branch": "0001", "number": "123456", "type": "CACC"}},
        "payee": {"ispb": "12345678"}, "pix_key": "11222333000181", "initiation_type": "DICT"
    })
}

fn main() {
    let Ok(bootstrap) = std::env::var("PIX_INGEST_BENCH_BOOTSTRAP") else {
        println!("PIX_INGEST_BENCH_BOOTSTRAP is not set; run scripts/bench (it starts a broker). Skipping.");
        return;
    };
    let (requests, batch, concurrency) =
        (env_or("BENCH_REQUESTS", 400), env_or("BENCH_BATCH", 250), env_or("BENCH_CONCURRENCY", 8));
    let prefix = format!("bench.{}", std::process::id());
    let yaml = format!(
        "kafka:\n  bootstrap_servers: \"{bootstrap}\"\n  create_topics: {{ partitions: 6, replication_factor: 1 }}\n\
         topics: {{ payment: {prefix}.pag, receipt: {prefix}.rec, refund: {prefix}.est, dead_letter: {prefix}.dlq }}\n\
         pix: {{ own_ispbs: [\"99999010\"] }}\n\
         sources:\n  - {{ id: bench, type: http, listen: \"127.0.0.1:0\", max_body_bytes: 16777216 }}\n\
         telemetry: {{ log_level: warn, log_format: pretty }}\nadmin: {{ listen: \"127.0.0.1:0\" }}\n"
    );
    let cfg = config::load_str("bench.yaml", &yaml, &std::collections::HashMap::<String, String>::new()).unwrap();
    let bodies: Vec<String> = (0..requests)
        .map(|r| serde_json::to_string(&(0..batch).map(|i| event(r * batch + i)).collect::<Vec<_>>()).unwrap())
        .collect();
    let system = actix::System::new();
    system.block_on(async move {
        let app = AppHandle::start(cfg).await.unwrap();
        let addr = app.source_addr("bench", Duration::from_secs(10)).await.unwrap();
        let url = format!("http://{addr}/v1/events");
        let client = reqwest::Client::new();
        let start = Instant::now();
        let mut latencies: Vec<Duration> = futures::stream::iter(bodies)
            .map(|body| {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    let t = Instant::now();
                    let r = client.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                    r.bytes().await.unwrap();
                    t.elapsed()
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let elapsed = start.elapsed();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
        let events = requests * batch;
        println!(
            "pipeline: {events} events in {requests} requests of {batch} (concurrency {concurrency}): {:.2}s, {:.0} events/s; \
             request latency p50 {:?} p99 {:?} max {:?}",
            elapsed.as_secs_f64(),
            events as f64 / elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99),
            latencies.last().unwrap()
        );
        app.shutdown(Duration::from_secs(10)).await;
    });
}
