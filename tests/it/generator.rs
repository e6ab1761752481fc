//! Synthetic load: the generator source, and `pix-ingest gen` against a running instance.

use std::time::{Duration, Instant};

use crate::harness::{TestApp, Topics, config_yaml, unique};
use crate::kafka::read_all_async;

const BIN: &str = env!("CARGO_BIN_EXE_pix-ingest");

async fn counts(t: &TestApp) -> (usize, usize) {
    let mut published = 0;
    for topic in [&t.topics.payment, &t.topics.receipt, &t.topics.refund] {
        published += read_all_async(&t.bootstrap, topic).await.len();
    }
    (published, read_all_async(&t.bootstrap, &t.topics.dlq).await.len())
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
    let bootstrap = crate::harness::bootstrap();
    let topics = Topics::new(&unique("generator"));
    let yaml = config_yaml(
        &bootstrap,
        &topics,
        "  - { id: synth, type: generator, rate: 2000, batch: 20, invalid_ratio: 0.2, total: 120, seed: 7 }",
        "",
    );
    let t = TestApp::start_yaml(&bootstrap, topics, &yaml).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (published, dead) = counts(&t).await;
        if published + dead >= 120 {
            assert_eq!(published + dead, 120, "exactly the total");
            assert!(dead > 0 && published > dead, "valid and invalid events: {published} / {dead}");
            break;
        }
        assert!(Instant::now() < deadline, "only {published} + {dead} of 120");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    t.stop().await;
}
