//! Entries sent to the admin API read only the environment variables `admin.allowed_env` names:
//! a `${VAR}` reference to any other (the admin token's own variable, `PATH`) is refused with 400
//! naming the variable and never its value; an allowed one is accepted, against the real broker.

use serde_json::{Value, json};

use crate::config_builder::{ADMIN_TOKEN, ConfigBuilder};
use crate::harness::TestApp;

async fn add_sink(t: &TestApp, entry: &Value) -> (u16, Value, String) {
    let admin = t.app.admin_addr().unwrap();
    let r = reqwest::Client::new()
        .post(format!("http://{admin}/api/v1/sinks"))
        .bearer_auth(ADMIN_TOKEN)
        .json(entry)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default(), text)
}

#[actix_rt::test]
async fn admin_entries_read_only_the_allowed_environment() {
    let t = TestApp::start_with(&ConfigBuilder::for_test("admin-env").admin_allowed_env(&["HOME"])).await;
    let sink = |url: &str, token: &str| json!({"id": "scoring", "type": "http", "url": url, "bearer_token": token, "topics": ["payment"]});

    // The admin token's variable in a secret field: refused, named.
    let (status, body, _) = add_sink(&t, &sink("http://127.0.0.1:9/score", "${PIX_INGEST_ADMIN_TOKEN}")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["variable"], "PIX_INGEST_ADMIN_TOKEN", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("admin.allowed_env"), "{body}");

    // A variable that is set (PATH) in a plain field, with a default: refused, its value never echoed.
    let path = std::env::var("PATH").unwrap();
    let (status, body, text) = add_sink(&t, &sink("http://127.0.0.1:9/${PATH:-x}", "${HOME}")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["variable"], "PATH", "{body}");
    assert!(!text.contains(&path), "the value is never in the answer: {text}");
    assert_eq!(t.app.children().await.len(), 1, "nothing was added");

    // The allowed variable: accepted and running.
    let (status, body, _) = add_sink(&t, &sink("http://127.0.0.1:9/score", "${HOME}")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(t.child("scoring").await.id, "scoring");
    t.stop().await;
}
