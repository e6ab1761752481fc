//! Supervision of sinks against the real broker, with the test-only fault switch (feature
//! `fault-injection`): a record that makes a sink panic is quarantined to the DLQ while the other
//! sinks keep working, and a sink that panics at every start ends FAILED.

use std::time::Duration;

use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER};
use crate::harness::{ChildState, TestApp};
use crate::kafka::{headers, read_all_async};
use crate::wait::{holds, wait_until};

/// The test config with restarts at most 200 ms apart.
fn config(test: &str) -> ConfigBuilder {
    ConfigBuilder::for_test(test).backoff_max(Duration::from_millis(200))
}

#[actix_rt::test]
async fn a_record_that_crashes_a_sink_is_quarantined_and_only_that_sink_restarts() {
    let (good, crashy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let batch = json!({ "max_events": 20, "max_age": "200ms" });
    let config = config("quarantine")
        .sink(json!({ "id": "good", "type": "file", "dir": good.path(), "batch": batch }))
        .sink(json!({
            "id": "crashy", "type": "file", "dir": crashy.path(), "batch": batch, "fault": { "panic_on_amount": "6.66" }
        }))
        .max_restarts(10);
    let t = TestApp::start_with(&config).await;
    let mut events: Vec<_> = (0..10).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    events[4]["amount"] = json!("6.66");
    let r = t.post_events(&events).await;
    assert_eq!(r.status, 200);
    let poison_id = r.json["results"][4]["event_id"].as_str().unwrap().to_owned();

    wait_until("both sinks to write around the poison record", Duration::from_secs(60), async || {
        let (good, crashy) = (t.written("good"), t.written("crashy"));
        holds(good >= 10 && crashy >= 9, format!("good {good} crashy {crashy}"))
    })
    .await;
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 1, "the poison record, once");
    let h = headers(&dlq[0]);
    assert_eq!((h["pix-dlq-reason"].as_str(), h["pix-dlq-stage"].as_str()), ("sink.quarantined", "sink_write"));
    assert_eq!(h["pix-source"], "crashy");
    assert_eq!(h["pix-dlq-origin-topic"], t.topics.receipt);
    let v: serde_json::Value = serde_json::from_slice(rdkafka::Message::payload(&dlq[0]).unwrap()).unwrap();
    assert_eq!(v["event_id"], poison_id.as_str());

    let (g, c) = (t.child("good").await, t.child("crashy").await);
    assert_eq!((g.state, g.restarts), (ChildState::Running, 0), "the other sink never restarted");
    assert_eq!(c.state, ChildState::Running);
    assert!(c.restarts >= 2, "crashed until quarantined: {c:?}");
    assert!(c.last_error.as_deref().unwrap_or_default().contains("panicked"), "{c:?}");
    assert_eq!(t.written("good"), 10, "the poison record is fine for the healthy sink");
    t.stop().await;
}

#[actix_rt::test]
async fn a_sink_that_crashes_at_every_start_is_failed_after_its_restart_budget() {
    let (good, bad) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = config("failed-sink")
        .sink(json!({ "id": "good", "type": "file", "dir": good.path(), "batch": { "max_age": "100ms" } }))
        .sink(json!({ "id": "broken", "type": "file", "dir": bad.path(), "fault": { "panic_on_start": true } }))
        .max_restarts(3)
        .restart_window(Duration::from_secs(60));
    let t = TestApp::start_with(&config).await;
    let broken = t.failed("broken", Duration::from_secs(30)).await;
    assert_eq!(broken.restarts, 4);
    // it stays FAILED and visible; the healthy sink keeps consuming
    let events: Vec<_> = (0..5).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    assert_eq!(t.post_events(&events).await.status, 200);
    wait_until("the healthy sink to write 5 events", Duration::from_secs(30), async || {
        let n = t.written("good");
        holds(n >= 5, n)
    })
    .await;
    assert_eq!(t.child("broken").await.state, ChildState::Failed);
    assert_eq!(t.child("good").await.restarts, 0);
    t.stop().await;
}
