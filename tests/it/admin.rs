//! The admin listener: metrics that follow traffic, readiness, the actor registry, and a source
//! that cannot start being restarted with backoff until it is marked FAILED.

use std::time::Duration;

use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::TestApp;
use crate::wait::{holds, wait_until};

async fn get(url: String) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[actix_rt::test]
async fn metrics_follow_traffic_and_registry_is_served() {
    let t = TestApp::start("admin").await;
    let admin = t.app.admin_addr().expect("admin listener");
    let body = serde_json::json!([fixtures::payment(&fixtures::e2e(OWN)), fixtures::bad_cpf(&fixtures::e2e(OWN))]);
    assert_eq!(t.post("application/json", body.to_string()).await.status, 207);

    let (status, text) = get(format!("http://{admin}/metrics")).await;
    assert_eq!(status, 200);
    for line in [
        "pix_ingest_events_received_total{source=\"api\"} 2".to_owned(),
        "pix_ingest_source_records_total{outcome=\"accepted\",source=\"api\"} 1".to_owned(),
        "pix_ingest_source_records_total{outcome=\"rejected\",source=\"api\"} 1".to_owned(),
        "pix_ingest_events_rejected_total{reason=\"tax_id.check_digit\",source=\"api\"} 1".to_owned(),
        "pix_ingest_dead_letters_total{reason=\"tax_id.check_digit\",stage=\"validate\"} 1".to_owned(),
        format!("pix_ingest_records_produced_total{{topic=\"{}\"}} 1", t.topics.payment),
        format!("pix_ingest_records_produced_total{{topic=\"{}\"}} 1", t.topics.dlq),
        "pix_ingest_http_requests_total{route=\"/v1/events\",source=\"api\",status=\"207\"} 1".to_owned(),
        "pix_ingest_actor_state{actor=\"api\",state=\"RUNNING\"} 1".to_owned(),
    ] {
        assert!(text.contains(&line), "missing `{line}` in:\n{text}");
    }
    assert!(!text.contains("52998224724"), "no payload value in labels");
    // librdkafka's statistics arrive every 5 s: queue depth and broker round-trip time
    wait_until("librdkafka statistics in /metrics", Duration::from_secs(20), async || {
        let (_, text) = get(format!("http://{admin}/metrics")).await;
        holds(
            text.contains("pix_ingest_kafka_producer_queue_messages{actor=\"router\"}")
                && text.contains("pix_ingest_kafka_broker_rtt_seconds{actor=\"router\""),
            text,
        )
    })
    .await;

    let (status, ready) = get(format!("http://{admin}/readyz")).await;
    assert_eq!(status, 200, "{ready}");
    let (status, alive) = get(format!("http://{admin}/healthz")).await;
    assert_eq!((status, alive.contains("alive")), (200, true));
    let (status, list) = get(format!("http://{admin}/api/v1/actors")).await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["id"], "api");
    assert_eq!(list[0]["state"], "RUNNING");
    assert_eq!(list[0]["type"], "http");
    // The pipeline actors are in the registry too, after the sources and sinks.
    let pipeline: Vec<(&str, &str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "pipeline")
        .map(|c| (c["id"].as_str().unwrap(), c["type"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(pipeline, [("router", "router", "RUNNING"), ("dead-letter", "dead_letter", "RUNNING")]);
    assert_eq!(get(format!("http://{admin}/api/v1/actors/router")).await.0, 200);
    assert_eq!(get(format!("http://{admin}/api/v1/actors/api")).await.0, 200);
    assert_eq!(get(format!("http://{admin}/api/v1/actors/nope")).await.0, 404);
    t.stop().await;
}

#[actix_rt::test]
async fn a_source_that_cannot_bind_is_restarted_then_failed_while_others_keep_working() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = ConfigBuilder::for_test("failed")
        .source(json!({ "id": "blocked", "type": "http", "listen": format!("127.0.0.1:{port}") }))
        .backoff_max(Duration::from_millis(200))
        .max_restarts(3)
        .restart_window(Duration::from_secs(60));
    let t = TestApp::start_with(&config).await;
    let blocked = t.failed("blocked", Duration::from_secs(20)).await;
    assert_eq!(blocked.restarts, 4, "three restarts allowed, the fourth marks it FAILED");
    assert!(blocked.last_error.as_deref().unwrap_or_default().contains("cannot bind"), "{blocked:?}");
    // the other source keeps working
    let r = t.post("application/json", fixtures::payment(&fixtures::e2e(OWN)).to_string()).await;
    assert_eq!(r.status, 200);
    let admin = t.app.admin_addr().unwrap();
    let (status, body) = get(format!("http://{admin}/readyz")).await;
    assert_eq!(status, 503);
    assert!(body.contains("blocked: FAILED"), "{body}");
    let (_, metrics) = get(format!("http://{admin}/metrics")).await;
    assert!(metrics.contains("pix_ingest_actor_restarts_total{actor=\"blocked\"} 4"), "{metrics}");
    assert!(metrics.contains("pix_ingest_actor_state{actor=\"blocked\",state=\"FAILED\"} 1"), "{metrics}");
    drop(taken);
    t.stop().await;
}
