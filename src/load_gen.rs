//! `pix-ingest gen`: synthetic Pix events sent to a running pix-ingest over HTTP at a target rate
//! (or written as NDJSON to a file), with a progress bar and a final report of what the instance
//! answered: sent, accepted, rejected, unavailable, achieved rate, request latency percentiles
//! (over every request). [`GenReport::failure`] is the rule `main` exits 1 by: any request
//! without a usable answer (unreachable target, an error status, a body that is not an ingest
//! answer) or any record the instance reported unavailable.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::synth::Synth;

/// Options of `pix-ingest gen`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenArgs {
    /// Where to POST (an HTTP source's /v1/events).
    #[arg(long, default_value = "http://127.0.0.1:8080/v1/events")]
    pub url: String,
    /// Target events per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Events to send in all.
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Events per request (a JSON array).
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Share of events that break a hard rule.
    #[arg(long, default_value_t = 0.05)]
    pub invalid_ratio: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Our ISPB (decides payment vs receipt on the instance).
    #[arg(long, default_value = "99999010")]
    pub own_ispb: String,
    /// Random seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write NDJSON to this file instead of sending.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the final report as JSON (no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// The final report.
#[derive(Debug, Default, Serialize)]
pub struct GenReport {
    /// Events generated and sent (or written).
    pub sent: u64,
    /// Of those, made invalid on purpose.
    pub generated_invalid: u64,
    /// HTTP requests made.
    pub requests: u64,
    /// Records the instance reported accepted.
    pub accepted: u64,
    /// Records the instance reported rejected.
    pub rejected: u64,
    /// Records the instance reported unavailable (or requests that failed).
    pub unavailable: u64,
    /// Requests that got no usable answer.
    pub failed_requests: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Achieved events per second.
    pub events_per_second: f64,
    /// Request latency percentiles in milliseconds, over every request.
    pub latency_ms: Latency,
    /// The first request failure, e.g. `connection refused` or `answered 404`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl GenReport {
    /// Why the run counts as failed, when it does: any failed request or unavailable record.
    pub fn failure(&self) -> Option<String> {
        if self.failed_requests == 0 && self.unavailable == 0 {
            return None;
        }
        let mut why = format!(
            "{} of {} requests got no usable answer, {} of {} records unavailable",
            self.failed_requests, self.requests, self.unavailable, self.sent
        );
        if let Some(e) = &self.first_error {
            why.push_str(&format!(" (first failure: {e})"));
        }
        Some(why)
    }
}

/// Latency percentiles.
#[derive(Debug, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// Why `pix-ingest gen` could not run.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The options do not make sense.
    #[error("--rate, --batch and --concurrency must be positive and --invalid-ratio in [0, 1]")]
    Options,
    /// The output file cannot be written.
    #[error("{path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client cannot be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Runs the generator; returns the report.
pub async fn run(args: GenArgs) -> Result<GenReport, GenError> {
    if args.rate.is_nan()
        || args.rate <= 0.0
        || args.batch == 0
        || args.concurrency == 0
        || !(0.0..=1.0).contains(&args.invalid_ratio)
    {
        return Err(GenError::Options);
    }
    let seed = args.seed.unwrap_or_else(|| chrono::Utc::now().timestamp_micros().unsigned_abs());
    let mut synth = Synth::new(seed, &args.own_ispb, args.invalid_ratio);
    let mut report = GenReport::default();
    let start = Instant::now();
    let bar = if args.json { ProgressBar::hidden() } else { ProgressBar::new(args.count) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    match &args.out {
        Some(path) => write_ndjson(&args, path, &mut synth, &mut report, &bar)
            .map_err(|source| GenError::Output { path: path.clone(), source })?,
        None => send(&args, &mut synth, &mut report, &bar).await?,
    }
    bar.finish();
    report.seconds = start.elapsed().as_secs_f64();
    report.events_per_second = report.sent as f64 / report.seconds.max(1e-9);
    Ok(report)
}

fn write_ndjson(
    args: &GenArgs,
    path: &std::path::Path,
    synth: &mut Synth,
    report: &mut GenReport,
    bar: &ProgressBar,
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for _ in 0..args.count {
        let (bytes, invalid) = synth.next_event();
        f.write_all(&bytes)?;
        f.write_all(b"\n")?;
        report.sent += 1;
        report.generated_invalid += u64::from(invalid);
        bar.inc(1);
    }
    f.flush()
}

/// Sends JSON arrays of `args.batch` events at the target rate, `args.concurrency` in flight;
/// every request's latency goes into the percentiles.
async fn send(args: &GenArgs, synth: &mut Synth, report: &mut GenReport, bar: &ProgressBar) -> Result<(), GenError> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(GenError::Client)?;
    let permits = Arc::new(Semaphore::new(args.concurrency));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(args.batch as f64 / args.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks = tokio::task::JoinSet::new();
    let mut latencies = Vec::new();
    let mut remaining = args.count;
    while remaining > 0 {
        tick.tick().await;
        let n = remaining.min(args.batch as u64);
        remaining -= n;
        let mut body = Vec::with_capacity(n as usize * 600);
        body.push(b'[');
        for i in 0..n {
            if i > 0 {
                body.push(b',');
            }
            let (bytes, invalid) = synth.next_event();
            body.extend_from_slice(&bytes);
            report.generated_invalid += u64::from(invalid);
        }
        body.push(b']');
        report.sent += n;
        report.requests += 1;
        // The semaphore is never closed, so acquiring cannot fail.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
        let (client, url, bar) = (client.clone(), args.url.clone(), bar.clone());
        tasks.spawn(async move {
            let t = Instant::now();
            let answer = post(&client, &url, body).await;
            drop(permit);
            bar.inc(n);
            (n, t.elapsed(), answer)
        });
        while let Some(done) = tasks.try_join_next() {
            account(report, done, &mut latencies);
        }
    }
    while let Some(done) = tasks.join_next().await {
        account(report, done, &mut latencies);
    }
    report.latency_ms = percentiles(&mut latencies);
    Ok(())
}

/// Nearest-rank percentiles (in ms) of every latency given.
fn percentiles(latencies: &mut [Duration]) -> Latency {
    latencies.sort();
    let pct = |p: f64| {
        latencies.get(((latencies.len().saturating_sub(1)) as f64 * p) as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Latency { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: pct(1.0) }
}

type Done = (u64, Duration, Result<(u64, u64, u64), String>);

fn account(report: &mut GenReport, done: Result<Done, tokio::task::JoinError>, latencies: &mut Vec<Duration>) {
    match done {
        Ok((n, took, answer)) => {
            latencies.push(took);
            match answer {
                Ok((a, r, u)) => {
                    report.accepted += a;
                    report.rejected += r;
                    report.unavailable += u;
                }
                Err(e) => {
                    report.failed_requests += 1;
                    report.unavailable += n;
                    report.first_error.get_or_insert(e);
                }
            }
        }
        Err(e) => {
            report.failed_requests += 1;
            report.first_error.get_or_insert(format!("the request task failed: {e}"));
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Result<(u64, u64, u64), String> {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| crate::base::error_chain(&e))?;
    let status = resp.status().as_u16();
    // The ingest answers: 200, 207, 422 (records judged) and 503 (records unavailable, counted as
    // such); anything else (401, 404, 413, 500...) is a failed request.
    if !matches!(status, 200 | 207 | 422 | 503) {
        return Err(format!("answered {status}"));
    }
    let v: serde_json::Value = resp.json().await.map_err(|e| format!("answered {status} with no JSON: {e}"))?;
    let n = |k: &str| {
        v.get(k).and_then(serde_json::Value::as_u64).ok_or_else(|| format!("answered {status} without `{k}`"))
    };
    Ok((n("accepted")?, n("rejected")?, n("unavailable")?))
}

impl std::fmt::Display for GenReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "sent        {} events in {} requests ({} generated invalid)",
            self.sent, self.requests, self.generated_invalid
        )?;
        writeln!(f, "accepted    {}", self.accepted)?;
        writeln!(f, "rejected    {}", self.rejected)?;
        writeln!(f, "unavailable {} ({} failed requests)", self.unavailable, self.failed_requests)?;
        writeln!(f, "rate        {:.1} events/s over {:.2}s", self.events_per_second, self.seconds)?;
        write!(
            f,
            "latency     p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.latency_ms.p50, self.latency_ms.p90, self.latency_ms.p99, self.latency_ms.max
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_cover_every_request() {
        let mut all: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let l = percentiles(&mut all);
        assert_eq!((l.p50, l.p90, l.p99, l.max), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(percentiles(&mut []).max, 0.0);
    }

    #[test]
    fn any_failed_request_or_unavailable_record_is_a_failure() {
        let ok = GenReport { sent: 10, requests: 1, accepted: 9, rejected: 1, ..GenReport::default() };
        assert_eq!(ok.failure(), None);
        let refused = GenReport {
            sent: 10,
            requests: 1,
            failed_requests: 1,
            unavailable: 10,
            first_error: Some("connection refused".into()),
            ..GenReport::default()
        };
        let why = refused.failure().unwrap();
        assert!(why.contains("1 of 1 requests") && why.contains("connection refused"), "{why}");
        let unavailable = GenReport { sent: 10, requests: 1, accepted: 5, unavailable: 5, ..GenReport::default() };
        assert!(unavailable.failure().unwrap().contains("5 of 10 records unavailable"));
    }
}
