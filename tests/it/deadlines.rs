//! Every ingest answer, 503 included, comes within `request_timeout` whatever the broker does: a
//! private broker is frozen with SIGSTOP (connections stay open, nothing is answered) while
//! clients keep sending valid, invalid and undecodable bodies; each answer's time is measured
//! against the deadline (a generous bound; the overshoot is printed), then the broker is thawed
//! and the service takes records again.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::{TestApp, Topics, repo, unique};
use crate::wait::{holds, wait_until};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(4);
/// Far above what is expected (tens of milliseconds): only a missing bound fails it.
const MARGIN: Duration = Duration::from_secs(2);

fn kafka_script(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/kafka")).args(args).output().expect("scripts/kafka");
    assert!(out.status.success(), "scripts/kafka {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn signal(pid: &str, sig: &str) {
    assert!(Command::new("kill").args([sig, pid]).status().unwrap().success(), "kill {sig} {pid}");
}

/// One client: posts bodies in turn for `during`; returns (status, time to answer) of each.
async fn client(url: String, during: Duration, n: usize) -> Vec<(u16, Duration, Option<String>)> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    let mut i = n;
    while started.elapsed() < during {
        let (ct, body) = match i % 3 {
            0 => (
                "application/json",
                serde_json::json!([fixtures::payment(&fixtures::e2e(OWN)), fixtures::bad_cpf(&fixtures::e2e(OWN))])
                    .to_string(),
            ),
            1 => (
                "application/x-ndjson",
                format!("{}\n{}\n", fixtures::payment(&fixtures::e2e(OWN)), fixtures::bad_cpf(&fixtures::e2e(OWN))),
            ),
            _ => ("application/json", "this is not json".to_owned()),
        };
        i += 1;
        let asked = Instant::now();
        let r = http.post(&url).header("content-type", ct).body(body).send().await.expect("an answer");
        let retry_after = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        out.push((r.status().as_u16(), asked.elapsed(), retry_after));
    }
    out
}

#[actix_rt::test]
async fn a_frozen_broker_never_holds_an_answer_past_the_request_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let broker = dir.path().join("broker");
    let bootstrap = kafka_script(&["start", broker.to_str().unwrap()]);
    let pid = std::fs::read_to_string(broker.join("pid")).unwrap().trim().to_owned();
    let config = ConfigBuilder::new(&bootstrap, Topics::new(&unique("frozen")))
        .delivery_timeout(Duration::from_secs(2))
        .api_request_timeout(REQUEST_TIMEOUT);
    let t = TestApp::start_with(&config).await;
    let ok = t.post("application/json", fixtures::payment(&fixtures::e2e(OWN)).to_string()).await;
    assert_eq!(ok.status, 200, "the broker is up: {}", ok.json);

    signal(&pid, "-STOP");
    let url = t.url("/v1/events");
    let clients: Vec<_> = (0..4).map(|n| client(url.clone(), Duration::from_secs(12), n)).collect();
    let answers: Vec<_> = futures::future::join_all(clients).await.into_iter().flatten().collect();
    signal(&pid, "-CONT");

    let slowest = answers.iter().map(|a| a.1).max().unwrap();
    let over = answers.iter().filter(|a| a.1 > REQUEST_TIMEOUT).count();
    eprintln!(
        "broker frozen: {} answers, slowest {slowest:?} (request_timeout {REQUEST_TIMEOUT:?}, overshoot {:?}), \
         {over} past the deadline",
        answers.len(),
        slowest.saturating_sub(REQUEST_TIMEOUT)
    );
    assert!(answers.len() >= 8, "the clients kept sending: {answers:?}");
    for (status, took, retry_after) in &answers {
        assert!(*took <= REQUEST_TIMEOUT + MARGIN, "an answer after {took:?}: {answers:?}");
        assert_eq!(*status, 503, "nothing can be acknowledged by a frozen broker: {answers:?}");
        assert_eq!(retry_after.as_deref(), Some("5"), "{answers:?}");
    }

    // Thawed, the broker takes records again (librdkafka reconnects on its own).
    wait_until("an acknowledged post after the thaw", Duration::from_secs(90), async || {
        let r = t.post("application/json", fixtures::payment(&fixtures::e2e(OWN)).to_string()).await;
        holds(r.status == 200, r.status)
    })
    .await;
    t.stop().await;
    kafka_script(&["stop", broker.to_str().unwrap()]);
}
