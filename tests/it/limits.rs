//! The bounds of an HTTP source against the real broker: items per request (413 before anything
//! is decoded), the body read timeout (a slow or truncated body gets 408 and its connection
//! closed), the cap on connections, and record sizes that agree (a dead letter too large for its
//! topic is written cut, so the item is rejected alone and never a 503; `check-config` refuses a
//! body limit no dead letter can carry).

use std::process::Command;
use std::time::Duration;

use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::TestApp;
use crate::kafka::{headers, in_kafka_async, read_all_async};
use crate::service::BIN;

/// Reads what the server sends until it closes the connection or `within` passes.
async fn read_answer(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(within, stream.read_to_end(&mut buf)).await.is_ok();
    (String::from_utf8_lossy(&buf).into_owned(), closed)
}

#[actix_rt::test]
async fn more_items_than_the_cap_are_refused_413_before_decoding() {
    let t = TestApp::start_with(&ConfigBuilder::for_test("items").api_option("max_items_per_request", json!(5))).await;
    let six: Vec<_> = (0..6).map(|_| fixtures::payment(&fixtures::e2e(OWN))).collect();
    let r = t.post_events(&six).await;
    assert_eq!(r.status, 413, "{}", r.json);
    assert_eq!(r.json["code"], "payload.too_many_items", "{}", r.json);
    // The hostile body of the report: 300,000 tiny invalid items in under 1 MiB.
    let hostile = "{}\n".repeat(300_000);
    let r = t.post("application/x-ndjson", hostile).await;
    assert_eq!((r.status, r.json["code"].as_str()), (413, Some("payload.too_many_items")), "{}", r.json);
    let r = t.post_events(&six[..5]).await;
    assert_eq!(r.status, 200, "at the cap: {}", r.json);
    let kafka = in_kafka_async(&t.bootstrap, &t.topics).await;
    assert_eq!((kafka.published(), kafka.dead_letters.len()), (5, 0), "nothing of the refused bodies was written");
    t.stop().await;
}

#[actix_rt::test]
async fn a_slow_or_truncated_body_is_answered_408_and_its_connection_closed() {
    let config = ConfigBuilder::for_test("slow-body").api_option("body_read_timeout", json!("1s"));
    let t = TestApp::start_with(&config).await;
    let head = "POST /v1/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n";

    // Truncated: the head and a quarter of the body, then nothing.
    let mut truncated = TcpStream::connect(t.addr).await.unwrap();
    truncated.write_all(format!("{head}[{}", " ".repeat(999)).as_bytes()).await.unwrap();
    // Slow: one byte every 200 ms, for longer than the timeout.
    let mut slow = TcpStream::connect(t.addr).await.unwrap();
    slow.write_all(head.as_bytes()).await.unwrap();
    let drip = async {
        for _ in 0..40 {
            if slow.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        read_answer(&mut slow, Duration::from_secs(30)).await
    };
    let (slow_answer, truncated_answer) = futures::join!(drip, read_answer(&mut truncated, Duration::from_secs(30)));
    for (what, (answer, closed)) in [("truncated", truncated_answer), ("slow", slow_answer)] {
        assert!(answer.starts_with("HTTP/1.1 408"), "{what}: {answer}");
        assert!(answer.contains("payload.timeout"), "{what}: {answer}");
        assert!(closed, "{what}: the connection is closed after the answer");
    }
    let kafka = in_kafka_async(&t.bootstrap, &t.topics).await;
    assert_eq!((kafka.published(), kafka.dead_letters.len()), (0, 0));
    t.stop().await;
}

#[actix_rt::test]
async fn the_listener_holds_no_more_connections_than_its_cap() {
    let config =
        ConfigBuilder::for_test("conn-cap").api_option("workers", json!(1)).api_option("max_connections", json!(2));
    let t = TestApp::start_with(&config).await;
    // Two connections take the two places (a request head that never ends).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(t.addr).await.unwrap();
        s.write_all(b"POST /v1/events HTTP/1.1\r\nhost: x\r\n").await.unwrap();
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A third one waits in the backlog: not served while both places are taken.
    let mut third = TcpStream::connect(t.addr).await.unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
    let (early, _) = read_answer(&mut third, Duration::from_secs(1)).await;
    assert!(early.is_empty(), "served past the cap: {early}");
    // One place frees up: the third is served.
    drop(held.remove(0));
    let (answer, _) = read_answer(&mut third, Duration::from_secs(30)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    t.stop().await;
}

/// Creates `topic` with `max.message.bytes` = `max` (before the app, which leaves it alone).
async fn small_topic(bootstrap: &str, topic: &str, max: usize) {
    let admin: AdminClient<DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let max = max.to_string();
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1)).set("max.message.bytes", &max);
    let created = admin.create_topics(&[new], &AdminOptions::new()).await.unwrap();
    assert!(created.iter().all(Result::is_ok), "{created:?}");
}

#[actix_rt::test]
async fn a_dead_letter_too_large_for_its_topic_is_written_cut_and_the_item_rejected_alone() {
    let config = ConfigBuilder::for_test("too-large");
    small_topic(&config.bootstrap, &config.topics.dlq, 100_000).await;
    let t = TestApp::start_with(&config).await;
    // Incompressible (the broker checks the compressed batch): random letters and digits.
    let noise = |n: usize| -> String {
        rand::Rng::sample_iter(rand::rng(), &rand::distr::Alphanumeric).take(n).map(char::from).collect()
    };
    let big = format!("{{\"note\": \"{}\"}}", noise(300_000));
    let (a, b) = (fixtures::payment(&fixtures::e2e(OWN)), fixtures::payment(&fixtures::e2e(OWN)));
    let body = format!("{a}\n{big}\n{b}\n");
    for attempt in 0..2 {
        let r = t.post("application/x-ndjson", body.clone()).await;
        assert_eq!(r.status, 207, "attempt {attempt}: never a 503 for a size: {}", r.json);
        let results = r.json["results"].as_array().unwrap();
        assert_eq!(results[1]["status"], "rejected", "{}", r.json);
        assert_eq!(results[1]["topic"], t.topics.dlq.as_str(), "{}", r.json);
        let others = if attempt == 0 { "accepted" } else { "duplicate" };
        assert!(results.iter().filter(|x| x["index"] != 1).all(|x| x["status"] == others), "{}", r.json);
    }
    // An undecodable single body of the same size: 400 with its (cut) dead letter.
    let r = t.post("application/json", format!("not json {}", noise(300_000))).await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert!(r.json["dead_letter"]["offset"].is_i64(), "{}", r.json);

    let letters = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(letters.len(), 3, "one per refused item and attempt, and the body");
    for m in &letters {
        let h = headers(m);
        let original: usize = h
            .get("pix-dlq-truncated")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{h:?} {}", m.payload().unwrap().len()));
        assert!(original > 300_000 && m.payload().unwrap().len() < 100_000, "{h:?}");
        assert_eq!(h["pix-dlq-original-sha256"].len(), 64, "{h:?}");
    }
    let kafka = in_kafka_async(&t.bootstrap, &t.topics).await;
    assert_eq!(kafka.published(), 2, "the valid lines were published once: {:?}", kafka.events);
    t.stop().await;
}

#[test]
fn check_config_refuses_a_body_limit_no_dead_letter_can_carry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let text = "kafka:\n  bootstrap_servers: embedded\n  properties:\n    message.max.bytes: 1000000\npix:\n  own_ispbs: [\"99999010\"]\nsources:\n  - id: api\n    type: http\n    listen: 127.0.0.1:0\n    max_body_bytes: 1048576\n";
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN).args(["check-config", "--config", path.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(err.contains(&format!("{}:11", path.display())), "{err}");
    assert!(err.contains("sources[0].max_body_bytes") && err.contains("message.max.bytes"), "{err}");
    std::fs::write(&path, text.replace("1048576", "900000")).unwrap();
    let out = Command::new(BIN).args(["check-config", "--config", path.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
