//! No 2xx for a record the broker did not acknowledge: a private broker is killed and the next
//! request must get 503 with Retry-After and nothing reported accepted.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::{TestApp, Topics, repo, unique};
use crate::wait::{holds, wait_until_blocking};

fn kafka_script(args: &[&str]) -> String {
    let out = Command::new(repo().join("scripts/kafka")).args(args).output().expect("scripts/kafka");
    assert!(out.status.success(), "scripts/kafka {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn kill9(dir: &Path) {
    let pid = std::fs::read_to_string(dir.join("pid")).unwrap();
    let st = Command::new("kill").args(["-9", pid.trim()]).status().unwrap();
    assert!(st.success());
    // wait until the process is gone (the port closes with it)
    wait_until_blocking("the killed broker to exit", Duration::from_secs(30), || {
        let alive = Command::new("kill").args(["-0", pid.trim()]).stderr(Stdio::null()).status().unwrap().success();
        holds(!alive, format!("pid {} still alive", pid.trim()))
    });
}

#[actix_rt::test]
async fn broker_stopped_means_503_and_nothing_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let broker = dir.path().join("broker");
    let bootstrap = kafka_script(&["start", broker.to_str().unwrap()]);
    let config = ConfigBuilder::new(&bootstrap, Topics::new(&unique("down")))
        .delivery_timeout(Duration::from_secs(2))
        .api_request_timeout(Duration::from_secs(4));
    let t = TestApp::start_with(&config).await;

    let ok = t.post("application/json", fixtures::payment(&fixtures::e2e(OWN)).to_string()).await;
    assert_eq!(ok.status, 200, "the broker is up: {}", ok.json);

    kill9(&broker);
    let body = serde_json::json!([fixtures::payment(&fixtures::e2e(OWN)), fixtures::bad_cpf(&fixtures::e2e(OWN))]);
    let r = t.post("application/json", body.to_string()).await;
    assert_eq!(r.status, 503, "{}", r.json);
    assert_eq!(r.retry_after.as_deref(), Some("5"));
    assert_eq!(r.json["accepted"], 0, "nothing reported accepted: {}", r.json);
    assert_eq!(r.json["rejected"], 0, "a rejection is reported only once its dead letter is durable: {}", r.json);
    for res in r.json["results"].as_array().unwrap() {
        assert_eq!(res["status"], "unavailable", "{res}");
        assert!(res.get("offset").is_none());
    }
    t.stop().await;
    kafka_script(&["stop", broker.to_str().unwrap()]);
}

#[actix_rt::test]
async fn a_broker_outage_is_answered_503_at_once_while_the_breaker_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let broker = dir.path().join("broker");
    let bootstrap = kafka_script(&["start", broker.to_str().unwrap()]);
    let config = ConfigBuilder::new(&bootstrap, Topics::new(&unique("breaker")))
        .delivery_timeout(Duration::from_secs(2))
        .api_request_timeout(Duration::from_secs(4));
    let t = TestApp::start_with(&config).await;
    assert_eq!(t.post("application/json", fixtures::payment(&fixtures::e2e(OWN)).to_string()).await.status, 200);
    assert_eq!(t.app.metrics().breaker_open.get(), 0);

    kill9(&broker);
    let killed = std::time::Instant::now();
    crate::wait::wait_until("the producers to notice the outage", Duration::from_secs(30), async || {
        holds(t.app.metrics().breaker_open.get() == 1, t.app.metrics().breaker_open.get())
    })
    .await;
    let noticed = killed.elapsed();
    let body = serde_json::json!([fixtures::payment(&fixtures::e2e(OWN)), fixtures::bad_cpf(&fixtures::e2e(OWN))]);
    let asked = std::time::Instant::now();
    let r = t.post("application/json", body.to_string()).await;
    let answered = asked.elapsed();
    eprintln!("broker killed: breaker open after {noticed:?}; a request answered in {answered:?}");
    assert_eq!(r.status, 503, "{}", r.json);
    assert!(answered < Duration::from_secs(2), "503 at once, not after the delivery timeout: {answered:?}");
    assert_eq!(r.retry_after.as_deref(), Some("5"));
    assert_eq!(r.json["code"], "kafka.unavailable", "{}", r.json);
    assert_eq!((r.json["accepted"].as_u64(), r.json["rejected"].as_u64()), (Some(0), Some(0)), "{}", r.json);
    let results = r.json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|x| x["status"] == "unavailable"), "{}", r.json);
    assert!(t.app.metrics().backpressure.with_label_values(&["api", "kafka_unavailable"]).get() >= 1);
    t.stop().await;
    kafka_script(&["stop", broker.to_str().unwrap()]);
}
