//! Sinks against the real broker: the HTTP sink (retries with the same Idempotency-Key, 400 to the
//! DLQ, a down service loses nothing), the file sink (complete files only, partitioned), and a
//! poison record that ends in the DLQ with its coordinates without stopping the sink.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER, OWN};
use crate::harness::TestApp;
use crate::kafka::{headers, produce_raw, read_all_async};
use crate::service::free_port;
use crate::wait::{holds, wait_until};

/// What the fake scoring service saw.
#[derive(Default)]
pub(crate) struct Seen {
    attempts: HashMap<String, u32>,
    accepted: Vec<(String, serde_json::Value)>,
}

/// A scoring service that answers 503 to the first two attempts of every key, 400 to events of
/// amount 4.00, and 200 otherwise.
async fn scoring(req: HttpRequest, body: web::Bytes, seen: web::Data<Arc<Mutex<Seen>>>) -> HttpResponse {
    let key = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut s = seen.lock().unwrap();
    let n = {
        let a = s.attempts.entry(key.clone()).or_default();
        *a += 1;
        *a
    };
    if event["amount"] == "4.00" {
        return HttpResponse::BadRequest().finish();
    }
    if n <= 2 {
        return HttpResponse::ServiceUnavailable().finish();
    }
    s.accepted.push((key, event));
    HttpResponse::Ok().finish()
}

pub(crate) fn start_scoring(port: u16, seen: Arc<Mutex<Seen>>) -> actix_web::dev::ServerHandle {
    let server = HttpServer::new(move || {
        App::new().app_data(web::Data::new(Arc::clone(&seen))).route("/score", web::post().to(scoring))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", port))
    .unwrap()
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    handle
}

async fn start_with_sink(test: &str, sink: Value) -> TestApp {
    TestApp::start_with(&ConfigBuilder::for_test(test).sink(sink)).await
}

/// The HTTP sink `scoring` posting to the fake service on `port`.
fn scoring_sink(port: u16, max_age: &str) -> Value {
    json!({
        "id": "scoring", "type": "http", "url": format!("http://127.0.0.1:{port}/score"), "max_attempts": 4,
        "backoff_initial": "20ms", "backoff_max": "100ms", "batch": { "max_events": 10, "max_age": max_age }
    })
}

#[actix_rt::test]
async fn http_sink_retries_with_the_same_key_and_dead_letters_a_400() {
    let port = free_port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server = start_scoring(port, Arc::clone(&seen));
    let t = start_with_sink("httpsink", scoring_sink(port, "200ms")).await;
    let (a, b) = (fixtures::payment(&fixtures::e2e(OWN)), fixtures::receipt(&fixtures::e2e(OTHER)));
    let mut refused = fixtures::payment(&fixtures::e2e(OWN));
    refused["amount"] = json!("4.00");
    let r = t.post_events(&[a, b, refused]).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let ids: Vec<String> =
        r.json["results"].as_array().unwrap().iter().map(|x| x["event_id"].as_str().unwrap().to_owned()).collect();

    wait_until("two events scored", Duration::from_secs(30), async || {
        let n = seen.lock().unwrap().accepted.len();
        holds(n >= 2, n)
    })
    .await;
    wait_until("the refused event dead-lettered", Duration::from_secs(30), async || {
        let n = read_all_async(&t.bootstrap, &t.topics.dlq).await.len();
        holds(n == 1, format!("{n} dead letters"))
    })
    .await;
    {
        let s = seen.lock().unwrap();
        let mut keys: Vec<&str> = s.accepted.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort();
        let mut want = vec![ids[0].as_str(), ids[1].as_str()];
        want.sort();
        assert_eq!(keys, want, "the Idempotency-Key is the event id");
        for (k, ev) in &s.accepted {
            assert_eq!(s.attempts[k], 3, "two 503s, then the same key again");
            assert_eq!(ev["event_id"].as_str(), Some(k.as_str()));
        }
        assert_eq!(s.attempts[&ids[2]], 1, "a 400 is not retried");
    }
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    let h = headers(&dlq[0]);
    assert_eq!(h["pix-dlq-stage"], "sink_write");
    assert_eq!(h["pix-dlq-reason"], "sink.http.rejected");
    assert_eq!(h["pix-source"], "scoring");
    assert_eq!(h["pix-dlq-origin-topic"], t.topics.payment);
    assert!(h.contains_key("pix-dlq-origin-partition") && h.contains_key("pix-dlq-origin-offset"));
    let v: serde_json::Value = serde_json::from_slice(rdkafka::Message::payload(&dlq[0]).unwrap()).unwrap();
    assert_eq!(v["event_id"].as_str(), Some(ids[2].as_str()));
    t.stop().await;
    server.stop(true).await;
}

#[actix_rt::test]
async fn http_sink_loses_nothing_while_the_service_is_down() {
    let port = free_port();
    let t = start_with_sink("httpdown", scoring_sink(port, "100ms")).await;
    let events: Vec<_> = (0..5).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    assert_eq!(t.post_events(&events).await.status, 200);
    // the sink retries against nothing listening
    wait_until("the sink to retry", Duration::from_secs(30), async || {
        let retries = t.app.metrics().sink_retries.with_label_values(&["scoring"]).get();
        holds(retries >= 2, format!("{retries} retries"))
    })
    .await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server = start_scoring(port, Arc::clone(&seen));
    wait_until("every event delivered once the service is up", Duration::from_secs(60), async || {
        let n = seen.lock().unwrap().accepted.len();
        holds(n >= 5, format!("{n} of 5 delivered"))
    })
    .await;
    assert!(read_all_async(&t.bootstrap, &t.topics.dlq).await.is_empty(), "nothing dead-lettered");
    t.stop().await;
    server.stop(true).await;
}

/// Every file under `dir`, recursively (the sink tests' landing directories).
pub(crate) fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[actix_rt::test]
async fn file_sink_writes_complete_partitioned_files_and_a_poison_record_goes_to_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let sink = json!({
        "id": "landing", "type": "file", "dir": dir.path(), "batch": { "max_events": 7, "max_age": "300ms" }
    });
    let t = start_with_sink("filesink", sink).await;
    // a poison record straight into the payment topic
    let (poison_partition, poison_offset) =
        produce_raw(&t.bootstrap, &t.topics.payment, b"definitely not an event").await;

    let mut expected = HashMap::new();
    for _ in 0..4 {
        let r = t.post_events(&fixtures::mixed(5)).await;
        assert_eq!(r.status, 200);
        for x in r.json["results"].as_array().unwrap() {
            expected.insert(x["event_id"].as_str().unwrap().to_owned(), x["category"].as_str().unwrap().to_owned());
        }
    }
    let root = dir.path().to_owned();
    wait_until("every event in a complete file", Duration::from_secs(60), async || {
        // whatever is visible under a final name is complete at every moment
        let mut lines = 0;
        for f in files(&root) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                assert!(name.starts_with(".part-landing-"), "temp files are hidden: {name}");
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(text.ends_with('\n'), "a visible file is complete: {}", f.display());
            lines += text.lines().count();
        }
        holds(lines >= expected.len(), format!("{lines} of {} lines", expected.len()))
    })
    .await;
    let mut seen = HashMap::new();
    for f in files(dir.path()).into_iter().filter(|f| !f.to_string_lossy().ends_with(".tmp")) {
        let rel = f.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let dt = &v["event_time"].as_str().unwrap()[..10];
            let cat = v["category"].as_str().unwrap();
            assert!(rel.starts_with(&format!("dt={dt}/category={cat}/part-landing-")), "{rel}");
            assert!(seen.insert(v["event_id"].as_str().unwrap().to_owned(), cat.to_owned()).is_none(), "no duplicates");
        }
    }
    assert_eq!(seen, expected);
    let e2e = t.app.metrics().end_to_end_seconds.with_label_values(&["landing"]);
    assert_eq!(e2e.get_sample_count() as usize, expected.len(), "end-to-end latency observed per written event");

    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 1);
    let h = headers(&dlq[0]);
    assert_eq!(h["pix-dlq-stage"], "sink_decode");
    assert_eq!(h["pix-dlq-origin-topic"], t.topics.payment);
    assert_eq!(h["pix-dlq-origin-partition"], poison_partition.to_string());
    assert_eq!(h["pix-dlq-origin-offset"], poison_offset.to_string());
    assert_eq!(rdkafka::Message::payload(&dlq[0]), Some(b"definitely not an event".as_slice()));
    t.stop().await;
}
