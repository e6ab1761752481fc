//! Test harness: unique topics per test, the app started in-process from a `ConfigBuilder` (its
//! `api` source on an ephemeral port), and HTTP helpers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::config_builder::ConfigBuilder;
use crate::wait::wait_until;

// The crate's API the tests use besides `TestApp`, in one place: a module that moves in `src/` is
// one edit here.
pub use pix_domain::validate::CheckDigitPolicy;
pub use pix_ingest::app::AppHandle;
pub use pix_ingest::config::Config;
pub use pix_ingest::sources::http::signature::sign as hmac_signature;
pub use pix_ingest::supervisor::{ChildInfo, ChildState};
pub use pix_ingest::telemetry::LogFormat;
pub use pix_ingest::telemetry::trace_layer;

/// The real broker started by `scripts/test`.
pub fn bootstrap() -> String {
    std::env::var("PIX_INGEST_TEST_BOOTSTRAP").unwrap_or_else(|_| {
        panic!(
            "PIX_INGEST_TEST_BOOTSTRAP is not set: these tests need the real Kafka broker that \
             `scripts/test` starts. Run `scripts/test` (or `scripts/kafka start DIR` and export it)."
        )
    })
}

/// Repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A unique topic prefix for one test, so tests never see each other's records.
pub fn unique(test: &str) -> String {
    let n: u64 = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    format!("it.{test}.{:x}", n ^ u64::from(std::process::id()))
}

/// Topic names of a test.
#[derive(Clone, Debug)]
pub struct Topics {
    pub payment: String,
    pub receipt: String,
    pub refund: String,
    pub fraud_report: String,
    pub dlq: String,
}

impl Topics {
    pub fn new(prefix: &str) -> Self {
        Self {
            payment: format!("{prefix}.pagamentos"),
            receipt: format!("{prefix}.recebimentos"),
            refund: format!("{prefix}.estornos"),
            fraud_report: format!("{prefix}.infracoes"),
            dlq: format!("{prefix}.dlq"),
        }
    }

    /// The three category topics (everything but the dead letters).
    pub fn categories(&self) -> [&str; 3] {
        [&self.payment, &self.receipt, &self.refund]
    }
}

/// Config text through the app's own loader, with no environment; panics with its errors.
pub fn load_config(file: &str, text: &str) -> Config {
    pix_ingest::config::load_str(file, text, &std::collections::HashMap::<String, String>::new())
        .unwrap_or_else(|e| panic!("{e}\n--- {file} ---\n{text}"))
}

/// A started app and the address of its `api` source.
pub struct TestApp {
    pub app: AppHandle,
    pub addr: SocketAddr,
    pub topics: Topics,
    pub bootstrap: String,
}

impl TestApp {
    /// Starts the app with the default test config on topics of its own.
    pub async fn start(test: &str) -> Self {
        Self::start_with(&ConfigBuilder::for_test(test)).await
    }

    /// Starts the app from `config` (which must keep its `api` source).
    pub async fn start_with(config: &ConfigBuilder) -> Self {
        let app = AppHandle::start(config.load()).await.unwrap_or_else(|e| panic!("app start: {e}"));
        let addr = app.source_addr("api", Duration::from_secs(10)).await.expect("source `api` bound");
        Self { app, addr, topics: config.topics.clone(), bootstrap: config.bootstrap.clone() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs `body` to /v1/events; returns status, headers and JSON body.
    pub async fn post(&self, content_type: &str, body: impl Into<reqwest::Body>) -> Posted {
        let resp = reqwest::Client::new()
            .post(self.url("/v1/events"))
            .header("content-type", content_type)
            .body(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        let json: Value = resp.json().await.unwrap_or(Value::Null);
        Posted { status, retry_after, json }
    }

    /// POSTs `events` as one JSON array.
    pub async fn post_events(&self, events: &[Value]) -> Posted {
        self.post("application/json", serde_json::to_string(events).unwrap()).await
    }

    /// Events written by sink `id` so far (its metric).
    pub fn written(&self, id: &str) -> u64 {
        self.app.metrics().sink_written.with_label_values(&[id]).get()
    }

    /// The registry entry of actor `id`.
    pub async fn child(&self, id: &str) -> ChildInfo {
        let children = self.app.children().await;
        let ids: Vec<_> = children.iter().map(|c| c.id.clone()).collect();
        children.into_iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no actor {id} among {ids:?}"))
    }

    /// Waits until actor `id` is FAILED; returns its registry entry.
    pub async fn failed(&self, id: &str, timeout: Duration) -> ChildInfo {
        wait_until(&format!("actor `{id}` to be FAILED"), timeout, async || {
            let c = self.child(id).await;
            if c.state == ChildState::Failed { Ok(c) } else { Err(c) }
        })
        .await
    }

    pub async fn stop(self) {
        self.app.shutdown(Duration::from_secs(10)).await;
    }
}

/// Sends copies of `batch` and `single` the way retries and redeliveries happen: twice each through
/// `first` and `second` (two instances of one consumer group), once more through `first` after
/// `second` left (a rebalance), and once more after `first` restarted from `again`. Returns the
/// restarted app; Kafka holds `2 + 6 * batch.len()` records of them.
pub async fn send_copies(
    first: TestApp,
    second: TestApp,
    again: &ConfigBuilder,
    batch: &[Value],
    single: &Value,
) -> TestApp {
    for _ in 0..2 {
        assert_eq!(first.post("application/json", single.to_string()).await.status, 200);
        assert_eq!(first.post_events(batch).await.status, 200);
        assert_eq!(second.post_events(batch).await.status, 200);
    }
    second.stop().await; // a rebalance moves its partitions to `first`
    assert_eq!(first.post_events(batch).await.status, 200);
    first.stop().await;
    let restarted = TestApp::start_with(again).await; // the state comes back from where it is kept
    assert_eq!(restarted.post_events(batch).await.status, 200);
    restarted
}

#[derive(Debug)]
pub struct Posted {
    pub status: u16,
    pub retry_after: Option<String>,
    pub json: Value,
}
