//! A steady client load for the cluster tests: workers POST one payment each per request until
//! stopped, and every answer is kept with its time, so a test can say which acknowledged events
//! Kafka holds and when the errors were.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::fixtures::{self, OWN};

/// One answer: when it came (since the load started), its status, and the event id if accepted.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub at: Duration,
    pub status: u16,
    pub accepted: Option<String>,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<Vec<Outcome>>>,
    pub started: Instant,
}

impl Load {
    /// `workers` clients, each with one request in flight, against the source at `addr`.
    pub fn start(addr: SocketAddr, workers: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers = (0..workers)
            .map(|_| {
                let stop = stop.clone();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut out = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        out.push(send(&client, addr, started).await);
                    }
                    out
                })
            })
            .collect();
        Self { stop, workers, started }
    }

    /// Stops the workers and returns every answer, in time order.
    pub async fn finish(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for w in self.workers {
            all.extend(w.await.unwrap());
        }
        all.sort_by_key(|o| o.at);
        all
    }
}

async fn send(client: &reqwest::Client, addr: SocketAddr, started: Instant) -> Outcome {
    let body = fixtures::payment(&fixtures::e2e(OWN)).to_string();
    let sent = client
        .post(format!("http://{addr}/v1/events"))
        .header("content-type", "application/json")
        .body(body)
        .timeout(Duration::from_secs(60))
        .send()
        .await;
    let (status, accepted) = match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let json: serde_json::Value = resp.json().await.unwrap_or_default();
            let accepted = (status == 200 && json["results"][0]["status"] == "accepted")
                .then(|| json["results"][0]["event_id"].as_str().unwrap().to_owned());
            (status, accepted)
        }
        Err(_) => (0, None),
    };
    if accepted.is_none() {
        // do not spin on a failing service
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Outcome { at: started.elapsed(), status, accepted }
}

/// What a finished load says: acknowledged event ids, the number of other answers, and the
/// span from the first to the last of them (the error window).
pub struct Summary {
    pub acknowledged: BTreeSet<String>,
    pub errors: usize,
    /// status -> answers with it, for the answers that accepted nothing (0: no answer at all).
    pub statuses: std::collections::BTreeMap<u16, usize>,
    pub error_window: Option<(Duration, Duration)>,
}

pub fn summary(outcomes: &[Outcome]) -> Summary {
    let acknowledged = outcomes.iter().filter_map(|o| o.accepted.clone()).collect();
    let errors: Vec<_> = outcomes.iter().filter(|o| o.accepted.is_none()).collect();
    let error_window = errors.first().map(|f| (f.at, errors.last().unwrap().at));
    let mut statuses = std::collections::BTreeMap::new();
    for e in &errors {
        *statuses.entry(e.status).or_insert(0) += 1;
    }
    Summary { acknowledged, errors: errors.len(), statuses, error_window }
}
