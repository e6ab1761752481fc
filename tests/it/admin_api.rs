//! The mutating admin API against the real broker: the token, adding a sink at runtime, pause
//! (no progress) and resume (it catches up), validation errors, graceful delete with its offsets
//! committed, and changes that survive a restart of pix-ingest.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::fixtures::{self, OTHER, OWN};
use crate::harness::{TestApp, Topics, bootstrap, config_yaml, unique};

const TOKEN: &str = "t0k3n";

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<String>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

fn written(t: &TestApp, sink: &str) -> u64 {
    t.app.metrics().sink_written.with_label_values(&[sink]).get()
}

async fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_events(t: &TestApp, n: usize) {
    let events: Vec<_> = (0..n).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    assert_eq!(t.post("application/json", serde_json::json!(events).to_string()).await.status, 200);
}

#[actix_rt::test]
async fn mutations_need_the_bearer_token() {
    let t = TestApp::start("auth").await;
    let admin = t.app.admin_addr().unwrap();
    let body = r#"{"id": "x", "type": "generator", "total": 1}"#.to_owned();
    let url = format!("http://{admin}/api/v1/sources");
    assert_eq!(call(reqwest::Method::POST, url.clone(), None, Some(body.clone())).await.0, 401);
    assert_eq!(call(reqwest::Method::POST, url.clone(), Some("wrong"), Some(body.clone())).await.0, 401);
    assert_eq!(call(reqwest::Method::POST, format!("http://{admin}/api/v1/actors/api/pause"), None, None).await.0, 401);
    assert_eq!(call(reqwest::Method::DELETE, format!("http://{admin}/api/v1/actors/api"), None, None).await.0, 401);
    // reads need no token; the OpenAPI document is served
    let (status, doc) = call(reqwest::Method::GET, format!("http://{admin}/api/v1/openapi.json"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(t.app.children().await.len(), 1, "nothing was added");
    t.stop().await;

    // with no token configured, every mutation is refused
    let b = bootstrap();
    let topics = Topics::new(&unique("notoken"));
    let yaml = config_yaml(&b, &topics, "", "").replace("  token: \"t0k3n\"\n", "");
    let t = TestApp::start_yaml(&b, topics, &yaml).await;
    let admin = t.app.admin_addr().unwrap();
    let (status, json) =
        call(reqwest::Method::POST, format!("http://{admin}/api/v1/sources"), Some(""), Some(body)).await;
    assert_eq!(status, 401, "{json}");
    assert!(json["error"].as_str().unwrap().contains("no admin.token"));
    t.stop().await;
}

#[actix_rt::test]
async fn add_a_sink_at_runtime_pause_resume_and_delete_it_gracefully() {
    let t = TestApp::start("lifecycle").await;
    let admin = t.app.admin_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{admin}/api/v1");

    // validated like the YAML: the field is named
    let bad = r#"{"id": "landing", "type": "file", "dir": "/tmp/x", "batch": {"max_events": "many"}}"#.to_owned();
    let (status, json) = call(reqwest::Method::POST, format!("{base}/sinks"), Some(TOKEN), Some(bad)).await;
    assert_eq!(status, 400, "{json}");
    assert!(json["errors"][0]["field"].as_str().unwrap().contains("max_events"), "{json}");

    let sink = format!(
        r#"{{"id": "landing", "type": "file", "dir": "{}", "batch": {{"max_events": 5, "max_age": "100ms"}}}}"#,
        dir.path().display()
    );
    let (status, json) = call(reqwest::Method::POST, format!("{base}/sinks"), Some(TOKEN), Some(sink.clone())).await;
    assert_eq!(status, 201, "{json}");
    assert_eq!((json["kind"].as_str(), json["state"].as_str()), (Some("sink"), Some("RUNNING")));
    let (status, _) = call(reqwest::Method::POST, format!("{base}/sinks"), Some(TOKEN), Some(sink)).await;
    assert_eq!(status, 409, "the id exists");

    post_events(&t, 10).await;
    wait_for("the new sink to consume", Duration::from_secs(30), || written(&t, "landing") == 10).await;

    let (status, json) = call(reqwest::Method::POST, format!("{base}/actors/landing/pause"), Some(TOKEN), None).await;
    assert_eq!((status, json["state"].as_str()), (200, Some("PAUSED")), "{json}");
    let (status, _) = call(reqwest::Method::POST, format!("{base}/actors/landing/pause"), Some(TOKEN), None).await;
    assert_eq!(status, 409, "already paused");
    post_events(&t, 10).await;
    // No progress while paused: observed over a window several times the batch age.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(written(&t, "landing"), 10, "a paused sink writes nothing");

    let (status, json) = call(reqwest::Method::POST, format!("{base}/actors/landing/resume"), Some(TOKEN), None).await;
    assert_eq!((status, json["state"].as_str()), (200, Some("RUNNING")), "{json}");
    wait_for("the sink to catch up", Duration::from_secs(30), || written(&t, "landing") == 20).await;

    // replace its config (validated, then it restarts with it) and restart it
    let replaced = format!(
        r#"{{"id": "landing", "type": "file", "dir": "{}", "batch": {{"max_events": 3, "max_age": "50ms"}}}}"#,
        dir.path().display()
    );
    let (status, json) =
        call(reqwest::Method::PUT, format!("{base}/actors/landing/config"), Some(TOKEN), Some(replaced)).await;
    assert_eq!((status, json["state"].as_str()), (200, Some("RUNNING")), "{json}");
    let renamed = format!(r#"{{"id": "other", "type": "file", "dir": "{}"}}"#, dir.path().display());
    let (status, _) =
        call(reqwest::Method::PUT, format!("{base}/actors/landing/config"), Some(TOKEN), Some(renamed)).await;
    assert_eq!(status, 400, "the id cannot change");
    let (status, json) = call(reqwest::Method::POST, format!("{base}/actors/landing/restart"), Some(TOKEN), None).await;
    assert_eq!((status, json["state"].as_str()), (200, Some("RUNNING")), "{json}");
    post_events(&t, 4).await;
    wait_for("the replaced sink to consume", Duration::from_secs(30), || written(&t, "landing") == 24).await;

    let (status, _) = call(reqwest::Method::DELETE, format!("{base}/actors/landing"), Some(TOKEN), None).await;
    assert_eq!(status, 204);
    assert!(t.app.children().await.iter().all(|c| c.id != "landing"));
    assert_eq!(call(reqwest::Method::GET, format!("{base}/actors/landing"), None, None).await.0, 404);

    // its group committed everything it wrote: nothing to re-deliver, nothing lost
    let (b, topic) = (t.bootstrap.clone(), t.topics.receipt.clone());
    let lag = tokio::task::spawn_blocking(move || {
        let c: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &b)
            .set("group.id", "pix-ingest.landing")
            .create()
            .unwrap();
        let md = c.fetch_metadata(Some(&topic), Duration::from_secs(10)).unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in md.topics()[0].partitions() {
            tpl.add_partition(&topic, p.id());
        }
        let committed = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
        let mut lag = 0;
        for e in committed.elements() {
            let (_, high) = c.fetch_watermarks(&topic, e.partition(), Duration::from_secs(10)).unwrap();
            let at = match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            };
            lag += high - at;
        }
        lag
    })
    .await
    .unwrap();
    assert_eq!(lag, 0, "offsets committed up to the end");
    t.stop().await;
}

#[actix_rt::test]
async fn changes_made_through_the_api_survive_a_restart() {
    let b = bootstrap();
    let topics = Topics::new(&unique("persist"));
    let yaml = config_yaml(&b, &topics, "  - { id: extra, type: http, listen: \"127.0.0.1:0\" }", "");
    let t = TestApp::start_yaml(&b, topics.clone(), &yaml).await;
    let admin = t.app.admin_addr().unwrap();
    let base = format!("http://{admin}/api/v1");
    let dir = tempfile::tempdir().unwrap();
    let sink = format!(r#"{{"id": "added", "type": "file", "dir": "{}"}}"#, dir.path().display());
    assert_eq!(call(reqwest::Method::POST, format!("{base}/sinks"), Some(TOKEN), Some(sink)).await.0, 201);
    assert_eq!(call(reqwest::Method::POST, format!("{base}/actors/api/pause"), Some(TOKEN), None).await.0, 200);
    assert_eq!(call(reqwest::Method::DELETE, format!("{base}/actors/extra"), Some(TOKEN), None).await.0, 204);
    // a paused HTTP source takes nothing in
    let r = t.post("application/json", fixtures::payment(&fixtures::e2e(OWN)).to_string()).await;
    assert_eq!(r.status, 503);
    t.stop().await;

    let t = TestApp::start_yaml(&b, topics, &yaml).await;
    let mut got: Vec<(String, String)> =
        t.app.children().await.into_iter().map(|c| (c.id, c.state.as_str().to_owned())).collect();
    got.sort();
    assert_eq!(
        got,
        [("added".into(), "RUNNING".into()), ("api".into(), "PAUSED".into())],
        "the YAML's `extra` stays deleted"
    );
    t.stop().await;
}
