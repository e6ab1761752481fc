//! Supervision of sinks against the real broker, with the test-only fault switch (feature
//! `fault-injection`): a record that makes a sink panic is quarantined to the DLQ while the other
//! sinks keep working, and a sink that panics at every start ends FAILED.

use std::time::{Duration, Instant};

use pix_ingest::supervisor::ChildState;

use crate::fixtures::{self, OTHER};
use crate::harness::{TestApp, Topics, bootstrap, config_yaml, unique};
use crate::kafka::{headers, read_all_async};

async fn start(test: &str, sinks: &str, supervision: &str) -> TestApp {
    let b = bootstrap();
    let topics = Topics::new(&unique(test));
    let yaml = config_yaml(&b, &topics, "", "")
        .replace("telemetry:", &format!("sinks:\n{sinks}\ntelemetry:"))
        .replace("  backoff_max: 1s", supervision);
    TestApp::start_yaml(&b, topics, &yaml).await
}

fn written(t: &TestApp, sink: &str) -> u64 {
    t.app.metrics().sink_written.with_label_values(&[sink]).get()
}

async fn child(t: &TestApp, id: &str) -> pix_ingest::supervisor::ChildInfo {
    t.app.children().await.into_iter().find(|c| c.id == id).unwrap()
}

#[actix_rt::test]
async fn a_record_that_crashes_a_sink_is_quarantined_and_only_that_sink_restarts() {
    let (good, crashy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let t = start(
        "quarantine",
        &format!(
            "  - {{ id: good, type: file, dir: \"{}\", batch: {{ max_events: 20, max_age: 200ms }} }}\n  \
             - {{ id: crashy, type: file, dir: \"{}\", batch: {{ max_events: 20, max_age: 200ms }}, fault: {{ panic_on_amount: \"6.66\" }} }}",
            good.path().display(),
            crashy.path().display()
        ),
        "  backoff_max: 200ms\n  max_restarts: 10",
    )
    .await;
    let mut events: Vec<_> = (0..10).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    events[4]["amount"] = serde_json::json!("6.66");
    let r = t.post("application/json", serde_json::json!(events).to_string()).await;
    assert_eq!(r.status, 200);
    let poison_id = r.json["results"][4]["event_id"].as_str().unwrap().to_owned();

    let deadline = Instant::now() + Duration::from_secs(60);
    while written(&t, "good") < 10 || written(&t, "crashy") < 9 {
        assert!(Instant::now() < deadline, "good {} crashy {}", written(&t, "good"), written(&t, "crashy"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 1, "the poison record, once");
    let h = headers(&dlq[0]);
    assert_eq!((h["pix-dlq-reason"].as_str(), h["pix-dlq-stage"].as_str()), ("sink.quarantined", "sink_write"));
    assert_eq!(h["pix-source"], "crashy");
    assert_eq!(h["pix-dlq-origin-topic"], t.topics.receipt);
    let v: serde_json::Value = serde_json::from_slice(rdkafka::Message::payload(&dlq[0]).unwrap()).unwrap();
    assert_eq!(v["event_id"], poison_id.as_str());

    let (g, c) = (child(&t, "good").await, child(&t, "crashy").await);
    assert_eq!((g.state, g.restarts), (ChildState::Running, 0), "the other sink never restarted");
    assert_eq!(c.state, ChildState::Running);
    assert!(c.restarts >= 2, "crashed until quarantined: {c:?}");
    assert!(c.last_error.as_deref().unwrap_or_default().contains("panicked"), "{c:?}");
    assert_eq!(written(&t, "good"), 10, "the poison record is fine for the healthy sink");
    t.stop().await;
}

#[actix_rt::test]
async fn a_sink_that_crashes_at_every_start_is_failed_after_its_restart_budget() {
    let (good, bad) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let t = start(
        "failed-sink",
        &format!(
            "  - {{ id: good, type: file, dir: \"{}\", batch: {{ max_age: 100ms }} }}\n  \
             - {{ id: broken, type: file, dir: \"{}\", fault: {{ panic_on_start: true }} }}",
            good.path().display(),
            bad.path().display()
        ),
        "  backoff_max: 200ms\n  max_restarts: 3\n  window: 60s",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let broken = loop {
        let c = child(&t, "broken").await;
        if c.state == ChildState::Failed {
            break c;
        }
        assert!(Instant::now() < deadline, "{c:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(broken.restarts, 4);
    // it stays FAILED and visible; the healthy sink keeps consuming
    let events: Vec<_> = (0..5).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    assert_eq!(t.post("application/json", serde_json::json!(events).to_string()).await.status, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while written(&t, "good") < 5 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(child(&t, "broken").await.state, ChildState::Failed);
    assert_eq!(child(&t, "good").await.restarts, 0);
    t.stop().await;
}
