//! Test harness: a config per test with unique topics, the app on port 0, and HTTP helpers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use pix_ingest::app::AppHandle;
use pix_ingest::config::{self, Config};

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
    pub dlq: String,
}

impl Topics {
    pub fn new(prefix: &str) -> Self {
        Self {
            payment: format!("{prefix}.pagamentos"),
            receipt: format!("{prefix}.recebimentos"),
            refund: format!("{prefix}.estornos"),
            dlq: format!("{prefix}.dlq"),
        }
    }
}

/// A config for `bootstrap` with one HTTP source `api` on an ephemeral port.
pub fn config_yaml(bootstrap: &str, topics: &Topics, extra_source: &str, kafka_extra: &str) -> String {
    format!(
        r#"
kafka:
  bootstrap_servers: "{bootstrap}"
  delivery_timeout: 5s
{kafka_extra}
  create_topics: {{ enabled: true, partitions: 3, replication_factor: 1 }}
topics:
  payment: {p}
  receipt: {r}
  refund: {f}
  dead_letter: {d}
pix:
  own_ispbs: ["99999010"]
sources:
  - id: api
    type: http
    listen: 127.0.0.1:0
    request_timeout: 8s
{extra_source}
telemetry:
  log_format: pretty
  log_level: warn
admin:
  listen: 127.0.0.1:0
  token: "t0k3n"
  state_file: "{state}"
supervision:
  backoff_initial: 50ms
  backoff_max: 1s
"#,
        p = topics.payment,
        r = topics.receipt,
        f = topics.refund,
        d = topics.dlq,
        state = std::env::temp_dir().join(format!("{}.admin-state.json", topics.dlq)).display(),
    )
}

pub fn load(yaml: &str) -> Config {
    config::load_str("test.yaml", yaml, &std::collections::HashMap::<String, String>::new())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A started app and the address of its `api` source.
pub struct TestApp {
    pub app: AppHandle,
    pub addr: SocketAddr,
    pub topics: Topics,
    pub bootstrap: String,
}

impl TestApp {
    /// Starts the app against the shared test broker.
    pub async fn start(test: &str) -> Self {
        let bootstrap = bootstrap();
        let topics = Topics::new(&unique(test));
        Self::start_with(&bootstrap, topics, &config_yaml(&bootstrap, &Topics::new("x"), "", "")).await
    }

    /// Starts the app from `yaml`, with `topics` substituted.
    pub async fn start_with(bootstrap: &str, topics: Topics, _yaml: &str) -> Self {
        let yaml = config_yaml(bootstrap, &topics, "", "");
        Self::start_yaml(bootstrap, topics, &yaml).await
    }

    pub async fn start_yaml(bootstrap: &str, topics: Topics, yaml: &str) -> Self {
        let app = AppHandle::start(load(yaml)).await.unwrap_or_else(|e| panic!("app start: {e}"));
        let addr = app.source_addr("api", Duration::from_secs(10)).await.expect("source bound");
        Self { app, addr, topics, bootstrap: bootstrap.to_owned() }
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
        let json: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        Posted { status, retry_after, json }
    }

    pub async fn stop(self) {
        self.app.shutdown(Duration::from_secs(10)).await;
    }
}

#[derive(Debug)]
pub struct Posted {
    pub status: u16,
    pub retry_after: Option<String>,
    pub json: serde_json::Value,
}
