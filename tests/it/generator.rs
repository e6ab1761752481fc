//! Synthetic load: the generator source, and `pix-ingest gen` against a running instance.

use std::time::Duration;

use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::harness::TestApp;
use crate::kafka::in_kafka_async;
use crate::service::BIN;
use crate::wait::wait_until;

/// Records in the category topics and dead letters.
async fn counts(t: &TestApp) -> (usize, usize) {
    let p = in_kafka_async(&t.bootstrap, &t.topics).await;
    (p.published(), p.dead_letters.len())
}

#[actix_rt::test]
async fn gen_reports_what_the_instance_counted() {
    let t = TestApp::start("gen").await;
    let url = t.url("/v1/events");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(["gen", "--url", &url, "--count", "300", "--batch", "25", "--rate", "3000", "--invalid-ratio", "0.1"])
            .args(["--seed", "42", "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sent"], 300);
    assert_eq!(report["requests"], 12);
    assert_eq!(report["unavailable"], 0, "{report}");
    assert_eq!(
        report["rejected"], report["generated_invalid"],
        "every invalid event, and only those, rejected: {report}"
    );
    assert!(report["rejected"].as_u64().unwrap() > 0);
    let accepted = report["accepted"].as_u64().unwrap() as usize;
    let rejected = report["rejected"].as_u64().unwrap() as usize;
    assert_eq!(accepted + rejected, 300);
    assert_eq!(counts(&t).await, (accepted, rejected), "the report matches what is in Kafka");
    assert!(report["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    t.stop().await;
}

#[actix_rt::test]
async fn generator_source_publishes_its_total() {
    let generator = json!({
        "id": "synth", "type": "generator", "rate": 2000, "batch": 20, "invalid_ratio": 0.2, "total": 120, "seed": 7
    });
    let t = TestApp::start_with(&ConfigBuilder::for_test("generator").source(generator)).await;
    let (published, dead) = wait_until("the generator's 120 events in Kafka", Duration::from_secs(30), async || {
        let (published, dead) = counts(&t).await;
        if published + dead >= 120 { Ok((published, dead)) } else { Err(format!("{published} + {dead} of 120")) }
    })
    .await;
    assert_eq!(published + dead, 120, "exactly the total");
    assert!(dead > 0 && published > dead, "valid and invalid events: {published} / {dead}");
    t.stop().await;
}

/// `pix-ingest gen` exits 1, naming the cause, when nothing listens at the target.
#[test]
fn gen_fails_naming_the_cause_when_the_target_is_unreachable() {
    let url = format!("http://127.0.0.1:{}/v1/events", crate::service::free_port());
    let out = std::process::Command::new(BIN)
        .args(["gen", "--url", &url, "--count", "20", "--batch", "10", "--rate", "1000", "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("FAILED") && err.contains("2 of 2 requests") && err.contains("Connection refused"), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["failed_requests"].as_u64(), report["unavailable"].as_u64()), (Some(2), Some(20)), "{report}");
}

/// ... and when the instance answers with errors (here a wrong path: 404).
#[actix_rt::test]
async fn gen_fails_when_the_target_answers_errors() {
    let t = TestApp::start("gen-404").await;
    let url = t.url("/v1/nope");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(["gen", "--url", &url, "--count", "30", "--batch", "10", "--rate", "1000", "--json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("answered 404"), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed_requests"], 3, "{report}");
    assert_eq!(counts(&t).await, (0, 0), "nothing reached Kafka");
    t.stop().await;
}
