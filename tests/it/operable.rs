//! Health that tells the truth, against the real broker: the consumer lag of a sink whose
//! destination is down, compared with the group's offsets as Kafka reports them, and the sink
//! shown DEGRADED with its error until the destination is back; readiness per listener and per
//! actor, and an admin addition that cannot bind answered with its error.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{Value, json};

use crate::config_builder::{ADMIN_TOKEN, ConfigBuilder};
use crate::fixtures::{self, OTHER};
use crate::harness::{ChildState, TestApp};
use crate::service::free_port;
use crate::sinks::start_scoring;
use crate::wait::{holds, wait_until};

/// (partition, lag) of group `group` on `topic` as Kafka reports it: high watermark minus the
/// committed offset (the low watermark when nothing is committed).
async fn kafka_lag(bootstrap: &str, group: &str, topic: &str) -> Vec<(i32, i64)> {
    let (b, g, t) = (bootstrap.to_owned(), group.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let c: BaseConsumer = ClientConfig::new().set("bootstrap.servers", &b).set("group.id", &g).create().unwrap();
        let timeout = Duration::from_secs(10);
        let md = c.fetch_metadata(Some(&t), timeout).unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in md.topics()[0].partitions() {
            tpl.add_partition(&t, p.id());
        }
        let committed = c.committed_offsets(tpl, timeout).unwrap();
        let mut out: Vec<(i32, i64)> = committed
            .elements()
            .iter()
            .map(|e| {
                let (low, high) = c.fetch_watermarks(&t, e.partition(), timeout).unwrap();
                let at = if let Offset::Offset(o) = e.offset() { o } else { low };
                (e.partition(), high - at)
            })
            .collect();
        out.sort();
        out
    })
    .await
    .unwrap()
}

/// (partition, lag) of sink `sink` on `topic` from the app's gauge.
fn gauge_lag(t: &TestApp, sink: &str, topic: &str, partitions: &[i32]) -> Vec<(i32, i64)> {
    let m = &t.app.metrics().consumer_lag;
    partitions.iter().map(|p| (*p, m.with_label_values(&[sink, topic, &p.to_string()]).get())).collect()
}

async fn admin_get(t: &TestApp, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("http://{}{path}", t.app.admin_addr().unwrap())).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[actix_rt::test]
async fn lag_follows_the_group_offsets_while_the_destination_is_down_and_the_sink_shows_degraded() {
    let port = free_port();
    let sink = json!({ "id": "scoring", "type": "http", "url": format!("http://127.0.0.1:{port}/score"),
                       "topics": ["receipt"], "batch": { "max_age": "100ms" } });
    let t = TestApp::start_with(&ConfigBuilder::for_test("lagdown").sink(sink)).await;
    let (group, topic) = ("pix-ingest.scoring", t.topics.receipt.clone());
    let n = 9;
    let events: Vec<_> = (0..n).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    assert_eq!(t.post_events(&events).await.status, 200);

    // Nothing commits: the lag Kafka reports is every record, and the gauge says the same.
    wait_until("the lag gauge to match Kafka's figures", Duration::from_secs(60), async || {
        let kafka = kafka_lag(&t.bootstrap, group, &topic).await;
        let parts: Vec<i32> = kafka.iter().map(|(p, _)| *p).collect();
        let gauge = gauge_lag(&t, "scoring", &topic, &parts);
        let total: i64 = kafka.iter().map(|(_, l)| l).sum();
        holds(gauge == kafka && total == n as i64, format!("gauge {gauge:?}, kafka {kafka:?}"))
    })
    .await;
    let (status, actor) = wait_until("the sink to show DEGRADED", Duration::from_secs(30), async || {
        let (status, actor) = admin_get(&t, "/api/v1/actors/scoring").await;
        if actor["state"] == "DEGRADED" { Ok((status, actor)) } else { Err((status, actor)) }
    })
    .await;
    assert_eq!(status, 200);
    let error = actor["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("write failed"), "{actor}");
    assert!(actor["degraded_since"].is_string() && actor["last_error_at"].is_string(), "{actor}");
    wait_until("pix_ingest_actor_state to say DEGRADED", Duration::from_secs(10), async || {
        let g = t.app.metrics().actor_state.with_label_values(&["scoring", "DEGRADED"]).get();
        holds(g == 1, g)
    })
    .await;
    // A DEGRADED sink does not take the instance out of rotation; it is listed.
    let (status, ready) = admin_get(&t, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready["degraded"].to_string().contains("scoring: DEGRADED"), "{ready}");

    // The destination comes back: everything is written, committed, and the lag is 0 again.
    // (it answers 503 to the first two attempts of each event, then 200: the sink's retries)
    let server = start_scoring(port, Default::default());
    wait_until("the lag to drain to 0 on both sides", Duration::from_secs(60), async || {
        let kafka = kafka_lag(&t.bootstrap, group, &topic).await;
        let parts: Vec<i32> = kafka.iter().map(|(p, _)| *p).collect();
        let gauge = gauge_lag(&t, "scoring", &topic, &parts);
        holds(kafka.iter().all(|(_, l)| *l == 0) && gauge == kafka, format!("gauge {gauge:?}, kafka {kafka:?}"))
    })
    .await;
    assert_eq!(t.child("scoring").await.state, ChildState::Running);
    t.stop().await;
    server.stop(true).await;
}

async fn admin_call(t: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("http://{}{path}", t.app.admin_addr().unwrap()))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let status = r.status().as_u16();
    let mut json: Value = r.json().await.unwrap_or_default();
    json["content-type"] = json!(ct);
    (status, json)
}

async fn listener_ready(addr: std::net::SocketAddr) -> u16 {
    reqwest::get(format!("http://{addr}/readyz")).await.unwrap().status().as_u16()
}

#[actix_rt::test]
async fn readiness_is_per_listener_and_an_addition_that_cannot_bind_is_refused() {
    let config = ConfigBuilder::for_test("readyper").max_restarts(1).backoff_max(Duration::from_millis(100));
    let t = TestApp::start_with(&config).await;
    // A source whose port is taken: refused with the bind error, not kept, not persisted.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = json!({ "id": "busy", "type": "http", "listen": taken.local_addr().unwrap().to_string() });
    let (status, problem) = admin_call(&t, reqwest::Method::POST, "/api/v1/sources", Some(busy)).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        (problem["code"].as_str(), problem["content-type"].as_str()),
        (Some("actor.start_failed"), Some("application/problem+json"))
    );
    assert!(problem["detail"].as_str().unwrap().contains("cannot bind"), "{problem}");
    assert_eq!(admin_get(&t, "/api/v1/actors/busy").await.0, 404);

    // A second listener, added and then paused: its own readiness drops, the others' do not.
    let port = free_port();
    let second = json!({ "id": "second", "type": "http", "listen": format!("127.0.0.1:{port}") });
    let (status, info) = admin_call(&t, reqwest::Method::POST, "/api/v1/sources", Some(second)).await;
    assert_eq!((status, info["origin"].as_str()), (201, Some("admin")), "{info}");
    let second_addr: std::net::SocketAddr = info["listen"].as_str().unwrap().parse().unwrap();
    assert_eq!(listener_ready(second_addr).await, 200);
    assert_eq!(admin_call(&t, reqwest::Method::POST, "/api/v1/actors/second/pause", None).await.0, 200);
    assert_eq!(listener_ready(second_addr).await, 503);
    assert_eq!(admin_get(&t, "/readyz/second").await.0, 503);
    assert_eq!(listener_ready(t.addr).await, 200, "the api listener stays in rotation");
    assert_eq!(admin_get(&t, "/readyz/api").await.0, 200);

    // An admin-added sink that keeps crashing ends FAILED: listed, but the instance stays ready.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let broken = json!({ "id": "broken", "type": "file", "dir": blocker.path().join("under-a-file") });
    assert_eq!(admin_call(&t, reqwest::Method::POST, "/api/v1/sinks", Some(broken)).await.0, 201);
    t.failed("broken", Duration::from_secs(30)).await;
    let (status, ready) = admin_get(&t, "/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready["degraded"].to_string().contains("broken: FAILED"), "{ready}");
    assert_eq!(admin_get(&t, "/readyz/broken").await.0, 503);
    assert_eq!(admin_get(&t, "/readyz/nobody").await.0, 404);
    t.stop().await;
}

#[actix_rt::test]
async fn admin_errors_are_problem_documents_and_wrong_methods_answer_405() {
    let t = TestApp::start("adminproblem").await;
    let (status, p) = admin_call(&t, reqwest::Method::DELETE, "/api/v1/actors", None).await;
    assert_eq!((status, p["code"].as_str()), (405, Some("method.not_allowed")), "{p}");
    let r = reqwest::Client::new()
        .put(format!("http://{}/api/v1/actors/api", t.app.admin_addr().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, DELETE");
    let (status, p) = admin_call(&t, reqwest::Method::GET, "/api/v1/actors/nobody", None).await;
    assert_eq!(
        (status, p["code"].as_str(), p["content-type"].as_str()),
        (404, Some("actor.not_found"), Some("application/problem+json"))
    );
    let (status, p) = admin_call(&t, reqwest::Method::GET, "/nowhere", None).await;
    assert_eq!((status, p["code"].as_str()), (404, Some("route.not_found")));
    let bad = json!({ "id": "x", "type": "http", "listen": "nope" });
    let (status, p) = admin_call(&t, reqwest::Method::POST, "/api/v1/sources", Some(bad)).await;
    assert_eq!((status, p["code"].as_str()), (400, Some("config.invalid")), "{p}");
    assert!(p["errors"].as_array().is_some_and(|e| !e.is_empty()), "{p}");
    // The route label names the route that answered, not always /v1/events.
    let event = fixtures::receipt(&fixtures::e2e(OTHER)).to_string();
    let r = reqwest::Client::new()
        .post(t.url("/v1/spi"))
        .header("content-type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let requests = &t.app.metrics().http_requests;
    assert_eq!(requests.with_label_values(&["api", "/v1/spi", "200"]).get(), 1);
    assert_eq!(requests.with_label_values(&["api", "/v1/events", "200"]).get(), 0);
    // No config file behind an in-process app: a reload says so.
    let (status, p) = admin_call(&t, reqwest::Method::POST, "/api/v1/reload", None).await;
    assert_eq!((status, p["code"].as_str()), (409, Some("reload.no_file")), "{p}");
    t.stop().await;
}
