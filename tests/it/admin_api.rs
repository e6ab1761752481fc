//! The mutating admin API against the real broker: the token, adding a sink at runtime, pause
//! (no progress) and resume (it catches up), validation errors, graceful delete with its offsets
//! committed, and changes that survive a restart of pix-ingest.

use std::time::Duration;

use serde_json::json;

use crate::config_builder::{ADMIN_TOKEN as TOKEN, ConfigBuilder};
use crate::fixtures::{self, OTHER, OWN};
use crate::harness::TestApp;
use crate::kafka::group_lag;
use crate::wait::{holds, wait_until};

pub async fn call(
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

/// Waits until sink `id` has written exactly `n` events.
async fn wait_written(t: &TestApp, what: &str, id: &str, n: u64) {
    wait_until(what, Duration::from_secs(30), async || {
        let written = t.written(id);
        holds(written == n, format!("{id} wrote {written}"))
    })
    .await;
}

async fn post_events(t: &TestApp, n: usize) {
    let events: Vec<_> = (0..n).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    assert_eq!(t.post_events(&events).await.status, 200);
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
    let t = TestApp::start_with(&ConfigBuilder::for_test("notoken").no_admin_token()).await;
    let admin = t.app.admin_addr().unwrap();
    let (status, json) =
        call(reqwest::Method::POST, format!("http://{admin}/api/v1/sources"), Some(""), Some(body)).await;
    assert_eq!(status, 401, "{json}");
    assert!(json["detail"].as_str().unwrap().contains("no admin.token"));
    t.stop().await;
}

#[actix_rt::test]
async fn add_a_sink_at_runtime_pause_resume_and_delete_it_gracefully() {
    // `witness`: a sink on the same topics that nobody pauses, to compare the paused one with. It
    // writes only when a batch is 300 ms old, later than `landing` (5 events, 100 ms) would.
    let witness = tempfile::tempdir().unwrap();
    let config = ConfigBuilder::for_test("lifecycle").sink(json!({
        "id": "witness", "type": "file", "dir": witness.path(), "batch": { "max_events": 1000, "max_age": "300ms" }
    }));
    let t = TestApp::start_with(&config).await;
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
    wait_written(&t, "the new sink to consume", "landing", 10).await;

    let (status, json) = call(reqwest::Method::POST, format!("{base}/actors/landing/pause"), Some(TOKEN), None).await;
    assert_eq!((status, json["state"].as_str()), (200, Some("PAUSED")), "{json}");
    let (status, _) = call(reqwest::Method::POST, format!("{base}/actors/landing/pause"), Some(TOKEN), None).await;
    assert_eq!(status, 409, "already paused");
    post_events(&t, 10).await;
    // No progress while paused: once the witness has written the new events, a running `landing`
    // would have too; the paused one has not moved.
    wait_written(&t, "the witness to write the new events", "witness", 20).await;
    assert_eq!(t.written("landing"), 10, "a paused sink writes nothing");

    let (status, json) = call(reqwest::Method::POST, format!("{base}/actors/landing/resume"), Some(TOKEN), None).await;
    assert_eq!((status, json["state"].as_str()), (200, Some("RUNNING")), "{json}");
    wait_written(&t, "the sink to catch up", "landing", 20).await;

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
    wait_written(&t, "the replaced sink to consume", "landing", 24).await;

    let (status, _) = call(reqwest::Method::DELETE, format!("{base}/actors/landing"), Some(TOKEN), None).await;
    assert_eq!(status, 204);
    assert!(t.app.children().await.iter().all(|c| c.id != "landing"));
    assert_eq!(call(reqwest::Method::GET, format!("{base}/actors/landing"), None, None).await.0, 404);

    // its group committed everything it wrote: nothing to re-deliver, nothing lost
    let (b, topic) = (t.bootstrap.clone(), t.topics.receipt.clone());
    let lag = tokio::task::spawn_blocking(move || group_lag(&b, "pix-ingest.landing", &topic)).await.unwrap();
    assert_eq!(lag, 0, "offsets committed up to the end");
    t.stop().await;
}

#[actix_rt::test]
async fn changes_made_through_the_api_survive_a_restart() {
    let config =
        ConfigBuilder::for_test("persist").source(json!({ "id": "extra", "type": "http", "listen": "127.0.0.1:0" }));
    let t = TestApp::start_with(&config).await;
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

    let t = TestApp::start_with(&config).await;
    let mut got: Vec<(String, String)> =
        t.app.children().await.into_iter().map(|c| (c.id, c.state.as_str().to_owned())).collect();
    got.sort();
    assert_eq!(
        got,
        [("added".into(), "RUNNING".into()), ("api".into(), "PAUSED".into())],
        "the YAML's `extra` stays deleted"
    );
    // what came back from the state file is still the admin API's (it does not decide /readyz)
    let (added, api) = (t.child("added").await.origin, t.child("api").await.origin);
    assert_eq!(serde_json::to_value([added, api]).unwrap(), json!(["admin", "config"]));
    t.stop().await;
}

#[actix_rt::test]
async fn the_router_is_restarted_through_the_api_and_keeps_routing() {
    let t = TestApp::start("pipeline-restart").await;
    let base = format!("http://{}/api/v1", t.app.admin_addr().unwrap());
    let (status, _) = call(reqwest::Method::POST, format!("{base}/actors/router/pause"), Some(TOKEN), None).await;
    assert_eq!(status, 409, "a pipeline actor can only be restarted");
    let (status, json) = call(reqwest::Method::POST, format!("{base}/actors/router/restart"), Some(TOKEN), None).await;
    assert_eq!((status, json["kind"].as_str()), (200, Some("pipeline")), "{json}");
    wait_until("the router to count its restart", Duration::from_secs(30), async || {
        let (_, json) = call(reqwest::Method::GET, format!("{base}/actors/router"), None, None).await;
        holds(json["restarts"] == 1 && json["state"] == "RUNNING", json.to_string())
    })
    .await;
    // the same address keeps working: the next event is routed by the fresh producer
    post_events(&t, 1).await;
    t.stop().await;
}
