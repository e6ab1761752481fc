//! The HTTP sink: POSTs events to a service such as fraud scoring, one per request or a JSON array
//! per batch, with an `Idempotency-Key` (the event id; for a batch, a digest of its event ids).
//!
//! Per record: 5xx, 429, 408 and timeouts are retried with exponential backoff and jitter (backon)
//! up to `max_attempts`, then the record is dead-lettered (`sink.http.exhausted`); any other 4xx
//! dead-letters it at once (`sink.http.rejected`). A service that cannot be reached at all (no
//! connection) says nothing about the records: the whole batch fails and the runner retries it
//! until the service is back, committing nothing meanwhile — nothing is lost or skipped.
//!
//! In `single` mode the runner streams records through the sink (`runner/stream.rs`): up to
//! `concurrency` requests in flight, each record retried on its own, records of one Kafka key in
//! order and other keys independent, so a failing or hanging request delays only its own key; the
//! offsets are committed up to the lowest record not yet finished.
//!
//! `https://` always goes through pix-ingest's own rustls configuration ([`crate::tls`]): the
//! system trust store or `tls.ca_file`, and `tls.cert_file`/`key_file` for mutual TLS; it does not
//! depend on which TLS stack another dependency (deltalake) happens to bring.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::future::LocalBoxFuture;
use futures::{StreamExt, stream};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::batch::BatchConfig;
use super::{RecordSender, SinkError, SinkRecord, SinkResult, SinkWriter, Verdict};
use crate::base::Secret;
use pix_domain::Category;

/// `type: http` sink.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSinkConfig {
    /// Unique id; consumer group `pix-ingest.<id>`.
    pub id: String,
    /// Categories to read: payment, receipt, refund (never `fraud_report`: scoring services take
    /// payments, and a report is another schema).
    #[serde(default = "super::default_topics")]
    pub topics: Vec<Category>,
    /// Batch thresholds.
    #[serde(default = "super::default_batch")]
    pub batch: BatchConfig,
    /// Where to POST, `http://` or `https://`.
    pub url: String,
    /// `single` (one event per request) or `batch` (a JSON array per batch).
    #[serde(default)]
    pub mode: HttpMode,
    /// Per-request timeout.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts per record (or batch) before it is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: usize,
    /// First retry delay.
    #[serde(default = "default_backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// Largest retry delay.
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Requests in flight at once in `single` mode.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Optional `Authorization: Bearer` token, from `${VAR}`.
    #[serde(default)]
    pub bearer_token: Option<Secret>,
    /// Trusted CA and client certificate for `https://` (see README, Security).
    #[serde(default)]
    pub tls: Option<crate::tls::ClientTls>,
}

const fn default_timeout() -> Duration {
    Duration::from_secs(5)
}
const fn default_attempts() -> usize {
    5
}
const fn default_backoff_initial() -> Duration {
    Duration::from_millis(200)
}
const fn default_backoff_max() -> Duration {
    Duration::from_secs(5)
}
const fn default_concurrency() -> usize {
    8
}

/// Requests per record or per batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpMode {
    /// One event per request.
    #[default]
    Single,
    /// One JSON array per batch.
    Batch,
}

impl HttpSinkConfig {
    /// Field problems.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !(self.url.starts_with("http://") || self.url.starts_with("https://"))
            || reqwest::Url::parse(&self.url).is_err()
        {
            out.push(("url", "expected an http:// or https:// URL".into()));
        }
        if self.max_attempts == 0 {
            out.push(("max_attempts", "expected at least 1".into()));
        }
        if self.concurrency == 0 {
            out.push(("concurrency", "expected at least 1".into()));
        }
        if let Some(tls) = &self.tls {
            out.extend(tls.problems());
            if !self.url.starts_with("https://") {
                out.push(("tls", "set for an http:// url: expected https://".into()));
            }
        }
        out
    }
}

/// The writer.
#[derive(Clone)]
pub struct HttpWriter {
    cfg: HttpSinkConfig,
    client: reqwest::Client,
}

/// What one attempt said.
enum Attempt {
    Ok,
    Retry(String),
    Refused(StatusCode),
    /// No connection at all: the destination is down.
    Unreachable(String),
}

impl HttpWriter {
    /// Builds the client.
    pub fn new(cfg: &HttpSinkConfig) -> SinkResult<Self> {
        let tls = crate::tls::client_config(&cfg.tls.clone().unwrap_or_default())
            .map_err(|e| SinkError::Permanent(format!("sink TLS: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .use_preconfigured_tls(tls)
            .build()
            .map_err(|e| SinkError::Permanent(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { cfg: cfg.clone(), client })
    }

    async fn attempt(&self, body: Vec<u8>, key: &str, traceparent: Option<&str>) -> Attempt {
        let mut req = self
            .client
            .post(&self.cfg.url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body);
        if let Some(tp) = traceparent {
            req = req.header("traceparent", tp);
        }
        if let Some(t) = &self.cfg.bearer_token {
            req = req.bearer_auth(t.expose());
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => Attempt::Ok,
            Ok(r)
                if r.status().is_server_error()
                    || r.status() == StatusCode::TOO_MANY_REQUESTS
                    || r.status() == StatusCode::REQUEST_TIMEOUT =>
            {
                Attempt::Retry(format!("HTTP {}", r.status()))
            }
            Ok(r) => Attempt::Refused(r.status()),
            Err(e) if e.is_connect() => Attempt::Unreachable(e.to_string()),
            Err(e) => Attempt::Retry(e.to_string()),
        }
    }

    /// Sends one body with retries; `Err` only when the destination is unreachable.
    async fn deliver(&self, body: Vec<u8>, key: &str, traceparent: Option<&str>) -> SinkResult<Verdict> {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.cfg.backoff_initial)
            .with_max_delay(self.cfg.backoff_max)
            .with_jitter()
            .without_max_times()
            .build();
        let mut last = String::new();
        for attempt in 1..=self.cfg.max_attempts {
            match self.attempt(body.clone(), key, traceparent).await {
                Attempt::Ok => return Ok(Verdict::Written),
                Attempt::Refused(status) => {
                    return Ok(Verdict::DeadLetter {
                        code: "sink.http.rejected",
                        detail: format!("the service answered {status}"),
                    });
                }
                Attempt::Unreachable(e) => {
                    return Err(SinkError::Transient(format!("{} unreachable: {e}", self.cfg.url)));
                }
                Attempt::Retry(e) => last = e,
            }
            if attempt < self.cfg.max_attempts {
                tokio::time::sleep(delays.next().unwrap_or(self.cfg.backoff_max)).await;
            }
        }
        Ok(Verdict::DeadLetter {
            code: "sink.http.exhausted",
            detail: format!("{} attempts failed, the last with {last}", self.cfg.max_attempts),
        })
    }
}

impl SinkWriter for HttpWriter {
    fn write<'a>(&'a mut self, records: &'a [SinkRecord]) -> LocalBoxFuture<'a, SinkResult<Vec<Verdict>>> {
        Box::pin(async move {
            match self.cfg.mode {
                HttpMode::Single => {
                    // The runner streams single mode (`streaming`); this is for a direct caller.
                    let this = &*self;
                    let mut verdicts: Vec<(usize, SinkResult<Verdict>)> = stream::iter(records.iter().enumerate())
                        .map(|(i, r)| async move { (i, this.send(r).await) })
                        .buffer_unordered(self.cfg.concurrency)
                        .collect()
                        .await;
                    verdicts.sort_by_key(|(i, _)| *i);
                    verdicts.into_iter().map(|(_, v)| v).collect()
                }
                HttpMode::Batch => {
                    let mut body = b"[".to_vec();
                    let mut digest = Sha256::new();
                    for (i, r) in records.iter().enumerate() {
                        if i > 0 {
                            body.push(b',');
                        }
                        body.extend_from_slice(&r.payload);
                        digest.update(r.event_id().as_bytes());
                        digest.update(b"\n");
                    }
                    body.push(b']');
                    let key = format!("batch-{}", hex::encode(&digest.finalize()[..16]));
                    let v = self.deliver(body, &key, records.first().and_then(|r| r.traceparent.as_deref())).await?;
                    Ok(vec![v; records.len()])
                }
            }
        })
    }

    fn flush(&mut self) -> LocalBoxFuture<'_, SinkResult<()>> {
        Box::pin(async { Ok(()) })
    }

    fn streaming(&self) -> Option<std::rc::Rc<dyn RecordSender>> {
        (self.cfg.mode == HttpMode::Single).then(|| std::rc::Rc::new(self.clone()) as std::rc::Rc<dyn RecordSender>)
    }
}

impl RecordSender for HttpWriter {
    fn send<'a>(&'a self, r: &'a SinkRecord) -> LocalBoxFuture<'a, SinkResult<Verdict>> {
        Box::pin(self.deliver(r.payload.clone(), r.event_id(), r.traceparent.as_deref()))
    }

    fn concurrency(&self) -> usize {
        self.cfg.concurrency
    }
}

impl super::SinkKind for HttpSinkConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn common(&self) -> super::CommonSinkConfig {
        super::CommonSinkConfig { id: self.id.clone(), topics: self.topics.clone(), batch: self.batch.clone() }
    }
    fn problems(&self) -> Vec<(&'static str, String)> {
        HttpSinkConfig::problems(self)
    }
    fn writer(&self) -> SinkResult<Box<dyn SinkWriter>> {
        HttpWriter::new(self).map(|w| Box::new(w) as Box<dyn SinkWriter>)
    }
}
