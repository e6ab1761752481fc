//! End-to-end throughput and latency of the ingest path against a real broker:
//! HTTP POST (arrays of canonical events) -> validate -> route -> Kafka acks=all -> 200,
//! measured in one run on three listeners of the same app: plain HTTP, HTTPS (TLS 1.3, rustls),
//! and HTTPS with client certificates (mutual TLS). Certificates are made at start (rcgen).
//!
//! Run with `scripts/bench` (starts a broker), or `PIX_INGEST_BENCH_BOOTSTRAP=host:port cargo bench`.
//! Knobs: BENCH_REQUESTS (default 400), BENCH_BATCH (events per request, 250), BENCH_CONCURRENCY (8).
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use pix_ingest::app::AppHandle;
use pix_ingest::config;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

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

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in `dir`;
/// returns (ca, client cert, client key) PEM.
fn pki(dir: &Path) -> (String, String, String) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "bench CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    let leaf = |cn: &str| {
        let mut p = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        (p.signed_by(&key, &ca).unwrap().pem(), key.serialize_pem())
    };
    let (server, server_key) = leaf("bench server");
    let (client, client_key) = leaf("bench client");
    std::fs::write(dir.join("server.pem"), server).unwrap();
    std::fs::write(dir.join("server.key"), server_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    (ca.pem(), client, client_key)
}

fn https_client(ca: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap()).unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let tls = match identity {
        Some((cert, key)) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    reqwest::Client::builder().use_preconfigured_tls(tls).build().unwrap()
}

/// Posts every body to `url` with `concurrency` requests in flight; prints one line.
async fn load(name: &str, client: &reqwest::Client, url: &str, bodies: &[String], batch: usize, concurrency: usize) {
    let start = Instant::now();
    let mut latencies: Vec<Duration> = futures::stream::iter(bodies.iter().cloned())
        .map(|body| {
            let (client, url) = (client.clone(), url.to_owned());
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
    let (requests, events) = (bodies.len(), bodies.len() * batch);
    println!(
        "pipeline [{name}]: {events} events in {requests} requests of {batch} (concurrency {concurrency}): {:.2}s, \
         {:.0} events/s; request latency p50 {:?} p99 {:?} max {:?}",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        latencies.last().unwrap()
    );
}

fn main() {
    let Ok(bootstrap) = std::env::var("PIX_INGEST_BENCH_BOOTSTRAP") else {
        println!("PIX_INGEST_BENCH_BOOTSTRAP is not set; run scripts/bench (it starts a broker). Skipping.");
        return;
    };
    let (requests, batch, concurrency) =
        (env_or("BENCH_REQUESTS", 400), env_or("BENCH_BATCH", 250), env_or("BENCH_CONCURRENCY", 8));
    let prefix = format!("bench.{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let (ca, client_cert, client_key) = pki(dir.path());
    let d = dir.path().display();
    let tls = format!("tls: {{ cert_file: \"{d}/server.pem\", key_file: \"{d}/server.key\" }}");
    let mtls = format!(
        "tls: {{ cert_file: \"{d}/server.pem\", key_file: \"{d}/server.key\", client_ca_file: \"{d}/ca.pem\" }}"
    );
    let source = |id: &str, extra: &str| {
        format!("  - {{ id: {id}, type: http, listen: \"127.0.0.1:0\", max_body_bytes: 16777216, {extra} }}\n")
    };
    let yaml = format!(
        "kafka:\n  bootstrap_servers: \"{bootstrap}\"\n  create_topics: {{ partitions: 6, replication_factor: 1 }}\n\
         topics: {{ payment: {prefix}.pag, receipt: {prefix}.rec, refund: {prefix}.est, dead_letter: {prefix}.dlq }}\n\
         pix: {{ own_ispbs: [\"99999010\"] }}\nsources:\n{}{}{}\
         telemetry: {{ log_level: warn, log_format: pretty }}\nadmin: {{ listen: \"127.0.0.1:0\" }}\n",
        source("plain", "workers: 2"),
        source("tls", &tls),
        source("mtls", &mtls),
    );
    let cfg = config::load_str("bench.yaml", &yaml, &std::collections::HashMap::<String, String>::new()).unwrap();
    let bodies = |run: usize| -> Vec<String> {
        (0..requests)
            .map(|r| {
                let base = (run * requests + r) * batch;
                serde_json::to_string(&(0..batch).map(|i| event(base + i)).collect::<Vec<_>>()).unwrap()
            })
            .collect()
    };
    let system = actix::System::new();
    system.block_on(async move {
        let app = AppHandle::start(cfg).await.unwrap();
        let addr = |id: &'static str| app.source_addr(id, Duration::from_secs(10));
        let (plain, tls, mtls) =
            (addr("plain").await.unwrap(), addr("tls").await.unwrap(), addr("mtls").await.unwrap());
        load(
            "plain http",
            &reqwest::Client::new(),
            &format!("http://{plain}/v1/events"),
            &bodies(0),
            batch,
            concurrency,
        )
        .await;
        let client = https_client(&ca, None);
        load("https", &client, &format!("https://{tls}/v1/events"), &bodies(1), batch, concurrency).await;
        let client = https_client(&ca, Some((&client_cert, &client_key)));
        load("https + client cert", &client, &format!("https://{mtls}/v1/events"), &bodies(2), batch, concurrency)
            .await;
        app.shutdown(Duration::from_secs(10)).await;
    });
}
